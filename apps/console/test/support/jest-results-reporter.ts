// Writes the run's counts as .jest-results.json (the shape scripts/jest-summary.js adds up), so
// the console's browser tests count in the suite's closing line like every Jest run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class JestResultsReporter implements Reporter {
  private readonly results: { name: string; status: TestResult['status'] }[] = [];

  onTestEnd(test: TestCase, result: TestResult): void {
    // The last attempt counts (retries are off, but stay correct if they are turned on).
    const name = test.titlePath().filter(Boolean).join(' › ');
    const i = this.results.findIndex((r) => r.name === name);
    if (i >= 0) this.results.splice(i, 1);
    this.results.push({ name, status: result.status });
  }

  onEnd(result: FullResult): void {
    const passed = this.results.filter((r) => r.status === 'passed').length;
    const skipped = this.results.filter((r) => r.status === 'skipped').length;
    const failed = this.results.length - passed - skipped;
    const runFailed = result.status !== 'passed' && failed === 0 ? 1 : 0;
    const out = {
      numPassedTests: passed,
      numFailedTests: failed,
      numPendingTests: skipped,
      numTodoTests: 0,
      numTotalTestSuites: 1,
      numFailedTestSuites: failed > 0 || runFailed ? 1 : 0,
      numRuntimeErrorTestSuites: runFailed,
      testResults: [
        {
          assertionResults: this.results.map((r) => ({
            fullName: r.name,
            status: r.status === 'passed' ? 'passed' : r.status === 'skipped' ? 'pending' : 'failed',
          })),
        },
      ],
    };
    writeFileSync(join(__dirname, '..', '..', '.jest-results.json'), JSON.stringify(out));
  }
}
