/**
 * `keyage audit` live against moto_server: the real SDK v3 client over HTTP, users and keys
 * created in IAM. moto cannot backdate a key, so `--now` moves forward instead (keys created
 * "today" are judged 89 and 91 days later). The audit must change nothing.
 */
import { GenerateCredentialReportCommand, GetCredentialReportCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import type { AuditReport } from '../../cli/audit-report';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { createUserWithKeys, describeWithMoto, type MotoAccount, newMotoAccount } from '../harness/moto';
import { recordCommands, type RecordedCommand } from '../harness/record';
import { runCli } from './run-cli';

describeWithMoto('keyage audit (live) against moto_server', () => {
  let account: MotoAccount;
  let users: Record<string, { userId: string; accessKeyIds: string[] }>;
  let calls: RecordedCommand[];

  const daysOn = (d: number) => new Date(Date.now() + d * DAY_MS).toISOString();
  const audit = (...args: string[]) => runCli(['audit', ...args], account.clients());

  beforeEach(async () => {
    account = await newMotoAccount();
    users = {
      alice: await createUserWithKeys(account.iam, 'alice', 1),
      bob: await createUserWithKeys(account.iam, 'bob', 2),
      carol: await createUserWithKeys(account.iam, 'carol', 0),
      dave: await createUserWithKeys(account.iam, 'dave', 1, [{ Key: 'keyage-exempt', Value: 'true' }]),
    };
    calls = recordCommands(account.iam);
  });

  afterEach(() => {
    for (const c of Object.values(account.clients())) c.destroy();
  });

  it('91 days on: key holders NON_COMPLIANT with their key IDs, the keyless COMPLIANT, the exempt NOT_APPLICABLE; exit 1', async () => {
    const run = await audit('--now', daysOn(91), '--format', 'json', '--exemption-tag', 'keyage-exempt=true');
    expect(run.stderr).toBe(
      "keyage: using keyage's defaults (no keyage rule is deployed in us-east-1): MaxAccessKeyAge 90 (default), ExemptionTag keyage-exempt=true (flag), GracePeriodDays 14 (default); flags override.\n" +
        'keyage: note: no record key (there is no KMS key alias/keyage-deactivation-records in us-east-1): deactivation records cannot be verified, so no deletion is planned.\n',
    );
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as AuditReport;
    expect(report.accountId).toBe(account.accountId);
    const byName = Object.fromEntries(report.users.map((u) => [u.userName, u]));
    expect(Object.fromEntries(Object.entries(byName).map(([n, u]) => [n, u.compliance]))).toEqual({
      alice: 'NON_COMPLIANT',
      bob: 'NON_COMPLIANT',
      carol: 'COMPLIANT',
      dave: 'NOT_APPLICABLE',
    });
    expect(byName.bob?.userId).toBe(users.bob!.userId);
    expect(byName.bob?.keys.map((k) => k.accessKeyId).sort()).toEqual([...users.bob!.accessKeyIds].sort());
    expect(byName.bob?.keys.map((k) => [k.ageDays, k.lastUsedState, k.action])).toEqual([
      [91, 'never', 'deactivate'],
      [91, 'never', 'deactivate'],
    ]);
    expect(byName.dave?.keys[0]).toMatchObject({ verdict: 'EXEMPT', action: 'none' });
    expect(report.summary).toMatchObject({ users: 4, nonCompliantUsers: 2, keysToDeactivate: 3 });
  });

  it('89 days on: every user COMPLIANT, exit 0', async () => {
    const run = await audit('--now', daysOn(89), '--format', 'json');
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as AuditReport).summary).toMatchObject({ users: 4, nonCompliantUsers: 0, keysToDeactivate: 0 });
  });

  it('the same account\'s credential report, audited offline, gives the same verdicts as the live audit', async () => {
    await account.iam.send(new GenerateCredentialReportCommand({}));
    const got = await account.iam.send(new GetCredentialReportCommand({}));
    const json = JSON.stringify({ Content: Buffer.from(got.Content ?? new Uint8Array()).toString('base64'), ReportFormat: 'text/csv', GeneratedTime: got.GeneratedTime?.toISOString() });
    const now = daysOn(91);
    const offline = await runCli(['audit', '--credential-report', '-', '--now', now, '--format', 'json'], { readStdin: async () => Buffer.from(json) });
    const live = await audit('--now', now, '--format', 'json');
    // The report is old at --now (moto dates every report 2015-02-02), and keyage says so; the verdicts are still the live audit's.
    expect(offline.stderr).toMatch(/^keyage: warning: <stdin> was generated at \S+, \d+ days( \d+ hours?)? before --now \(\S+\); the Config rule does not use a credential report more than 4 hours old, [^\n]+\n$/);
    const verdicts = (run: { stdout: string }) =>
      Object.fromEntries((JSON.parse(run.stdout) as AuditReport).users.map((u) => [u.userName, u.keys.map((k) => `${k.slot}:${k.status}:${k.ageDays}:${k.verdict}`).join(' ')]));
    expect(verdicts(offline)).toEqual(verdicts(live));
    expect((JSON.parse(offline.stdout) as AuditReport).accountId).toBe(account.accountId);
  });

  it('changes nothing: only read calls are sent and every key is still Active afterwards', async () => {
    await audit('--now', daysOn(400), '--format', 'csv');
    expect([...new Set(calls.map((c) => c.commandName))].sort()).toEqual(['GetAccessKeyLastUsedCommand', 'GetAccountAuthorizationDetailsCommand', 'ListAccessKeysCommand']);
    for (const name of ['alice', 'bob', 'dave']) {
      const keys = await account.iam.send(new ListAccessKeysCommand({ UserName: name }));
      expect(keys.AccessKeyMetadata?.map((k) => k.Status)).toEqual(keys.AccessKeyMetadata?.map(() => 'Active'));
    }
  });
});
