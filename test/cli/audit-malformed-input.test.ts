/**
 * Every malformed input gives exit status 2, nothing on standard output, and one message on
 * standard error that names the file and, where the problem has a place, its line and column.
 * A report that cannot be read is never taken to mean "no keys".
 */
import { fixture, runCli } from './run-cli';

describe('keyage audit --credential-report with malformed input', () => {
  it.each([
    ['truncated.csv', /truncated\.csv \(line 5, column 3\): invalid credential report: not valid CSV .*expect 22, got 2/],
    ['missing-columns.csv', /missing-columns\.csv \(line 1\): invalid credential report: missing column\(s\) access_key_1_active, access_key_2_last_rotated/],
    ['bad-date.csv', /bad-date\.csv \(line 3, column 10\): invalid credential report: access_key_1_last_rotated is "25\/11\/2026"; expected an ISO 8601 date-time or N\/A/],
    ['bad-boolean.csv', /bad-boolean\.csv \(line 3, column 9\): invalid credential report: access_key_1_active is "yes"; expected true or false/],
    ['empty.csv', /empty\.csv \(line 1, column 1\): invalid credential report: the file is empty/],
    ['blank.csv', /blank\.csv \(line 1, column 1\): invalid credential report: the report is empty/],
    ['binary-junk.bin', /binary-junk\.bin \(line 1, column 1\): invalid credential report: the report contains binary data, not CSV text/],
    ['unclosed-quote.csv', /unclosed-quote\.csv \(line 3, column 1\): invalid credential report: not valid CSV .*Quote Not Closed/],
    ['broken.json', /broken\.json: invalid credential report: the file looks like JSON but is not valid JSON/],
    ['json-without-content.json', /json-without-content\.json \(line 1\): invalid credential report: the file is JSON without a "Content" string/],
    ['mixed-accounts.csv', /mixed-accounts\.csv \(line 4\): invalid credential report: account 999999999999 differs from account 210987654321 \(line 2\)/],
    ['bad-arn.csv', /bad-arn\.csv \(line 3\): invalid credential report: arn "not-an-arn" is not the ARN of an IAM user or root/],
  ])('%s: exit 2 and a message naming the file, line and column', async (name, message) => {
    const run = await runCli(['audit', '--credential-report', fixture(name), '--now', '2026-11-25T12:00:00Z']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^keyage: test\/fixtures\/credential-reports\//);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('a file that does not exist: exit 2 naming the file', async () => {
    const run = await runCli(['audit', '--credential-report', 'no/such/report.csv']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('keyage: cannot read no/such/report.csv: no such file\n');
  });

  it('a directory instead of a file: exit 2 naming it', async () => {
    const run = await runCli(['audit', '--credential-report', 'examples']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('keyage: cannot read examples: it is a directory\n');
  });

  it('empty standard input: exit 2 naming <stdin>', async () => {
    const run = await runCli(['audit', '--credential-report', '-'], { readStdin: async () => Buffer.alloc(0) });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('keyage: <stdin> (line 1, column 1): invalid credential report: the file is empty\n');
  });

  it('base64 that is not base64: exit 2', async () => {
    const run = await runCli(['audit', '--credential-report', '-'], { readStdin: async () => Buffer.from('{"Content": "not base64!"}') });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('keyage: <stdin> (line 1): invalid credential report: "Content" is not valid base64\n');
  });
});
