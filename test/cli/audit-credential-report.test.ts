/**
 * `keyage audit --credential-report`: the README's main command. Every output format against
 * a golden file at a pinned clock, the inclusive 90-day boundary, the three shapes the AWS CLI
 * hands the report over in, the root user, and the exit status as a CI gate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditReport, AuditUser } from '../../cli/audit-report';
import { CSV_COLUMNS } from '../../cli/format-csv';
import { EXAMPLE, fixture, FIXTURES, golden, PINNED_NOW, ROOT, runCli } from './run-cli';

async function auditJson(file: string, ...extra: string[]): Promise<{ code: number; report: AuditReport }> {
  const run = await runCli(['audit', '--credential-report', file, '--now', PINNED_NOW, '--format', 'json', ...extra]);
  expect(run.stderr).toBe('');
  return { code: run.code, report: JSON.parse(run.stdout) as AuditReport };
}

function user(report: AuditReport, name: string): AuditUser {
  const found = report.users.find((u) => u.userName === name);
  if (!found) throw new Error(`no user ${name} in the report`);
  return found;
}

describe('keyage audit --credential-report (golden outputs of the shipped example)', () => {
  it.each([
    ['table', 'example.table.txt'],
    ['json', 'example.json'],
    ['csv', 'example.csv'],
    ['asff', 'example.asff.json'],
  ])('--format %s prints exactly the golden output and exits 1', async (format, file) => {
    const run = await runCli(['audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW, '--format', format]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(golden(file, run.stdout));
    expect(run.code).toBe(1);
  });

  it('the default format is the table', async () => {
    const table = await runCli(['audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW]);
    expect(table.stdout).toBe(golden('example.table.txt', table.stdout));
  });
});

describe('keyage audit --credential-report (verdicts)', () => {
  it('the example shows a mix at the documented clock: stale, at-limit, never-used, inactive and keyless users', async () => {
    const { code, report } = await auditJson(EXAMPLE);
    expect(code).toBe(1);
    expect(report.accountId).toBe('123456789012');
    expect(report.summary).toEqual({
      users: 10,
      compliantUsers: 7,
      nonCompliantUsers: 3,
      notApplicableUsers: 0,
      usersWithoutKeys: 1,
      keys: 13,
      activeKeys: 10,
      staleKeys: 4,
      keysToDeactivate: 4,
      keysToDelete: 0,
      recordsToClear: 0,
      rootAccessKeys: 0,
    });
    expect(user(report, 'bob').keys.map((k) => [k.slot, k.ageDays, k.verdict, k.action])).toEqual([
      [1, 200, 'NON_COMPLIANT', 'deactivate'],
      [2, 12, 'COMPLIANT', 'none'],
    ]);
    expect(user(report, 'ci-deploy').keys[0]).toMatchObject({ ageDays: 90, verdict: 'COMPLIANT', action: 'none', daysUntilDue: 1 });
    expect(user(report, 'build-bot').keys[0]).toMatchObject({ ageDays: 91, lastUsedState: 'never', lastUsedAt: null, verdict: 'NON_COMPLIANT' });
    expect(user(report, 'erin')).toMatchObject({ compliance: 'COMPLIANT' });
    expect(user(report, 'erin').keys[0]).toMatchObject({ status: 'Inactive', ageDays: 400, overLimit: true, verdict: 'COMPLIANT', action: 'none' });
    expect(user(report, 'carol')).toMatchObject({ compliance: 'COMPLIANT', keys: [], annotation: 'No access keys.' });
    expect(user(report, 'alice').keys[0]).toMatchObject({ lastUsedState: 'used', lastUsedService: 's3', lastUsedRegion: 'eu-west-1', accessKeyId: null });
    expect(report.root).toMatchObject({ arn: 'arn:aws:iam::123456789012:root', compliance: 'COMPLIANT', keys: [] });
  });

  it('the limit is inclusive like the rule\'s: 89 and 90 days old are COMPLIANT, 91 is NON_COMPLIANT', async () => {
    const { report } = await auditJson(fixture('boundaries.csv'));
    const verdicts = Object.fromEntries(report.users.map((u) => [u.userName, u.keys.map((k) => `${k.ageDays}:${k.verdict}`).join(' ')]));
    expect(verdicts).toEqual({
      'age-89': '89:COMPLIANT',
      'age-90': '90:COMPLIANT',
      'age-90-almost-91': '90:COMPLIANT',
      'age-91': '91:NON_COMPLIANT',
      'inactive-91': '91:COMPLIANT',
      'two-keys-one-stale': '10:COMPLIANT 91:NON_COMPLIANT',
    });
    expect(report.users.filter((u) => u.compliance === 'NON_COMPLIANT').map((u) => u.userName)).toEqual(['age-91', 'two-keys-one-stale']);
  });

  it('--max-age moves the limit, still inclusive: with 89, the 89-day key passes and the 90-day key fails', async () => {
    const { report } = await auditJson(fixture('boundaries.csv'), '--max-age', '89');
    expect(report.parameters.maxAccessKeyAgeDays).toBe(89);
    expect(user(report, 'age-89').compliance).toBe('COMPLIANT');
    expect(user(report, 'age-90').compliance).toBe('NON_COMPLIANT');
    expect(user(report, 'age-90').keys[0]?.reason).toBe('Active key 1 is 90 days old; limit 89.');
  });

  it('--now is the clock of every decision: one day earlier, the 91-day key is 90 days old and COMPLIANT', async () => {
    const run = await runCli(['audit', '--credential-report', fixture('boundaries.csv'), '--now', '2026-11-24T12:00:00Z', '--format', 'json']);
    const report = JSON.parse(run.stdout) as AuditReport;
    expect(report.now).toBe('2026-11-24T12:00:00.000Z');
    expect(user(report, 'age-91').keys[0]).toMatchObject({ ageDays: 90, verdict: 'COMPLIANT' });
  });

  it('without --now the wall clock decides', async () => {
    const run = await runCli(['audit', '--credential-report', fixture('boundaries.csv'), '--format', 'json'], { clock: () => new Date('2026-11-24T12:00:00Z') });
    expect((JSON.parse(run.stdout) as AuditReport).now).toBe('2026-11-24T12:00:00.000Z');
  });

  it('exits 0 when every user is compliant and the root user has no keys; asff then holds only PASSED findings', async () => {
    const table = await runCli(['audit', '--credential-report', fixture('compliant.csv'), '--now', PINNED_NOW]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Summary: 2 users, 0 non-compliant');
    const asff = await runCli(['audit', '--credential-report', fixture('compliant.csv'), '--now', PINNED_NOW, '--format', 'asff']);
    expect(asff.code).toBe(0);
    const findings = JSON.parse(asff.stdout) as { Compliance: { Status: string } }[];
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.map((f) => f.Compliance.Status)).toEqual(findings.map(() => 'PASSED'));
  });
});

describe('keyage audit --credential-report (input shapes)', () => {
  it('reads the whole JSON output of "aws iam get-credential-report" and keeps its GeneratedTime', async () => {
    const { code, report } = await auditJson(fixture('get-credential-report.json'));
    expect(code).toBe(1);
    expect(report.source).toEqual({ kind: 'credential-report', file: fixture('get-credential-report.json'), generatedAt: '2026-11-25T08:00:00.000Z' });
    expect(report.users.map((u) => [u.userName, u.compliance])).toEqual([
      ['json-user', 'NON_COMPLIANT'],
      ['console-only', 'COMPLIANT'],
    ]);
  });

  it('reads the base64 Content alone and decides exactly as from the JSON output', async () => {
    const fromB64 = await auditJson(fixture('content.b64'));
    const fromJson = await auditJson(fixture('get-credential-report.json'));
    expect(fromB64.report.users).toEqual(fromJson.report.users);
    expect(fromB64.report.source).toMatchObject({ generatedAt: null });
  });

  it('reads the report from standard input with "-"', async () => {
    const bytes = readFileSync(join(ROOT, EXAMPLE));
    const run = await runCli(['audit', '--credential-report', '-', '--now', PINNED_NOW, '--format', 'json'], { readStdin: async () => bytes });
    const report = JSON.parse(run.stdout) as AuditReport;
    expect(report.source).toMatchObject({ file: '<stdin>' });
    expect(report.summary.nonCompliantUsers).toBe(3);
  });

  it('accepts CRLF line endings and a byte-order mark (a report saved by a spreadsheet)', async () => {
    const text = readFileSync(join(FIXTURES, 'boundaries.csv'), 'utf8');
    const bytes = Buffer.from(`\uFEFF${text.replace(/\n/g, '\r\n')}`, 'utf8');
    const run = await runCli(['audit', '--credential-report', '-', '--now', PINNED_NOW, '--format', 'json'], { readStdin: async () => bytes });
    expect(run.stderr).toBe('');
    expect((JSON.parse(run.stdout) as AuditReport).summary.nonCompliantUsers).toBe(2);
  });
});

describe('keyage audit --credential-report (root user)', () => {
  it('reports root keys apart from IAM users and exits 1 for them alone (CIS 1.4: the root user should have none)', async () => {
    const { code, report } = await auditJson(fixture('root-keys.csv'));
    expect(code).toBe(1);
    expect(report.summary.nonCompliantUsers).toBe(0);
    expect(report.summary.rootAccessKeys).toBe(2);
    expect(report.users.map((u) => u.userName)).toEqual(['fresh']);
    expect(report.root?.compliance).toBe('NON_COMPLIANT');
    expect(report.root?.keys.map((k) => [k.slot, k.status, k.ageDays, k.action])).toEqual([
      [1, 'Active', 500, 'none'],
      [2, 'Inactive', 20, 'none'],
    ]);
  });

  it('the table names the root keys under their own heading', async () => {
    const run = await runCli(['audit', '--credential-report', fixture('root-keys.csv'), '--now', PINNED_NOW]);
    expect(run.stdout).toContain('Root user: NON_COMPLIANT. The root user has 2 access keys; it should have none (CIS 1.4, Security Hub IAM.4).');
    expect(run.stdout).toContain('  key 1: Active, 500 days old, last used 2026-10-26.');
    expect(run.stdout).not.toMatch(/^<root_account>/m);
  });

  it('asff gives one CRITICAL IAM.4 finding for the root user\'s keys (golden)', async () => {
    const run = await runCli(['audit', '--credential-report', fixture('root-keys.csv'), '--now', PINNED_NOW, '--format', 'asff']);
    expect(run.stdout).toBe(golden('root-keys.asff.json', run.stdout));
  });

  it('csv lists root keys as <root_account> rows', async () => {
    const run = await runCli(['audit', '--credential-report', fixture('root-keys.csv'), '--now', PINNED_NOW, '--format', 'csv']);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.filter((l) => l.includes(',<root_account>,'))).toHaveLength(2);
  });
});
