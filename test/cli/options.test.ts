/**
 * The command line's options and usage errors: every bad value is exit status 2 with a message
 * naming the option, what was given and what is allowed; every command has --help.
 */
import { parseNow } from '../../cli/options';
import { EXAMPLE, PINNED_NOW, runCli } from './run-cli';

describe('keyage usage errors', () => {
  it.each([
    [['--now', 'yesterday'], 'keyage: Invalid value for parameter --now: "yesterday". Allowed: an ISO 8601 time with a zone'],
    [['--now', '2026-11-25T12:00:00'], 'keyage: Invalid value for parameter --now: "2026-11-25T12:00:00"'],
    [['--now', '2026-13-45'], 'keyage: Invalid value for parameter --now: "2026-13-45"'],
    [['--max-age', '0'], 'keyage: Invalid value for parameter --max-age: "0". Allowed: a whole number of days from 1 to 3650 (default 90).'],
    [['--max-age', 'ninety'], 'keyage: Invalid value for parameter --max-age: "ninety"'],
    [['--grace-days', '-1'], 'keyage: Invalid value for parameter --grace-days: "-1"'],
    [['--exemption-tag', 'aws:reserved'], 'keyage: Invalid value for parameter --exemption-tag: "aws:reserved"'],
    [['--exemption-tag', 'keyage-exempt'], 'keyage: Invalid value for parameter --exemption-tag: "keyage-exempt". Allowed: only in a live audit'],
    [['--region', 'mars'], 'keyage: Invalid value for parameter --region: "mars"'],
  ])('audit %j: exit 2 with a message naming the option', async (args, message) => {
    const run = await runCli(['audit', '--credential-report', EXAMPLE, ...args]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.startsWith(message)).toBe(true);
  });

  it('an unknown --format: exit 2 listing the formats', async () => {
    const run = await runCli(['audit', '--credential-report', EXAMPLE, '--format', 'xml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("option '--format <format>' argument 'xml' is invalid. Allowed choices are table, json, csv, asff, html.");
  });

  it('an unknown option: exit 2 naming it', async () => {
    const run = await runCli(['audit', '--credential-reprot', EXAMPLE]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--credential-reprot'");
  });

  it('an unknown command: exit 2', async () => {
    const run = await runCli(['audti']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'audti'");
  });

  it('no command at all: the help on standard error and exit 2', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: keyage [options] [command]');
  });
});

describe('keyage --help', () => {
  it('the program help lists the commands and the exit statuses, exit 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/audit \[options\]/);
    expect(run.stdout).toContain('Exit status: 0 all compliant, 1 something is not compliant, 2 usage or input error');
  });

  it('audit --help documents every option, exit 0', async () => {
    const run = await runCli(['audit', '--help']);
    expect(run.code).toBe(0);
    for (const option of ['--credential-report <file>', '--format <format>', '--max-age <days>', '--exemption-tag <key[=value]>', '--grace-days <days>', '--now <time>', '--region <region>', '--profile <name>']) {
      expect(run.stdout).toContain(option);
    }
  });

  it('--version prints the package version', async () => {
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('parseNow', () => {
  const clock = () => new Date('2030-01-01T00:00:00Z');

  it('reads a time with Z or an offset, and a date alone as midnight UTC', () => {
    expect(parseNow(PINNED_NOW, clock).toISOString()).toBe('2026-11-25T12:00:00.000Z');
    expect(parseNow('2026-11-25T13:00:00+01:00', clock).toISOString()).toBe('2026-11-25T12:00:00.000Z');
    expect(parseNow('2026-11-25', clock).toISOString()).toBe('2026-11-25T00:00:00.000Z');
  });

  it('falls back to the clock when absent', () => {
    expect(parseNow(undefined, clock).toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });
});
