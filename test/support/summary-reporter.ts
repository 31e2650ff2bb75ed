// Prints the closing line CI reads, alone on its line: "N passed, N failed, N skipped".
// Files that fail to load and unhandled errors count as failures.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0,
      failed = 0,
      skipped = 0;
    for (const mod of testModules) {
      let cases = 0;
      for (const test of mod.children.allTests()) {
        cases++;
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A module that failed to import or whose hooks threw reports no (or no failed) cases.
      if (
        mod.state() === 'failed' &&
        (cases === 0 || ![...mod.children.allTests()].some((t) => t.result().state === 'failed'))
      )
        failed++;
    }
    failed += unhandledErrors.length;
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
