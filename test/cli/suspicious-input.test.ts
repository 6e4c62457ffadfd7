/**
 * Input that is wrong in a way `Date` or a column check would not see: impossible calendar dates
 * (refused, exit 2, naming the line and column or the option), and reports that are readable but
 * suspicious (said on standard error, the audit still made): the same user on several rows, a
 * report older than the rule would use, a clock before the report was made, and a report saved
 * with the AWS CLI's text, table or YAML output instead of JSON.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeDuration } from '../../cli/audit-credential-report';
import { parseNow } from '../../cli/options';
import { REPORT_HEADER } from '../harness/credential-report';
import { EXAMPLE, PINNED_NOW, ROOT, runCli } from './run-cli';

const ROOT_ROW = '<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A';

/** A user row; `over` replaces columns by name. */
function row(user: string, over: Record<string, string> = {}): string {
  const cells: Record<string, string> = {
    user,
    arn: `arn:aws:iam::123456789012:user/${user}`,
    user_creation_time: '2024-01-01T00:00:00+00:00',
    password_enabled: 'false',
    password_last_used: 'N/A',
    password_last_changed: 'N/A',
    password_next_rotation: 'N/A',
    mfa_active: 'false',
    access_key_1_active: 'true',
    access_key_1_last_rotated: '2026-10-26T12:00:00+00:00',
    access_key_1_last_used_date: '2026-11-20T09:00:00+00:00',
    access_key_1_last_used_region: 'us-east-1',
    access_key_1_last_used_service: 's3',
    access_key_2_active: 'false',
    access_key_2_last_rotated: 'N/A',
    access_key_2_last_used_date: 'N/A',
    access_key_2_last_used_region: 'N/A',
    access_key_2_last_used_service: 'N/A',
    cert_1_active: 'false',
    cert_1_last_rotated: 'N/A',
    cert_2_active: 'false',
    cert_2_last_rotated: 'N/A',
    ...over,
  };
  return REPORT_HEADER.split(',')
    .map((c) => cells[c] ?? 'N/A')
    .join(',');
}

const csv = (...rows: string[]) => `${[REPORT_HEADER, ROOT_ROW, ...rows].join('\n')}\n`;
const json = (content: string, generated: unknown) => JSON.stringify({ Content: Buffer.from(content).toString('base64'), ReportFormat: 'text/csv', GeneratedTime: generated });
const fromStdin = (text: string) => ({ readStdin: async () => Buffer.from(text) });

async function audit(input: string, ...args: string[]) {
  return runCli(['audit', '--credential-report', '-', ...args], fromStdin(input));
}

describe('impossible calendar dates are refused, never moved into the next month', () => {
  it.each([
    ['2026-02-30T10:00:00+00:00', 'access_key_1_last_rotated', 10, 'there is no February 30, 2026 (February 2026 has 28 days)'],
    ['2025-02-29T00:00:00+00:00', 'user_creation_time', 3, 'there is no February 29, 2025 (2025 is not a leap year)'],
    ['2026-04-31T08:00:00+00:00', 'access_key_1_last_used_date', 11, 'there is no April 31, 2026 (April 2026 has 30 days)'],
    ['2026-10-26T24:00:00+00:00', 'access_key_1_last_rotated', 10, 'there is no time of day 24:00:00 (hours 00–23, minutes and seconds 00–59)'],
  ])('%s as %s in a report: exit 2 naming line 4, column %d and what is wrong', async (value, column, index, problem) => {
    const run = await audit(csv(row('alice'), row('bob', { [column]: value })), '--now', PINNED_NOW);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`keyage: <stdin> (line 4, column ${index}): invalid credential report: ${column} is "${value}", and ${problem}\n`);
  });

  it('an impossible GeneratedTime in the JSON output: exit 2 naming the field', async () => {
    const run = await audit(json(csv(row('alice')), '2026-02-30T10:00:00+00:00'), '--now', PINNED_NOW);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'keyage: <stdin> (line 1): invalid credential report: GeneratedTime is "2026-02-30T10:00:00+00:00", and there is no February 30, 2026 (February 2026 has 28 days); expected the time "aws iam get-credential-report" gives, such as 2026-11-25T10:00:00+00:00\n',
    );
  });

  it.each([
    ['2026-02-30', 'there is no February 30, 2026 (February 2026 has 28 days)'],
    ['2025-02-29T12:00:00Z', 'there is no February 29, 2025 (2025 is not a leap year)'],
    ['2026-04-31T00:00:00+02:00', 'there is no April 31, 2026 (April 2026 has 30 days)'],
  ])('--now %s: exit 2 naming --now and what is wrong', async (now, problem) => {
    const run = await audit(csv(row('alice')), '--now', now);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`keyage: Invalid value for parameter --now: "${now}". Allowed: a real calendar date and time (${problem}): an ISO 8601 time with a zone, such as 2026-11-25T12:00:00Z, or a date such as 2026-11-25 (midnight UTC).\n`);
  });

  it('keyage remediate --now 2026-02-30 is refused before any AWS call', async () => {
    const run = await runCli(['remediate', '--user', 'bob', '--now', '2026-02-30']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^keyage: Invalid value for parameter --now: "2026-02-30"\. Allowed: a real calendar date and time \(there is no February 30, 2026/);
  });

  it('parseNow reads real dates as before, Feb 29 of a leap year included', () => {
    const clock = () => new Date('2030-01-01T00:00:00Z');
    expect(parseNow('2028-02-29', clock).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(() => parseNow('2027-02-29', clock)).toThrow(/there is no February 29, 2027 \(2027 is not a leap year\)/);
  });
});

describe('suspicious reports are said aloud on standard error, and still audited', () => {
  it('the same user on several rows (compared as IAM compares names, case-insensitively) is named with its lines', async () => {
    const run = await audit(csv(row('alice'), row('bob'), row('alice'), row('Bob'), row('carol')), '--now', PINNED_NOW, '--format', 'json');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      'keyage: warning: <stdin>: 2 user names appear on more than one row ("alice" on lines 3, 5; "bob" on lines 4, 6); IAM has one user per name (compared case-insensitively), ' +
        'so the file was edited or put together from several reports. Each row is audited as it is.\n',
    );
    expect((JSON.parse(run.stdout) as { users: unknown[] }).users).toHaveLength(5);
  });

  it('a second <root_account> row is refused: auditing one of the two could hide the root user\'s keys', async () => {
    const run = await audit(`${csv(row('alice'))}${ROOT_ROW.replace('true,false,N/A', 'true,true,2026-01-01T00:00:00+00:00')}\n`, '--now', PINNED_NOW);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('keyage: <stdin> (line 4, column 1): invalid credential report: a second <root_account> row (the first is on line 2); a credential report has one\n');
  });

  it('a report older than the rule would use is named with its age', async () => {
    const run = await audit(json(csv(row('alice')), '2026-11-20T08:00:00+00:00'), '--now', PINNED_NOW);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      'keyage: warning: <stdin> was generated at 2026-11-20T08:00:00.000Z, 5 days 4 hours before --now (2026-11-25T12:00:00.000Z); the Config rule does not use a credential report ' +
        'more than 4 hours old, because keys created, rotated or deactivated since are not in it. Generate a new one (aws iam generate-credential-report).\n',
    );
  });

  it('without --now, the age is counted to the current time, and named so', async () => {
    const run = await runCli(['audit', '--credential-report', '-'], { ...fromStdin(json(csv(row('alice')), '2026-11-25T08:00:00Z')), clock: () => new Date('2026-11-26T09:30:00Z') });
    expect(run.stderr).toContain('1 day 1 hour before the current time (2026-11-26T09:30:00.000Z)');
  });

  it('a report 4 hours old, as the rule still uses it, gives no warning', async () => {
    const run = await audit(json(csv(row('alice')), '2026-11-25T08:00:00+00:00'), '--now', PINNED_NOW);
    expect(run.stderr).toBe('');
  });

  it('--now before the report was generated (its GeneratedTime) is said, with how much before', async () => {
    const run = await audit(json(csv(row('alice')), '2026-11-25T08:00:00+00:00'), '--now', '2026-11-24T06:30:00Z');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      'keyage: warning: --now (2026-11-24T06:30:00.000Z) is 1 day 1 hour before <stdin> was generated (2026-11-25T08:00:00.000Z): ' +
        'the report shows the keys as they were then, so they are judged at a time some of them may not have existed yet.\n',
    );
  });

  it('--now before the newest time a raw CSV shows (it has no GeneratedTime) names that line and column', async () => {
    const run = await runCli(['audit', '--credential-report', EXAMPLE, '--now', '2026-11-25T10:00:00Z']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'keyage: warning: --now (2026-11-25T10:00:00.000Z) is before examples/credential-report.csv was generated: line 7 shows access_key_2_last_used_date 2026-11-25T11:30:00.000Z, 1 hour 30 minutes later, ' +
        'so the keys are judged at a time some of them may not have existed yet.\n',
    );
  });

  it('the shipped example at its documented clock gives no warning at all', async () => {
    const run = await runCli(['audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW]);
    expect(run.stderr).toBe('');
  });
});

describe('a report saved with another AWS CLI output format', () => {
  const report = readFileSync(join(ROOT, EXAMPLE), 'utf8');
  const b64 = Buffer.from(report).toString('base64');
  it.each([
    ['text', `${b64}\t2026-11-25T10:00:00+00:00\ttext/csv\n`],
    [
      'table',
      [
        '---------------------------------------------',
        '|            GetCredentialReport            |',
        '+----------------+--------------------------+',
        `|  Content       |  ${b64.slice(0, 22)}  |`,
        '|  GeneratedTime |  2026-11-25T10:00:00+00:00 |',
        '|  ReportFormat  |  text/csv                |',
        '+----------------+--------------------------+',
        '',
      ].join('\n'),
    ],
    ['yaml', `Content: ${b64}\nGeneratedTime: '2026-11-25T10:00:00+00:00'\nReportFormat: text/csv\n`],
  ])('--output %s: exit 2 saying "use --output json", not a list of missing columns', async (format, saved) => {
    const run = await audit(saved, '--now', PINNED_NOW);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `keyage: <stdin> (line 1): invalid credential report: the file is what "aws iam get-credential-report --output ${format}" prints, not the report: save it with --output json (or --query Content --output text for the base64 Content alone)\n`,
    );
  });

  it('--query Content --output text (the base64 alone) is still read', async () => {
    const run = await audit(`${b64}\n`, '--now', PINNED_NOW, '--format', 'json');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
  });
});

describe('describeDuration', () => {
  it.each([
    [30_000, 'less than a minute'],
    [60_000, '1 minute'],
    [90 * 60_000, '1 hour 30 minutes'],
    [2 * 3_600_000, '2 hours'],
    [(24 + 4) * 3_600_000 + 59 * 60_000, '1 day 4 hours'],
    [3 * 86_400_000, '3 days'],
  ])('%d ms is "%s"', (ms, text) => {
    expect(describeDuration(ms)).toBe(text);
  });
});
