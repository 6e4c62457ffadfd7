/**
 * The output people read: `--only-findings`, tables that fit the terminal (only the reason is
 * cut), colour for verdicts on a terminal and never with NO_COLOR, help texts that speak of
 * their own command, one "keyage: " prefix on every message, and one true message for every
 * `--user` that is not one user.
 */
import { parse } from 'csv-parse/sync';
import { CSV_COLUMNS } from '../../cli/format-csv';
import { EXAMPLE, fixture, golden, ISOLATED_ENV, PINNED_NOW, runCli } from './run-cli';

const audit = (extra: readonly string[], io: Parameters<typeof runCli>[1] = {}) => runCli(['audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW, ...extra], io);

/** The key table of a table output: its header and rows, up to the first blank line. */
function tableLines(stdout: string): string[] {
  return stdout.slice(0, stdout.indexOf('\n\n')).split('\n');
}

/** Columns before REASON, as the header places them. */
function fixedPart(line: string, header: string): string {
  return line.slice(0, header.indexOf('REASON'));
}

/** A terminal without colour, to look at the width alone. */
const PLAIN = { ...ISOLATED_ENV, NO_COLOR: '1' };

const ANSI = /\u001b\[\d+m/g;

describe('--only-findings', () => {
  it('the table keeps the keys that are findings; the summary still counts every user, and the exit status is the same', async () => {
    const run = await audit(['--only-findings']);
    expect(run.code).toBe(1);
    expect(tableLines(run.stdout).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['USER SLOT', 'bob 1', 'build-bot 1', 'old-backup 1', 'old-backup 2']);
    expect(run.stdout).toContain('Only findings are shown (--only-findings): 4 of 14 rows; the summary counts every user.');
    expect(run.stdout).toContain('Summary: 10 users, 3 non-compliant, 0 exempt or not applicable; 13 keys (10 active), 4 to deactivate, 0 to delete.');
    // every other line is the full table's
    const full = (await audit([])).stdout;
    for (const line of tableLines(run.stdout)) expect(tableLines(full).map((l) => l.replace(/\s+/g, ' '))).toContain(line.replace(/\s+/g, ' '));
  });

  it('csv keeps the header and the rows of findings, as the full CSV writes them', async () => {
    const run = await audit(['--only-findings', '--format', 'csv']);
    const full = (await audit(['--format', 'csv'])).stdout;
    const rows = parse(full) as string[][];
    const verdict = CSV_COLUMNS.indexOf('verdict');
    const action = CSV_COLUMNS.indexOf('action');
    const lines = full.trimEnd().split('\n'); // the example's reasons hold no line breaks
    const kept = lines.filter((_, i) => i === 0 || rows[i]?.[verdict] === 'NON_COMPLIANT' || rows[i]?.[action] !== 'none');
    expect(kept).toHaveLength(5);
    expect(run.stdout).toBe(`${kept.join('\n')}\n`);
  });

  it('an account without findings says so instead of an empty table, and exits 0', async () => {
    const run = await runCli(['audit', '--credential-report', fixture('compliant.csv'), '--now', PINNED_NOW, '--only-findings']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^No findings: no key is non-compliant, and the runbooks would change none\.\n\nOnly findings are shown \(--only-findings\): 0 of \d+ rows/);
  });

  it.each(['json', 'asff', 'html'])('is refused with --format %s (exit 2), which must stay complete', async (format) => {
    const run = await audit(['--only-findings', '--format', format]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `keyage: Invalid value for parameter --only-findings: true. Allowed: with --format table or csv (not ${format}: the JSON output is the whole record, filter it with jq; the HTML page filters its own table and needs every key for its summary and histogram; ASFF needs the PASSED findings too, or Security Hub keeps fixed keys FAILED).\n`,
    );
  });
});

describe('tables on a terminal', () => {
  it('fit the terminal\'s width by cutting the reason with an ellipsis, never the IDs, names or dates', async () => {
    const full = tableLines((await audit([])).stdout);
    const fitted = tableLines((await audit([], { stdoutIsTTY: true, stdoutColumns: 120, env: PLAIN })).stdout);
    expect(fitted).toHaveLength(full.length);
    const header = full[0] as string;
    fitted.forEach((line, i) => {
      expect([...line].length).toBeLessThanOrEqual(120);
      expect(fixedPart(line, header)).toBe(fixedPart(full[i] as string, header));
    });
    expect(fitted).toContain('erin        1     -       Inactive  400d  2025-11-10  COMPLIANT      none        Inactive key 1 is 400 days old; inacti…');
    // a reason that fits is left whole
    expect(fitted).toContain(full.find((l) => l.startsWith('bob         1')));
  });

  it('keep at least 20 characters of the reason on a very narrow terminal, and every other column whole', async () => {
    const full = tableLines((await audit([])).stdout);
    const narrow = tableLines((await audit([], { stdoutIsTTY: true, stdoutColumns: 30, env: PLAIN })).stdout);
    const header = full[0] as string;
    narrow.slice(1).forEach((line, i) => {
      expect(fixedPart(line, header)).toBe(fixedPart(full[i + 1] as string, header));
      expect([...line.slice(header.indexOf('REASON'))].length).toBeLessThanOrEqual(20);
    });
    expect(narrow[1]).toMatch(/  Active key 1 is 30…$/);
  });

  it('are full width when standard output is not a terminal, whatever its width says', async () => {
    const run = await audit([], { stdoutIsTTY: false, stdoutColumns: 60 });
    expect(run.stdout).toBe(golden('example.table.txt', run.stdout));
  });

  it('colour the verdicts only, on a terminal; the words are the same', async () => {
    const run = await audit([], { stdoutIsTTY: true, env: ISOLATED_ENV });
    expect(run.stdout).toContain('\u001b[31mNON_COMPLIANT\u001b[39m');
    expect(run.stdout).toContain('\u001b[32mCOMPLIANT\u001b[39m');
    expect(run.stdout.match(ANSI)).toHaveLength(2 * 14); // one colour and one reset per row
    expect(run.stdout.replace(ANSI, '')).toBe(golden('example.table.txt', run.stdout.replace(ANSI, '')));
  });

  it.each([
    ['NO_COLOR=1', { NO_COLOR: '1' }],
    ['NO_COLOR=true', { NO_COLOR: 'true' }],
    ['TERM=dumb', { TERM: 'dumb' }],
  ])('never colour with %s', async (_name, extra) => {
    const run = await audit([], { stdoutIsTTY: true, env: { ...ISOLATED_ENV, ...extra } });
    expect(run.stdout).not.toMatch(ANSI);
  });

  it('colour with NO_COLOR set to the empty string (no-color.org: only a non-empty value disables), and never off a terminal', async () => {
    expect((await audit([], { stdoutIsTTY: true, env: { ...ISOLATED_ENV, NO_COLOR: '' } })).stdout).toMatch(ANSI);
    expect((await audit([], { stdoutIsTTY: false, env: ISOLATED_ENV })).stdout).not.toMatch(ANSI);
  });

  it('csv and json are never coloured nor cut, on a terminal too', async () => {
    for (const [format, file] of [
      ['csv', 'example.csv'],
      ['json', 'example.json'],
    ] as const) {
      const run = await audit(['--format', format], { stdoutIsTTY: true, stdoutColumns: 40, env: ISOLATED_ENV });
      expect(run.stdout).toBe(golden(file, run.stdout));
    }
  });
});

describe('help texts', () => {
  const help = async (...args: string[]) => (await runCli([...args, '--help'])).stdout;

  it('remediate --help speaks of remediate: no credential report, no findings, nothing "live only"', async () => {
    const text = (await help('remediate')).replace(/\s+/g, ' ');
    for (const foreign of ['credential report', 'findings', 'live only', 'when live']) expect({ foreign, found: text.includes(foreign) }).toEqual({ foreign, found: false });
    expect(text).toContain('the KMS key that signs the deactivation records --apply writes');
    expect(text).toContain('the clock of every decision and of the records --apply writes');
  });

  it('audit --help speaks of the audit: it verifies records and writes none', async () => {
    const text = (await help('audit')).replace(/\s+/g, ' ');
    expect(text).toContain('live only: the KMS key that verifies keyage\'s deactivation records');
    expect(text).not.toMatch(/signs|and record,|records --apply/);
    expect(text).toContain('--only-findings with --format table or csv');
  });

  it('pack --help speaks of the pack alone', async () => {
    const text = (await help('pack')).replace(/\s+/g, ' ');
    for (const foreign of ['credential report', 'findings', '--apply', 'exemption']) expect({ foreign, found: text.includes(foreign) }).toEqual({ foreign, found: false });
  });
});

describe('one error prefix', () => {
  it.each([
    [['audit', '--bogus']],
    [['audit', '--format', 'xml']],
    [['audit', '--max-age']],
    [['remediate']],
    [['frob']],
    [['pack']],
    [['audit', '--max-age', '0', '--credential-report', EXAMPLE]],
  ])('%j: every line on standard error starts "keyage: ", exit 2', async (argv) => {
    const run = await runCli(argv);
    expect(run.code).toBe(2);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^keyage: /);
  });

  it('a usage error names the command\'s own help', async () => {
    expect((await runCli(['remediate'])).stderr).toBe("keyage: required option '--user <name>' not specified\nkeyage: run 'keyage remediate --help' for usage\n");
  });
});

describe('remediate --user that is not one user', () => {
  it.each(['', '*', '   ', 'bob smith'])('%j gets the same message, which offers nothing remediate refuses', async (value) => {
    const run = await runCli(['remediate', '--user', value]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `keyage: Invalid value for parameter --user: ${JSON.stringify(value)}. Allowed: one IAM user name (1 to 64 letters, digits and + = , . @ _ -) or user ID (AIDA…): keyage remediate acts on one user at a time ("*", every user, is a value of the delete runbook's IAMUser parameter, not of --user).\n`,
    );
  });
});
