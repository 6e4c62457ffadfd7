/**
 * Output that cannot be used against its reader: a crafted credential report (or an IAM user
 * name, which may begin with = + - @) must neither run as a formula when the CSV is opened in a
 * spreadsheet, nor act on the terminal (CR, LF, DEL, C1 controls such as the one-character CSI
 * U+009B, bidirectional overrides and isolates) when the table is printed.
 */
import { parse } from 'csv-parse/sync';
import { auditCredentialReport } from '../../cli/audit-credential-report';
import { csvField, formatAuditCsv } from '../../cli/format-csv';
import { formatOrganizationCsv, formatOrganizationTable } from '../../cli/format-organization';
import { formatAuditTable } from '../../cli/format-table';
import { notAuditedEntry } from '../../cli/organization-report';
import { textTable, visible } from '../../cli/text-table';
import { organizationReport, reportWithNames } from './reports';
import { PINNED_NOW, runCli } from './run-cli';

const stdinOf = (text: string) => ({ readStdin: async () => Buffer.from(text) });

const FORMULAS = ['=1+1', '@SUM(1)', '-2+3', '+x', '=HYPERLINK("https://evil.example/?q=1","open")', '\tTAB', '\rCR'];
/** The names a credential report can carry at the start of a cell (the reader trims tabs and CRs around fields). */
const REPORT_FORMULAS = FORMULAS.slice(0, 5);

describe('CSV cells a spreadsheet would run as formulas (OWASP CSV injection)', () => {
  it.each([
    ['=1+1', `"'=1+1"`],
    ['@SUM(1)', `"'@SUM(1)"`],
    ['-2+3', `"'-2+3"`],
    ['+x', `"'+x"`],
    ['\tTAB', `"'\tTAB"`],
    ['\rCR', `"'\rCR"`],
    ['=HYPERLINK("https://evil.example/?q=1","open")', `"'=HYPERLINK(""https://evil.example/?q=1"",""open"")"`],
  ])('the text cell %j is written as %j: a leading quote, and quoted', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it('leaves other text, and keyage\'s own numbers and booleans, as they are', () => {
    expect([csvField('alice'), csvField('a=b'), csvField('x-1'), csvField(-3), csvField(false), csvField("'quoted")]).toEqual(['alice', 'a=b', 'x-1', '-3', 'false', "'quoted"]);
  });

  it('with raw, writes every cell as it is (RFC 4180 quoting only)', () => {
    expect(FORMULAS.map((f) => csvField(f, { raw: true }))).toEqual(['=1+1', '@SUM(1)', '-2+3', '+x', '"=HYPERLINK(""https://evil.example/?q=1"",""open"")"', '"\tTAB"', '"\rCR"']);
  });

  it('keyage audit --format csv defuses user names from the report; a CSV reader gets each name back after the quote', async () => {
    const run = await runCli(['audit', '--credential-report', '-', '--now', PINNED_NOW, '--format', 'csv'], stdinOf(reportWithNames(REPORT_FORMULAS)));
    expect(run.code).toBe(0);
    const records = parse(run.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(records.map((r) => r.user_name)).toEqual(REPORT_FORMULAS.map((f) => `'${f}`));
    for (const f of REPORT_FORMULAS) expect(run.stdout).not.toMatch(new RegExp(`(^|,)${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  });

  it('--csv-raw writes the names exactly as the report has them', async () => {
    const run = await runCli(['audit', '--credential-report', '-', '--now', PINNED_NOW, '--format', 'csv', '--csv-raw'], stdinOf(reportWithNames(REPORT_FORMULAS)));
    expect(run.code).toBe(0);
    const records = parse(run.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(records.map((r) => r.user_name)).toEqual(REPORT_FORMULAS);
  });

  it('--csv-raw with another format is a usage error naming the option', async () => {
    const run = await runCli(['audit', '--credential-report', '-', '--now', PINNED_NOW, '--csv-raw'], stdinOf(reportWithNames(['alice'])));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('keyage: Invalid value for parameter --csv-raw: true. Allowed: only with --format csv (the format is table).\n');
  });

  it('the organization CSV defuses account names and reasons too', () => {
    const report = organizationReport([notAuditedEntry({ accountId: '111122223333', name: '=cmd|\' /C calc\'!A0', state: 'SUSPENDED' }, 'not-active', '@reason')]);
    const [record] = parse(formatOrganizationCsv(report), { columns: true }) as Array<Record<string, string>>;
    expect([record?.account_name, record?.account_reason]).toEqual(["'=cmd|' /C calc'!A0", "'@reason"]);
    const [raw] = parse(formatOrganizationCsv(report, { raw: true }), { columns: true }) as Array<Record<string, string>>;
    expect([raw?.account_name, raw?.account_reason]).toEqual(["=cmd|' /C calc'!A0", '@reason']);
  });
});

/** Every character the table must never pass to the terminal as it is. */
const UNSAFE_IN_OUTPUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('terminal control characters in table output', () => {
  it.each([
    ['ESC', 'a\u001b[2Jb', 'a\\x1b[2Jb'],
    ['CR', 'a\rb', 'a\\rb'],
    ['LF', 'a\nb', 'a\\nb'],
    ['tab', 'a\tb', 'a\\tb'],
    ['BEL', 'a\u0007b', 'a\\x07b'],
    ['DEL', 'a\u007fb', 'a\\x7fb'],
    ['C1 CSI (U+009B)', 'a\u009b31mb', 'a\\x9b31mb'],
    ['C1 NEL (U+0085)', 'a\u0085b', 'a\\x85b'],
    ['RIGHT-TO-LEFT OVERRIDE (U+202E)', 'a\u202eb', 'a\\u202eb'],
    ['LEFT-TO-RIGHT EMBEDDING (U+202A)', 'a\u202ab', 'a\\u202ab'],
    ['RIGHT-TO-LEFT ISOLATE (U+2067) … POP DIRECTIONAL ISOLATE (U+2069)', '\u2067ab\u2069', '\\u2067ab\\u2069'],
    ['FIRST STRONG ISOLATE (U+2068), LEFT-TO-RIGHT ISOLATE (U+2066)', '\u2068\u2066', '\\u2068\\u2066'],
    ['LINE SEPARATOR (U+2028)', 'a\u2028b', 'a\\u2028b'],
  ])('%s is shown as an escape', (_name, text, shown) => {
    expect(visible(text)).toBe(shown);
  });

  it('keeps printable text, accents, CJK and backslashes as they are', () => {
    expect(visible('José 東京 C:\\keys …')).toBe('José 東京 C:\\keys …');
  });

  it('pads columns by the width of what is printed', () => {
    expect(textTable(['A', 'B'], [['\u202e', 'x'], ['yyyyyy', 'z']])).toBe('A       B\n\\u202e  x\nyyyyyy  z');
  });

  it('keyage audit (table) prints crafted user names from a report escaped, one line per key', async () => {
    const names = ['cr\rover', 'lf\nnext', 'del\u007f', 'csi\u009b2J', 'adm\u202enimda.exe', '\u2066iso\u2069', 'tab\there'];
    const run = await runCli(['audit', '--credential-report', '-', '--now', PINNED_NOW], stdinOf(reportWithNames(names)));
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(UNSAFE_IN_OUTPUT);
    expect(run.stdout).not.toContain('\t');
    const rows = run.stdout.split('\n').slice(1, 1 + names.length);
    expect(rows.map((r) => r.split(' ')[0])).toEqual(['cr\\rover', 'lf\\nnext', 'del\\x7f', 'csi\\x9b2J', 'adm\\u202enimda.exe', '\\u2066iso\\u2069', 'tab\\there']);
  });

  it('the lines around the table are escaped too (a file name with an override)', () => {
    const report = auditCredentialReport(reportWithNames(['alice']), { now: new Date(PINNED_NOW), params: { maxAccessKeyAgeDays: 90 }, graceDays: 14, file: 'report\u202etxt.csv', region: 'us-east-1' });
    const out = formatAuditTable(report);
    expect(out).not.toMatch(UNSAFE_IN_OUTPUT);
    expect(out).toContain('Source: credential report report\\u202etxt.csv,');
  });

  it('the organization table escapes account names and reasons', () => {
    const bad = notAuditedEntry({ accountId: '111122223333', name: 'ops\u009b2J', state: 'ACTIVE' }, 'aws-error', 'AWS said \u001b[31mno\r');
    const out = formatOrganizationTable(organizationReport([bad]));
    expect(out).not.toMatch(UNSAFE_IN_OUTPUT);
    expect(out).toContain('  111122223333 (ops\\x9b2J): AWS said \\x1b[31mno\\r');
  });

  it('error messages on standard error are escaped as well', async () => {
    const run = await runCli(['audit', '--credential-report', '-', '--now', '2026-11-25T12:00:00Z\u202e'], stdinOf(reportWithNames(['alice'])));
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(UNSAFE_IN_OUTPUT);
    expect(run.stderr).toContain('\\u202e');
  });
});

describe('formatAuditCsv', () => {
  it('passes its options to every row', () => {
    const report = auditCredentialReport(reportWithNames(['@me']), { now: new Date(PINNED_NOW), params: { maxAccessKeyAgeDays: 90 }, graceDays: 14, file: 'r.csv', region: 'us-east-1' });
    expect(formatAuditCsv(report).split('\n')[1]).toContain(`,"'@me",`);
    expect(formatAuditCsv(report, { raw: true }).split('\n')[1]).toContain(',@me,');
  });
});
