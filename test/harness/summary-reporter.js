/**
 * A jest reporter that ends the run with one plain line — "N passed, N failed, N skipped" —
 * so any CI log reader sees the outcome without knowing jest's own summary format. It is
 * written when the process exits, after jest's own summary.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    // a suite that could not run at all (a syntax error, a failing global setup) counts as a failure
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped`;
    process.once('exit', () => process.stderr.write(`\n${line}\n`));
  }
}

module.exports = SummaryReporter;
