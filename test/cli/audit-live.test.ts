/**
 * `keyage audit` live, with the IAM client mocked by aws-sdk-client-mock: the exact read-only
 * calls and their inputs, paging, exemptions, the runbooks' delete plan from deactivation
 * records, users vanishing mid-audit, throttling, refusals, and the progress line.
 */
import {
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  IAMClient,
  ListAccessKeysCommand,
  NoSuchEntityException,
  type Tag,
} from '@aws-sdk/client-iam';
import { DescribeConfigRulesCommand } from '@aws-sdk/client-config-service';
import { mockClient } from 'aws-sdk-client-mock';
import { LIVE_AUDIT_ACTIONS } from '../../cli/audit-live';
import type { AuditReport, AuditUser } from '../../cli/audit-report';
import type { AsffFinding } from '../../cli/format-asff';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { signedRecordTag } from '../harness/record-signer';
import { configMock, deploymentActionsSent, givenDeployment, NO_DEPLOYMENT_LINE } from './deployment';
import { PINNED_NOW, runCli } from './run-cli';

const iamMock = mockClient(IAMClient);
const NOW = new Date(PINNED_NOW);
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY_MS);
const ACCOUNT = '123456789012';

function iamUser(name: string, tags: Tag[] = []) {
  return { UserName: name, UserId: `AIDA${name.toUpperCase().padEnd(16, 'X')}`, Arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, CreateDate: daysAgo(500), Path: '/', Tags: tags };
}

function keyId(user: string, n: number): string {
  return `AKIA${user.toUpperCase().padEnd(15, 'K')}${n}`;
}

/** keyage's own record for the user's key n (created `keyDays` ago), written at `at`, signed with the test record key. */
function record(user: string, n: number, keyDays: number, at: Date): Tag {
  return signedRecordTag({ accountId: ACCOUNT, userId: iamUser(user).UserId, accessKeyId: keyId(user, n), keyCreatedAt: daysAgo(keyDays) }, at);
}

/** Users and their keys as IAM would answer, with last use per key. */
function givenAccount(users: { name: string; tags?: Tag[]; keys: { days: number; status?: 'Active' | 'Inactive'; usedDaysAgo?: number | null }[] }[]): void {
  iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: users.map((u) => iamUser(u.name, u.tags)), IsTruncated: false });
  for (const u of users) {
    iamMock.on(ListAccessKeysCommand, { UserName: u.name }).resolves({
      AccessKeyMetadata: u.keys.map((k, i) => ({ UserName: u.name, AccessKeyId: keyId(u.name, i + 1), Status: k.status ?? 'Active', CreateDate: daysAgo(k.days) })),
      IsTruncated: false,
    });
    u.keys.forEach((k, i) => {
      const used = k.usedDaysAgo ?? null;
      iamMock.on(GetAccessKeyLastUsedCommand, { AccessKeyId: keyId(u.name, i + 1) }).resolves({
        UserName: u.name,
        AccessKeyLastUsed: used === null ? { ServiceName: 'N/A', Region: 'N/A' } : { LastUsedDate: daysAgo(used), ServiceName: 's3', Region: 'us-east-1' },
      });
    });
  }
}

const liveAudit = (...extra: string[]) => runCli(['audit', '--now', PINNED_NOW, '--format', 'json', ...extra], { iam: new IAMClient({ region: 'us-east-1' }), sleep: async () => undefined });

function parse(stdout: string): AuditReport {
  return JSON.parse(stdout) as AuditReport;
}

function user(report: AuditReport, name: string): AuditUser {
  const found = report.users.find((u) => u.userName === name);
  if (!found) throw new Error(`no user ${name}`);
  return found;
}

beforeEach(() => {
  iamMock.reset();
  givenDeployment();
});

describe('keyage audit (live)', () => {
  it('sends only read calls: users with tags, then each user\'s keys, then each key\'s last use', async () => {
    givenAccount([
      { name: 'alice', keys: [{ days: 30, usedDaysAgo: 1 }] },
      { name: 'bob', keys: [{ days: 200, usedDaysAgo: 2 }, { days: 10 }] },
      { name: 'carol', keys: [] },
    ]);
    const run = await liveAudit();
    expect(run.stderr).toBe(NO_DEPLOYMENT_LINE);
    expect(run.code).toBe(1);
    expect(iamMock).toHaveReceivedCommandTimes(GetAccountAuthorizationDetailsCommand, 1);
    expect(iamMock).toHaveReceivedCommandWith(GetAccountAuthorizationDetailsCommand, { Filter: ['User'], MaxItems: 1000 });
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 3);
    for (const name of ['alice', 'bob', 'carol']) expect(iamMock).toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: name });
    expect(iamMock).toHaveReceivedCommandTimes(GetAccessKeyLastUsedCommand, 3);
    for (const id of [keyId('alice', 1), keyId('bob', 1), keyId('bob', 2)]) expect(iamMock).toHaveReceivedCommandWith(GetAccessKeyLastUsedCommand, { AccessKeyId: id });
    const sent = new Set(iamMock.calls().map((c) => `iam:${(c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, '')}`));
    expect([...sent].sort()).toEqual(LIVE_AUDIT_ACTIONS.filter((a) => a.startsWith('iam:')).sort());
    // and the deployment's defaults and the record key, read-only
    expect(deploymentActionsSent()).toEqual(['config:DescribeConfigRules', 'ssm:DescribeDocument', 'kms:DescribeKey']);
    for (const action of deploymentActionsSent()) expect(LIVE_AUDIT_ACTIONS).toContain(action);
  });

  it('reports key IDs, user IDs, last use and the key to deactivate', async () => {
    givenAccount([{ name: 'bob', keys: [{ days: 200, usedDaysAgo: 2 }, { days: 10 }] }]);
    const report = parse((await liveAudit()).stdout);
    expect(report.source).toEqual({ kind: 'live', region: 'us-east-1', profile: null });
    expect(report.accountId).toBe(ACCOUNT);
    expect(report.root).toBeNull();
    const bob = user(report, 'bob');
    expect(bob.userId).toBe('AIDABOBXXXXXXXXXXXXX');
    expect(bob.keys.map((k) => [k.accessKeyId, k.ageDays, k.lastUsedState, k.verdict, k.action])).toEqual([
      [keyId('bob', 1), 200, 'used', 'NON_COMPLIANT', 'deactivate'],
      [keyId('bob', 2), 10, 'never', 'COMPLIANT', 'none'],
    ]);
    expect(bob.keys[0]?.reason).toBe(`Active key ${keyId('bob', 1)} (key 1) is 200 days old; limit 90. keyage would deactivate it.`);
  });

  it('the table shows the key IDs', async () => {
    givenAccount([{ name: 'bob', keys: [{ days: 200, usedDaysAgo: 2 }] }]);
    const run = await runCli(['audit', '--now', PINNED_NOW], { iam: new IAMClient({ region: 'us-east-1' }) });
    expect(run.stdout).toMatch(new RegExp(`^bob\\s+1\\s+${keyId('bob', 1)}\\s+Active\\s+200d\\s+2026-11-23\\s+NON_COMPLIANT\\s+deactivate\\s`, 'm'));
    expect(run.stdout).toContain('Root user: not checked by a live audit');
  });

  it('exits 0 when every user is compliant', async () => {
    givenAccount([{ name: 'alice', keys: [{ days: 90, usedDaysAgo: 1 }] }]);
    const run = await liveAudit();
    expect(run.code).toBe(0);
    expect(parse(run.stdout).summary.nonCompliantUsers).toBe(0);
  });

  it('pages the user list to the end: no user after the first page is skipped', async () => {
    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .resolvesOnce({ UserDetailList: [iamUser('page1')], IsTruncated: true, Marker: 'm1' })
      .resolvesOnce({ UserDetailList: [iamUser('page2')], IsTruncated: false });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [], IsTruncated: false });
    const report = parse((await liveAudit()).stdout);
    expect(report.users.map((u) => u.userName)).toEqual(['page1', 'page2']);
    expect(iamMock).toHaveReceivedNthSpecificCommandWith(2, GetAccountAuthorizationDetailsCommand, { Filter: ['User'], MaxItems: 1000, Marker: 'm1' });
  });

  it('an exempt user\'s stale key is EXEMPT, planned for nothing, and does not fail the gate', async () => {
    givenAccount([{ name: 'svc', tags: [{ Key: 'keyage-exempt', Value: 'true' }], keys: [{ days: 300, usedDaysAgo: 1 }] }]);
    const run = await liveAudit('--exemption-tag', 'keyage-exempt=true');
    expect(run.code).toBe(0);
    const report = parse(run.stdout);
    expect(report.parameters.exemptionTag).toBe('keyage-exempt=true');
    expect(user(report, 'svc')).toMatchObject({ compliance: 'NOT_APPLICABLE', exempt: true, annotation: 'Exempt: the user carries the exemption tag keyage-exempt=true.' });
    expect(user(report, 'svc').keys[0]).toMatchObject({ verdict: 'EXEMPT', action: 'none' });
    expect(user(report, 'svc').keys[0]?.reason).toContain('Not deactivated: the user carries the exemption tag keyage-exempt=true.');
  });

  it('a tag with another value does not exempt', async () => {
    givenAccount([{ name: 'svc', tags: [{ Key: 'keyage-exempt', Value: 'false' }], keys: [{ days: 300, usedDaysAgo: 1 }] }]);
    const run = await liveAudit('--exemption-tag', 'keyage-exempt=true');
    expect(run.code).toBe(1);
    expect(user(parse(run.stdout), 'svc').keys[0]).toMatchObject({ verdict: 'NON_COMPLIANT', action: 'deactivate' });
  });

  it('plans runbook 2: a key keyage deactivated past the grace period with no use since is to be deleted', async () => {
    givenAccount([{ name: 'old', tags: [record('old', 1, 120, daysAgo(20))], keys: [{ days: 120, status: 'Inactive', usedDaysAgo: 25 }] }]);
    const report = parse((await liveAudit()).stdout);
    expect(user(report, 'old').keys[0]).toMatchObject({ status: 'Inactive', verdict: 'COMPLIANT', action: 'delete' });
    expect(report.summary).toMatchObject({ keysToDelete: 1, keysToDeactivate: 0 });
    expect(deploymentActionsSent()).toContain('kms:VerifyMac');
  });

  it('plans no deletion on a record keyage did not write (a bare date), and none without the record key', async () => {
    givenAccount([
      { name: 'forged', tags: [{ Key: `keyage:deactivated:${keyId('forged', 1)}`, Value: daysAgo(20).toISOString() }], keys: [{ days: 120, status: 'Inactive', usedDaysAgo: 25 }] },
      { name: 'old', tags: [record('old', 1, 120, daysAgo(20))], keys: [{ days: 120, status: 'Inactive', usedDaysAgo: 25 }] },
    ]);
    const report = parse((await liveAudit()).stdout);
    expect(user(report, 'forged').keys[0]).toMatchObject({ action: 'none', reason: expect.stringContaining('cannot verify') });
    expect(user(report, 'old').keys[0]?.action).toBe('delete');
    givenDeployment({ recordKey: false });
    const without = await liveAudit();
    expect(user(parse(without.stdout), 'old').keys[0]?.action).toBe('none');
    expect(without.stderr).toContain('keyage: note: no record key (there is no KMS key alias/keyage-deactivation-records in us-east-1): deactivation records cannot be verified, so no deletion is planned.');
  });

  it('takes the deployed rule\'s limit and exemption tag and the deployed runbook\'s grace period as its defaults, and says so', async () => {
    givenDeployment({ rule: { name: 'keyage-access-key-age-conformance-pack-abcdefghi', parameters: { MaxAccessKeyAge: '30', ExemptionTag: 'keyage-exempt' } }, graceDays: '7' });
    givenAccount([
      { name: 'svc', tags: [{ Key: 'keyage-exempt', Value: '' }], keys: [{ days: 60, usedDaysAgo: 1 }] },
      { name: 'dev', keys: [{ days: 60, usedDaysAgo: 1 }] },
    ]);
    const run = await liveAudit();
    const report = parse(run.stdout);
    expect(report.parameters).toEqual({
      maxAccessKeyAgeDays: 30,
      exemptionTag: 'keyage-exempt',
      graceDays: 7,
      sources: { maxAccessKeyAgeDays: 'deployed rule keyage-access-key-age-conformance-pack-abcdefghi', exemptionTag: 'deployed rule keyage-access-key-age-conformance-pack-abcdefghi', graceDays: 'deployed runbook keyage-DeleteDeactivatedAccessKeys' },
      recordKey: 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555',
    });
    expect(user(report, 'svc')).toMatchObject({ compliance: 'NOT_APPLICABLE', exempt: true });
    expect(user(report, 'dev').compliance).toBe('NON_COMPLIANT');
    expect(run.stderr).toBe(
      'keyage: using the deployed rule keyage-access-key-age-conformance-pack-abcdefghi in us-east-1: MaxAccessKeyAge 30 (deployed rule keyage-access-key-age-conformance-pack-abcdefghi), ExemptionTag keyage-exempt (deployed rule keyage-access-key-age-conformance-pack-abcdefghi), GracePeriodDays 7 (deployed runbook keyage-DeleteDeactivatedAccessKeys); flags override.\n',
    );
    const overridden = parse((await liveAudit('--max-age', '90', '--exemption-tag', '')).stdout);
    expect(overridden.parameters).toMatchObject({ maxAccessKeyAgeDays: 90, exemptionTag: null, sources: { maxAccessKeyAgeDays: 'flag', exemptionTag: 'flag' } });
    expect(user(overridden, 'svc').compliance).toBe('COMPLIANT');
  });

  it('says aloud when the deployed rule cannot be read, and audits with keyage\'s defaults', async () => {
    configMock.on(DescribeConfigRulesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    givenAccount([{ name: 'dev', keys: [{ days: 60, usedDaysAgo: 1 }] }]);
    const run = await liveAudit();
    expect(run.stderr).toContain('keyage: warning: the deployed rule could not be read (config:DescribeConfigRules): Access denied for config:DescribeConfigRules');
    expect(run.stderr).toContain("keyage: using keyage's defaults (the deployed rule in us-east-1 could not be read)");
    expect(parse(run.stdout).parameters.maxAccessKeyAgeDays).toBe(90);
  });

  it('--grace-days longer than the time since deactivation plans nothing, and says when the grace ends', async () => {
    givenAccount([{ name: 'old', tags: [record('old', 1, 120, daysAgo(20))], keys: [{ days: 120, status: 'Inactive', usedDaysAgo: 25 }] }]);
    const report = parse((await liveAudit('--grace-days', '30')).stdout);
    expect(report.parameters.graceDays).toBe(30);
    expect(user(report, 'old').keys[0]?.action).toBe('none');
    expect(user(report, 'old').keys[0]?.reason).toContain('grace period of 30 days ends on 2026-12-05');
  });

  it('a key re-activated by a person after keyage deactivated it: its record is to be cleared, the key left alone', async () => {
    givenAccount([{ name: 'back', tags: [record('back', 1, 40, daysAgo(5))], keys: [{ days: 40, usedDaysAgo: 1 }] }]);
    const report = parse((await liveAudit()).stdout);
    expect(user(report, 'back').keys[0]).toMatchObject({ status: 'Active', action: 'clear-record' });
    expect(report.summary.recordsToClear).toBe(1);
  });

  it('a user deleted between listing and reading is NOT_APPLICABLE, never COMPLIANT', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [iamUser('gone')], IsTruncated: false });
    iamMock.on(ListAccessKeysCommand).rejects(new NoSuchEntityException({ message: 'The user with name gone cannot be found.', $metadata: {} }));
    const run = await liveAudit();
    expect(user(parse(run.stdout), 'gone')).toMatchObject({ compliance: 'NOT_APPLICABLE', annotation: 'User gone was deleted during the audit.', keys: [] });
    expect(run.stderr).toContain('user deleted during the audit');
  });

  it('retries "Rate exceeded" and finishes', async () => {
    givenAccount([{ name: 'alice', keys: [{ days: 30, usedDaysAgo: 1 }] }]);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    iamMock.on(ListAccessKeysCommand, { UserName: 'alice' }).rejectsOnce(throttled).resolves({
      AccessKeyMetadata: [{ UserName: 'alice', AccessKeyId: keyId('alice', 1), Status: 'Active', CreateDate: daysAgo(30) }],
    });
    const run = await liveAudit();
    expect(run.code).toBe(0);
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 2);
  });

  it('access denied: exit 3 naming the IAM action, nothing on standard output', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).rejects(Object.assign(new Error('not authorized to perform iam:GetAccountAuthorizationDetails'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const run = await liveAudit();
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^keyage: Access denied for iam:GetAccountAuthorizationDetails/m);
  });

  it('a call that keeps failing: exit 3, never a verdict', async () => {
    givenAccount([{ name: 'alice', keys: [{ days: 30 }] }]);
    iamMock.on(ListAccessKeysCommand).rejects(Object.assign(new Error('We encountered an internal error'), { name: 'ServiceFailure', $metadata: { httpStatusCode: 500 } }));
    const run = await liveAudit();
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^keyage: iam:ListAccessKeys failed after 8 attempts/m);
  });

  it('an IAM answer keyage cannot read: exit 3, never a verdict', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [{ UserName: 'odd', Arn: `arn:aws:iam::${ACCOUNT}:user/odd` }], IsTruncated: false });
    const run = await liveAudit();
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Unexpected answer from iam:GetAccountAuthorizationDetails: a user has no UserName, UserId, Arn or CreateDate (odd).');
  });

  it('asff from a live audit names the access key as a resource, under the ID an offline audit gives the same key', async () => {
    givenAccount([{ name: 'bob', keys: [{ days: 200, usedDaysAgo: 2 }] }]);
    const run = await runCli(['audit', '--now', PINNED_NOW, '--format', 'asff'], { iam: new IAMClient({ region: 'us-east-1' }) });
    const findings = JSON.parse(run.stdout) as AsffFinding[];
    const createdSecond = daysAgo(200).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(findings.map((f) => [f.Id, f.Compliance.Status])).toEqual([
      [`keyage/IAM.3/${ACCOUNT}/user/bob`, 'FAILED'],
      [`keyage/IAM.3/${ACCOUNT}/user/bob/key/${createdSecond}`, 'FAILED'],
    ]);
    const finding = findings[1];
    expect(finding?.ProductFields['keyage/AccessKeyId']).toBe(keyId('bob', 1));
    expect(finding?.Resources.map((r) => [r.Type, r.Id])).toEqual([
      ['AwsIamAccessKey', `AWS::IAM::AccessKey:${keyId('bob', 1)}`],
      ['AwsIamUser', `arn:aws:iam::${ACCOUNT}:user/bob`],
    ]);
  });
});

describe('keyage audit (live) progress', () => {
  const many = Array.from({ length: 120 }, (_, i) => ({ name: `user${String(i).padStart(3, '0')}`, keys: [] }));

  it('draws a progress line on standard error when it is a terminal and the account is large; standard output stays clean', async () => {
    givenAccount(many);
    const run = await runCli(['audit', '--now', PINNED_NOW, '--format', 'json'], { iam: new IAMClient({ region: 'us-east-1' }), stderrIsTTY: true });
    expect(run.stderr).toContain('\rkeyage: reading access keys 120/120 (100%)');
    expect(run.stderr.endsWith('\r\u001b[2K')).toBe(true);
    expect(parse(run.stdout).summary.users).toBe(120);
  });

  it('draws nothing when standard error is not a terminal', async () => {
    givenAccount(many);
    const run = await runCli(['audit', '--now', PINNED_NOW, '--format', 'json'], { iam: new IAMClient({ region: 'us-east-1' }), stderrIsTTY: false });
    expect(run.stderr).toBe(NO_DEPLOYMENT_LINE);
  });
});
