/** How a suite gets a fresh subject per test, and gives it back. */
export interface SubjectFactory<T> {
  create(): Promise<T>;
  dispose?(subject: T): Promise<void>;
  /**
   * A second client of the same storage as `subject` (another connection, as another replica has),
   * for the tests of concurrent writers. Without it those tests use `subject` twice.
   */
  twin?(subject: T): Promise<T>;
}

/** Capabilities an adapter may lack; each skip is visible (test.skip with the reason in its title). */
export interface SuiteOptions {
  readonly skip?: Readonly<Record<string, string>>;
}

export function maybe(options: SuiteOptions | undefined, name: string): { run: jest.It; title: string } {
  const reason = options?.skip?.[name];
  return reason === undefined ? { run: test, title: name } : { run: test.skip, title: `${name} [SKIPPED: ${reason}]` };
}

/** `it(name, fn)` for a suite: a test, or a visible skip with its reason when `options.skip` names it. */
export function suiteTest(options: SuiteOptions | undefined): (name: string, fn: () => Promise<void>) => void {
  return (name, fn) => {
    const m = maybe(options, name);
    m.run(m.title, fn);
  };
}
