/**
 * `--format asff`: findings with a lifecycle. Every finding has the attributes
 * BatchImportFindings requires, within the AwsSecurityFinding limits; every key and every user
 * the audit judged has one, PASSED or FAILED; severity and types travel in
 * FindingProviderFields only, and Workflow never; IDs are the same offline and live.
 */
import { type AuditReport, auditUser, deletedUser, summarize, type UserInput } from '../../cli/audit-report';
import {
  ASFF_LIMITS,
  type AsffFinding,
  buildAsffFindings,
  CIS_FINDING_TYPE,
  findingScope,
  GENERATORS,
  IAM3_RELATED_REQUIREMENTS,
  isoSecond,
  keyFindingId,
  LEGACY_GENERATORS,
  productArn,
  userFindingId,
} from '../../cli/format-asff';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { fixture, PINNED_NOW, runCli } from './run-cli';

const REQUIRED = ['SchemaVersion', 'Id', 'ProductArn', 'GeneratorId', 'AwsAccountId', 'CreatedAt', 'UpdatedAt', 'Title', 'Description', 'Resources'] as const;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const NOW = new Date(PINNED_NOW);
const ACCOUNT = '123456789012';

/** Assert the shape BatchImportFindings accepts, and keyage's lifecycle rules. */
function expectValidFinding(f: AsffFinding, partition = 'aws', region = 'us-east-1'): void {
  for (const field of REQUIRED) expect(f[field]).toBeTruthy();
  expect(f.SchemaVersion).toBe('2018-10-08');
  expect(f.ProductArn).toBe(`arn:${partition}:securityhub:${region}:${f.AwsAccountId}:product/${f.AwsAccountId}/default`);
  expect(f.AwsAccountId).toMatch(/^\d{12}$/);
  expect(f.Id.startsWith('keyage/')).toBe(true);
  expect(f.GeneratorId.startsWith('keyage/')).toBe(true);
  expect(f.CreatedAt).toMatch(TIMESTAMP);
  expect(f.UpdatedAt).toMatch(TIMESTAMP);
  expect(Date.parse(f.CreatedAt)).toBeLessThanOrEqual(Date.parse(f.UpdatedAt));
  // The provider's severity and types go in FindingProviderFields, never top-level; Workflow is the customer's.
  for (const forbidden of ['Severity', 'Types', 'Workflow', 'WorkflowState', 'Note', 'UserDefinedFields', 'VerificationState']) expect(f).not.toHaveProperty(forbidden);
  expect(f.FindingProviderFields.Types).toEqual([CIS_FINDING_TYPE]);
  for (const t of f.FindingProviderFields.Types) expect(t.split('/').length).toBeLessThanOrEqual(3);
  expect(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']).toContain(f.FindingProviderFields.Severity.Label);
  if (f.Compliance.Status === 'PASSED') expect(f.FindingProviderFields.Severity.Label).toBe('INFORMATIONAL');
  expect(f.Id.length).toBeLessThanOrEqual(ASFF_LIMITS.id);
  expect(f.Title.length).toBeLessThanOrEqual(ASFF_LIMITS.title);
  expect(f.Description.length).toBeLessThanOrEqual(ASFF_LIMITS.description);
  expect(f.Remediation.Recommendation.Text.length).toBeLessThanOrEqual(ASFF_LIMITS.recommendationText);
  expect(f.Remediation.Recommendation.Url).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
  expect(f.Resources.length).toBeGreaterThanOrEqual(1);
  expect(f.Resources.length).toBeLessThanOrEqual(32);
  for (const r of f.Resources) {
    expect(['AwsIamAccessKey', 'AwsIamUser', 'AwsAccount']).toContain(r.Type);
    expect(r.Partition).toBe(partition);
    expect(r.Region).toBe(region);
  }
  expect(Object.keys(f.ProductFields).length).toBeLessThanOrEqual(50);
  expect(['PASSED', 'FAILED']).toContain(f.Compliance.Status);
  expect(f.Compliance.RelatedRequirements.length).toBeLessThanOrEqual(32);
  expect(f.RecordState).toBe('ACTIVE');
  expect(Buffer.byteLength(JSON.stringify(f))).toBeLessThan(240 * 1024);
}

async function example(): Promise<AsffFinding[]> {
  const run = await runCli(['audit', '--credential-report', 'examples/credential-report.csv', '--now', PINNED_NOW, '--format', 'asff']);
  return JSON.parse(run.stdout) as AsffFinding[];
}

const byId = (findings: readonly AsffFinding[], id: string): AsffFinding => {
  const f = findings.find((x) => x.Id === id);
  if (!f) throw new Error(`no finding ${id} among ${findings.map((x) => x.Id).join(', ')}`);
  return f;
};

/** A one-account report from users given as policy inputs. */
function reportOf(users: UserInput[], source: AuditReport['source'], extra: Partial<AuditReport> = {}): AuditReport {
  const audited = users.map((u) => auditUser(u, NOW, { maxAccessKeyAgeDays: 90 }));
  return {
    schemaVersion: 1,
    command: 'audit',
    now: NOW.toISOString(),
    parameters: { maxAccessKeyAgeDays: 90, exemptionTag: null, graceDays: 14 },
    source,
    accountId: ACCOUNT,
    partition: 'aws',
    region: 'us-east-1',
    summary: summarize(audited, null),
    root: null,
    users: audited,
    ...extra,
  };
}

const LIVE: AuditReport['source'] = { kind: 'live', region: 'us-east-1', profile: null };
const OFFLINE: AuditReport['source'] = { kind: 'credential-report', file: 'report.csv', generatedAt: null };
const daysAgo = (d: number, extraMs = 0) => new Date(NOW.getTime() - d * DAY_MS - extraMs);

describe('ASFF findings with a lifecycle', () => {
  it('the example gives one finding per key and per user, and one for the root user, each valid for BatchImportFindings', async () => {
    const findings = await example();
    findings.forEach((f) => expectValidFinding(f));
    expect(new Set(findings.map((f) => f.Id)).size).toBe(findings.length);
    const kinds = (g: string) => findings.filter((f) => f.GeneratorId === g).length;
    expect({ users: kinds(GENERATORS.user), keys: kinds(GENERATORS.accessKey), root: kinds(GENERATORS.root) }).toEqual({ users: 10, keys: 13, root: 1 });
  });

  it('FAILED for the stale active keys and their users, PASSED for every key and user that is fine', async () => {
    const findings = await example();
    const failed = findings.filter((f) => f.Compliance.Status === 'FAILED').map((f) => f.Title);
    expect(failed).toEqual([
      'IAM user bob has 1 active access key older than 90 days',
      'IAM user bob: active access key 1 is 200 days old (limit 90)',
      'IAM user build-bot has 1 active access key older than 90 days',
      'IAM user build-bot: active access key 1 is 91 days old (limit 90)',
      'IAM user old-backup has 2 active access keys older than 90 days',
      'IAM user old-backup: active access key 1 is 412 days old (limit 90)',
      'IAM user old-backup: active access key 2 is 95 days old (limit 90)',
    ]);
    expect(findings.filter((f) => f.Compliance.Status === 'PASSED')).toHaveLength(24 - 7);
    // The limit is inclusive: ci-deploy's key, exactly 90 days old, passes; erin's inactive 400-day key passes.
    expect(byId(findings, userFindingId(ACCOUNT, 'ci-deploy')).Compliance.Status).toBe('PASSED');
    const erinOld = findings.find((f) => f.ProductFields['keyage/UserName'] === 'erin' && f.ProductFields['keyage/KeyStatus'] === 'Inactive');
    expect(erinOld?.Compliance.Status).toBe('PASSED');
    expect(erinOld?.Title).toBe('IAM user erin: inactive access key 1 is 400 days old (limit 90)');
  });

  it('maps each finding to IAM.3 the way Security Hub does: MEDIUM when FAILED, INFORMATIONAL when PASSED, in FindingProviderFields', async () => {
    const findings = await example();
    const bob = byId(findings, userFindingId(ACCOUNT, 'bob'));
    expect(bob.Compliance).toEqual({ Status: 'FAILED', RelatedRequirements: [...IAM3_RELATED_REQUIREMENTS], SecurityControlId: 'IAM.3' });
    expect(bob.FindingProviderFields).toEqual({ Severity: { Label: 'MEDIUM', Original: 'MEDIUM' }, Types: [CIS_FINDING_TYPE] });
    const alice = byId(findings, userFindingId(ACCOUNT, 'alice'));
    expect(alice.FindingProviderFields.Severity).toEqual({ Label: 'INFORMATIONAL', Original: 'INFORMATIONAL' });
    expect(alice.Remediation.Recommendation.Url).toBe('https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#Using_RotateAccessKey');
  });

  it('names a key by account, user and creation second, and dates its finding from the key\'s creation (it never moves)', async () => {
    const findings = await example();
    const bobKey = findings.find((f) => f.Title.startsWith('IAM user bob: active access key 1'));
    expect(bobKey?.Id).toBe(`keyage/IAM.3/${ACCOUNT}/user/bob/key/2026-05-09T11:20:15Z`);
    expect(bobKey?.CreatedAt).toBe('2026-05-09T11:20:15.000Z');
    expect(bobKey?.UpdatedAt).toBe('2026-11-25T12:00:00.000Z');
    expect(bobKey?.ProductFields).toMatchObject({ 'keyage/KeySlot': '1', 'keyage/AgeDays': '200', 'keyage/DueAt': '2026-08-08T11:20:15.000Z', 'keyage/PlannedAction': 'deactivate' });
    // A credential report has no key IDs: the resource is the user.
    expect(bobKey?.Resources).toEqual([
      { Type: 'AwsIamUser', Id: 'arn:aws:iam::123456789012:user/bob', Partition: 'aws', Region: 'us-east-1', Details: { AwsIamUser: { UserName: 'bob', CreateDate: '2023-08-13T07:33:01.000Z' } } },
    ]);
  });

  it('gives the same key and user the same IDs offline and live, though only the live audit knows the key ID', () => {
    const created = daysAgo(120, 123); // live CreateDate has milliseconds; the report has whole seconds
    const offline = reportOf([{ userName: 'dave', userId: null, arn: `arn:aws:iam::${ACCOUNT}:user/dave`, keys: [{ slot: 1, status: 'Active', createdAt: new Date(Math.floor(created.getTime() / 1000) * 1000) }], exempt: false }], OFFLINE);
    const live = reportOf(
      [{ userName: 'dave', userId: 'AIDAEXAMPLEDAVE00001', arn: `arn:aws:iam::${ACCOUNT}:user/dave`, keys: [{ accessKeyId: 'AKIAEXAMPLEDAVE00001', slot: 1, status: 'Active', createdAt: created, lastUsedAt: null }], exempt: false }],
      LIVE,
    );
    const ids = (r: AuditReport) => buildAsffFindings(r).map((f) => f.Id);
    expect(ids(live)).toEqual(ids(offline));
    expect(ids(live)).toEqual([userFindingId(ACCOUNT, 'dave'), `keyage/IAM.3/${ACCOUNT}/user/dave/key/${isoSecond(created.toISOString())}`]);
    const [, key] = buildAsffFindings(live);
    expectValidFinding(key as AsffFinding);
    expect(key?.Resources[0]).toEqual({
      Type: 'AwsIamAccessKey',
      Id: 'AWS::IAM::AccessKey:AKIAEXAMPLEDAVE00001',
      Partition: 'aws',
      Region: 'us-east-1',
      Details: {
        AwsIamAccessKey: {
          AccessKeyId: 'AKIAEXAMPLEDAVE00001',
          AccountId: ACCOUNT,
          CreatedAt: created.toISOString(),
          PrincipalName: 'dave',
          PrincipalType: 'IAMUser',
          PrincipalId: 'AIDAEXAMPLEDAVE00001',
          Status: 'Active',
        },
      },
    });
  });

  it('two keys of one user created in the same second get the slot in their IDs, so the IDs stay distinct', () => {
    const second = daysAgo(100);
    const report = reportOf(
      [
        {
          userName: 'twin',
          userId: null,
          arn: `arn:aws:iam::${ACCOUNT}:user/twin`,
          keys: [
            { slot: 1, status: 'Active', createdAt: second },
            { slot: 2, status: 'Active', createdAt: new Date(second.getTime() + 400) },
          ],
          exempt: false,
        },
      ],
      OFFLINE,
    );
    const keyIds = buildAsffFindings(report).filter((f) => f.GeneratorId === GENERATORS.accessKey).map((f) => f.Id);
    const base = `keyage/IAM.3/${ACCOUNT}/user/twin/key/${isoSecond(second.toISOString())}`;
    expect(keyIds).toEqual([`${base}/slot-1`, `${base}/slot-2`]);
    expect(keyFindingId(ACCOUNT, 'twin', { createdAt: second.toISOString(), slot: 1 })).toBe(base);
  });

  it('an exempt user and a user deleted during the audit have no findings (earlier ones are closed on import)', () => {
    const report = reportOf(
      [
        { userName: 'svc', userId: null, arn: `arn:aws:iam::${ACCOUNT}:user/svc`, keys: [{ slot: 1, status: 'Active', createdAt: daysAgo(300) }], exempt: true },
        { userName: 'ok', userId: null, arn: `arn:aws:iam::${ACCOUNT}:user/ok`, keys: [], exempt: false },
      ],
      LIVE,
    );
    const withDeleted = { ...report, users: [...report.users, deletedUser('gone', 'AIDAGONE', `arn:aws:iam::${ACCOUNT}:user/gone`)] };
    expect(buildAsffFindings(withDeleted).map((f) => [f.Id, f.Compliance.Status])).toEqual([[userFindingId(ACCOUNT, 'ok'), 'PASSED']]);
  });

  it('clips a title to the ASFF limit for the longest IAM user name', () => {
    const name = 'u'.repeat(64);
    const report = reportOf([{ userName: name, userId: null, arn: `arn:aws:iam::${ACCOUNT}:user/${'p/'.repeat(200)}${name}`, keys: [{ slot: 1, status: 'Active', createdAt: daysAgo(400) }], exempt: false }], OFFLINE);
    for (const f of buildAsffFindings(report)) expectValidFinding(f);
  });

  it('--region sets the ProductArn and the resources\' Region', async () => {
    const run = await runCli(['audit', '--credential-report', 'examples/credential-report.csv', '--now', PINNED_NOW, '--format', 'asff', '--region', 'eu-west-1']);
    const [first] = JSON.parse(run.stdout) as AsffFinding[];
    expect(first?.ProductArn).toBe('arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default');
    expectValidFinding(first as AsffFinding, 'aws', 'eu-west-1');
  });

  it('the ProductArn is partition-correct: arn:aws-us-gov:securityhub:… for a GovCloud account', () => {
    const users = [{ userName: 'gov', userId: null, arn: `arn:aws-us-gov:iam::${ACCOUNT}:user/gov`, keys: [], exempt: false }];
    const report = reportOf(users, OFFLINE, { partition: 'aws-us-gov', region: 'us-gov-west-1' });
    const [f] = buildAsffFindings(report);
    expect(f?.ProductArn).toBe(`arn:aws-us-gov:securityhub:us-gov-west-1:${ACCOUNT}:product/${ACCOUNT}/default`);
    expect(productArn('aws-cn', 'cn-north-1', ACCOUNT)).toBe(`arn:aws-cn:securityhub:cn-north-1:${ACCOUNT}:product/${ACCOUNT}/default`);
    expectValidFinding(f as AsffFinding, 'aws-us-gov', 'us-gov-west-1');
  });

  it('root keys are one CRITICAL FAILED finding of IAM.4 on the account; a root user without keys PASSES', async () => {
    const run = await runCli(['audit', '--credential-report', fixture('root-keys.csv'), '--now', PINNED_NOW, '--format', 'asff']);
    const root = (JSON.parse(run.stdout) as AsffFinding[]).filter((f) => f.GeneratorId === GENERATORS.root);
    expect(root.map((f) => [f.Id, f.Compliance.Status, f.Compliance.SecurityControlId, f.FindingProviderFields.Severity.Label])).toEqual([
      ['keyage/IAM.4/210987654321/root', 'FAILED', 'IAM.4', 'CRITICAL'],
    ]);
    expect(root[0]?.Resources).toEqual([{ Type: 'AwsAccount', Id: 'AWS::::Account:210987654321', Partition: 'aws', Region: 'us-east-1' }]);
    const clean = (await example()).filter((f) => f.GeneratorId === GENERATORS.root);
    expect(clean.map((f) => [f.Title, f.Compliance.Status])).toEqual([['The root user has no access key', 'PASSED']]);
  });

  it('a live audit, which cannot see the root user, gives no root finding and may not close one', () => {
    const report = reportOf([], LIVE);
    expect(buildAsffFindings(report)).toEqual([]);
    const scope = findingScope(report);
    expect([...(scope?.generators ?? [])].sort()).toEqual([GENERATORS.accessKey, LEGACY_GENERATORS.accessKey, GENERATORS.user].sort());
  });

  it('a report with no account to tell gives no findings rather than a finding without an account', () => {
    const empty = reportOf([], LIVE, { accountId: null });
    expect(buildAsffFindings(empty)).toEqual([]);
    expect(findingScope(empty)).toBeNull();
  });
});
