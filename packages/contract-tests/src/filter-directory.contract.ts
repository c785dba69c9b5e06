import { type FilterDirectory, isOtaoError } from '@otao/core';
import { unique } from './shapes';
import { type SubjectFactory, suiteTest, type SuiteOptions } from './subject';

/** How EPR (the directory's source) misbehaves. */
export type FilterSourceFault =
  /** EPR receives the question and never answers (a timeout). */
  | 'silent'
  /** EPR answers with an error status (5xx: retried, then given up). */
  | 'server-error'
  /** EPR answers with a 4xx status (not retried). */
  | 'client-error';

/** A FilterDirectory under test, with the source it asks (EPR) under the suite's control. */
export interface FilterDirectorySubject {
  readonly directory: FilterDirectory;
  /** Sets, in the source, the endpoints of `appVersionName` that match `filterId` (replacing earlier ones). */
  setMembers(filterId: string, appVersionName: string, endpointIds: readonly string[]): Promise<void>;
  /** Makes the source misbehave from now on. */
  fail(fault: FilterSourceFault): Promise<void>;
  /** Makes the source answer normally again. */
  heal(): Promise<void>;
}

/** Endpoint ids per application version name, ids sorted (the port promises no order). */
function normalized(m: ReadonlyMap<string, readonly string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of m) out[k] = [...v].sort();
  return out;
}

async function unavailable(p: Promise<unknown>): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeDefined();
  expect(isOtaoError(e) ? e.code : e).toBe('dependency.unavailable');
}

/**
 * The contract of FilterDirectory (20/EFMP questions to EPR): the members of a filter by application
 * version name, empty for an unknown filter; the filters of an endpoint; an answer is what EPR knew
 * when asked (later changes do not alter it); and `OtaoError('dependency.unavailable')` when EPR
 * does not answer or answers an error, for both questions, until EPR answers again.
 */
export function filterDirectoryContract(name: string, factory: SubjectFactory<FilterDirectorySubject>, options?: SuiteOptions): void {
  describe(`FilterDirectory contract: ${name}`, () => {
    let s: FilterDirectorySubject;
    let f: string;
    let corr: string;
    const it = suiteTest(options);
    beforeEach(async () => {
      s = await factory.create();
      f = unique('filter');
      corr = unique('corr');
    });
    afterEach(async () => {
      await factory.dispose?.(s);
    });

    it('the members of a filter, by application version name', async () => {
      await s.setMembers(f, 'kettle-v1', ['ep-1', 'ep-2']);
      await s.setMembers(f, 'kettle-v2', ['ep-3']);
      await s.setMembers(`${f}-other`, 'kettle-v1', ['ep-9']);
      expect(normalized(await s.directory.endpointsByFilter(f, corr))).toEqual({ 'kettle-v1': ['ep-1', 'ep-2'], 'kettle-v2': ['ep-3'] });
      expect(normalized(await s.directory.endpointsByFilter(`${f}-other`, corr))).toEqual({ 'kettle-v1': ['ep-9'] });
    });

    it('an unknown filter has no members (an empty map, not an error)', async () => {
      await s.setMembers(f, 'kettle-v1', ['ep-1']);
      const m = await s.directory.endpointsByFilter(`${f}-unknown`, corr);
      expect(m.size).toBe(0);
    });

    it('an application version with no endpoint left stays empty, never absent-as-error', async () => {
      await s.setMembers(f, 'kettle-v1', ['ep-1']);
      await s.setMembers(f, 'kettle-v1', []);
      const m = normalized(await s.directory.endpointsByFilter(f, corr));
      expect(m['kettle-v1'] ?? []).toEqual([]);
    });

    it('an answer is what the source knew when asked: later changes do not alter it', async () => {
      await s.setMembers(f, 'kettle-v1', ['ep-1']);
      const before = await s.directory.endpointsByFilter(f, corr);
      await s.setMembers(f, 'kettle-v1', ['ep-1', 'ep-2']);
      await s.setMembers(f, 'kettle-v2', ['ep-3']);
      expect(normalized(before)).toEqual({ 'kettle-v1': ['ep-1'] });
      expect(normalized(await s.directory.endpointsByFilter(f, corr))).toEqual({ 'kettle-v1': ['ep-1', 'ep-2'], 'kettle-v2': ['ep-3'] });
    });

    it('the filters of an endpoint; none for an endpoint no filter matches', async () => {
      await s.setMembers(`${f}-a`, 'kettle-v1', ['ep-1', 'ep-2']);
      await s.setMembers(`${f}-b`, 'kettle-v1', ['ep-2']);
      await s.setMembers(`${f}-c`, 'kettle-v2', ['ep-2', 'ep-3']);
      expect([...(await s.directory.filtersOfEndpoint('ep-2', corr))].sort()).toEqual([`${f}-a`, `${f}-b`, `${f}-c`]);
      expect([...(await s.directory.filtersOfEndpoint('ep-1', corr))]).toEqual([`${f}-a`]);
      expect([...(await s.directory.filtersOfEndpoint('ep-nowhere', corr))]).toEqual([]);
    });

    it('source not answering: both questions throw dependency.unavailable', async () => {
      await s.setMembers(f, 'kettle-v1', ['ep-1']);
      await s.fail('silent');
      await unavailable(s.directory.endpointsByFilter(f, corr));
      await unavailable(s.directory.filtersOfEndpoint('ep-1', corr));
    });

    it('source answering a server error: both questions throw dependency.unavailable', async () => {
      await s.setMembers(f, 'kettle-v1', ['ep-1']);
      await s.fail('server-error');
      await unavailable(s.directory.endpointsByFilter(f, corr));
      await unavailable(s.directory.filtersOfEndpoint('ep-1', corr));
    });

    it('source answering a client error: both questions throw dependency.unavailable (never an empty answer)', async () => {
      await s.setMembers(f, 'kettle-v1', ['ep-1']);
      await s.fail('client-error');
      await unavailable(s.directory.endpointsByFilter(f, corr));
      await unavailable(s.directory.filtersOfEndpoint('ep-1', corr));
    });

    it('answers again once the source is back', async () => {
      await s.setMembers(f, 'kettle-v1', ['ep-1']);
      await s.fail('server-error');
      await unavailable(s.directory.endpointsByFilter(f, corr));
      await s.heal();
      expect(normalized(await s.directory.endpointsByFilter(f, corr))).toEqual({ 'kettle-v1': ['ep-1'] });
      expect([...(await s.directory.filtersOfEndpoint('ep-1', corr))]).toEqual([f]);
    });
  });
}
