/** How a suite gets a fresh subject per test, and gives it back. */
export interface SubjectFactory<T> {
  create(): Promise<T>;
  dispose?(subject: T): Promise<void>;
}

/** Capabilities an adapter may lack; each skip is visible (test.skip with the reason in its title). */
export interface SuiteOptions {
  readonly skip?: Readonly<Record<string, string>>;
}

export function maybe(options: SuiteOptions | undefined, name: string): { run: jest.It; title: string } {
  const reason = options?.skip?.[name];
  return reason === undefined ? { run: test, title: name } : { run: test.skip, title: `${name} [SKIPPED: ${reason}]` };
}
