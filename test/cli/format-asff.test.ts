/**
 * `--format asff`: every finding has the attributes BatchImportFindings requires, in the
 * formats and within the limits the AwsSecurityFinding reference sets, and is mapped to the
 * control (IAM.3, CIS 1.14) the way Security Hub maps its own control findings.
 */
import { type AuditReport, auditUser, summarize } from '../../cli/audit-report';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { ASFF_LIMITS, type AsffFinding, buildAsffFindings, CIS_FINDING_TYPE, IAM3_RELATED_REQUIREMENTS } from '../../cli/format-asff';
import { fixture, PINNED_NOW, runCli } from './run-cli';

const REQUIRED = ['SchemaVersion', 'Id', 'ProductArn', 'GeneratorId', 'AwsAccountId', 'Types', 'CreatedAt', 'UpdatedAt', 'Severity', 'Title', 'Description', 'Resources'] as const;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Assert the shape BatchImportFindings accepts. */
function expectValidFinding(f: AsffFinding): void {
  for (const field of REQUIRED) expect(f[field]).toBeTruthy();
  expect(f.SchemaVersion).toBe('2018-10-08');
  expect(f.ProductArn).toBe(`arn:aws:securityhub:us-east-1:${f.AwsAccountId}:product/${f.AwsAccountId}/default`);
  expect(f.AwsAccountId).toMatch(/^\d{12}$/);
  expect(f.CreatedAt).toMatch(TIMESTAMP);
  expect(f.UpdatedAt).toMatch(TIMESTAMP);
  expect(Date.parse(f.CreatedAt)).toBeLessThanOrEqual(Date.parse(f.UpdatedAt));
  for (const t of f.Types) expect(t.split('/').length).toBeLessThanOrEqual(3);
  expect(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']).toContain(f.Severity.Label);
  expect(f.Id.length).toBeLessThanOrEqual(ASFF_LIMITS.id);
  expect(f.Title.length).toBeLessThanOrEqual(ASFF_LIMITS.title);
  expect(f.Description.length).toBeLessThanOrEqual(ASFF_LIMITS.description);
  expect(f.Remediation.Recommendation.Text.length).toBeLessThanOrEqual(ASFF_LIMITS.recommendationText);
  expect(f.Remediation.Recommendation.Url).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
  expect(f.Resources.length).toBeGreaterThanOrEqual(1);
  expect(f.Resources.length).toBeLessThanOrEqual(32);
  for (const r of f.Resources) {
    expect(['AwsIamAccessKey', 'AwsIamUser', 'AwsAccount']).toContain(r.Type);
    expect(r.Partition).toBe('aws');
    expect(r.Region).toBe('us-east-1');
  }
  expect(Object.keys(f.ProductFields).length).toBeLessThanOrEqual(50);
  expect(f.Compliance.Status).toBe('FAILED');
  expect(f.Compliance.RelatedRequirements.length).toBeLessThanOrEqual(32);
  expect(f.RecordState).toBe('ACTIVE');
  expect(f.Workflow.Status).toBe('NEW');
  expect(Buffer.byteLength(JSON.stringify(f))).toBeLessThan(240 * 1024);
}

async function example(): Promise<AsffFinding[]> {
  const run = await runCli(['audit', '--credential-report', 'examples/credential-report.csv', '--now', PINNED_NOW, '--format', 'asff']);
  return JSON.parse(run.stdout) as AsffFinding[];
}

describe('ASFF findings', () => {
  it('one finding per non-compliant key of the example, each one valid for BatchImportFindings', async () => {
    const findings = await example();
    expect(findings.map((f) => f.Title)).toEqual([
      'IAM user bob: active access key 1 is 200 days old (limit 90)',
      'IAM user build-bot: active access key 1 is 91 days old (limit 90)',
      'IAM user old-backup: active access key 1 is 412 days old (limit 90)',
      'IAM user old-backup: active access key 2 is 95 days old (limit 90)',
    ]);
    findings.forEach(expectValidFinding);
    expect(new Set(findings.map((f) => f.Id)).size).toBe(findings.length);
  });

  it('maps each finding to IAM.3 and CIS 1.14 the way Security Hub does, with the rotation procedure', async () => {
    const [bob] = await example();
    expect(bob?.Types).toEqual([CIS_FINDING_TYPE]);
    expect(bob?.Compliance).toEqual({ Status: 'FAILED', RelatedRequirements: [...IAM3_RELATED_REQUIREMENTS], SecurityControlId: 'IAM.3' });
    expect(bob?.Compliance.RelatedRequirements).toEqual(expect.arrayContaining(['CIS AWS Foundations Benchmark v1.2.0/1.4', 'CIS AWS Foundations Benchmark v1.4.0/1.14']));
    expect(bob?.Severity).toEqual({ Label: 'MEDIUM' });
    expect(bob?.Remediation.Recommendation.Url).toBe('https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#Using_RotateAccessKey');
    expect(bob?.Remediation.Recommendation.Text).toContain('get-access-key-last-used');
  });

  it('dates a finding from the day the key went over the limit, and updates it at --now', async () => {
    const [bob] = await example();
    expect(bob?.CreatedAt).toBe('2026-08-08T11:20:15.000Z');
    expect(bob?.UpdatedAt).toBe('2026-11-25T12:00:00.000Z');
  });

  it('a finding from a credential report names the IAM user as its resource (the report has no key IDs)', async () => {
    const [bob] = await example();
    expect(bob?.Resources).toEqual([
      { Type: 'AwsIamUser', Id: 'arn:aws:iam::123456789012:user/bob', Partition: 'aws', Region: 'us-east-1', Details: { AwsIamUser: { UserName: 'bob' } } },
    ]);
    expect(bob?.ProductFields).toMatchObject({ 'keyage/KeySlot': '1', 'keyage/AgeDays': '200', 'keyage/PlannedAction': 'deactivate' });
  });

  it('a finding with a key ID carries an AwsIamAccessKey resource with the key\'s details', () => {
    const now = new Date(PINNED_NOW);
    const dave = auditUser(
      {
        userName: 'dave',
        userId: 'AIDAEXAMPLEDAVE00001',
        arn: 'arn:aws:iam::123456789012:user/dave',
        keys: [{ accessKeyId: 'AKIAEXAMPLEDAVE00001', slot: 1, status: 'Active', createdAt: new Date(now.getTime() - 100 * DAY_MS), lastUsedAt: null }],
        exempt: false,
      },
      now,
      { maxAccessKeyAgeDays: 90 },
    );
    const report: AuditReport = {
      schemaVersion: 1,
      command: 'audit',
      now: now.toISOString(),
      parameters: { maxAccessKeyAgeDays: 90, exemptionTag: null, graceDays: 14 },
      source: { kind: 'live', region: 'us-east-1', profile: null },
      accountId: '123456789012',
      partition: 'aws',
      region: 'us-east-1',
      summary: summarize([dave], null),
      root: null,
      users: [dave],
    };
    const [finding] = buildAsffFindings(report);
    expectValidFinding(finding as AsffFinding);
    expect(finding?.Id).toBe('keyage/IAM.3/123456789012/dave/AKIAEXAMPLEDAVE00001');
    expect(finding?.Title).toBe('IAM user dave: active access key AKIAEXAMPLEDAVE00001 (key 1) is 100 days old (limit 90)');
    expect(finding?.Resources[0]).toEqual({
      Type: 'AwsIamAccessKey',
      Id: 'AWS::IAM::AccessKey:AKIAEXAMPLEDAVE00001',
      Partition: 'aws',
      Region: 'us-east-1',
      Details: {
        AwsIamAccessKey: {
          AccessKeyId: 'AKIAEXAMPLEDAVE00001',
          AccountId: '123456789012',
          CreatedAt: '2026-08-17T12:00:00.000Z',
          PrincipalName: 'dave',
          PrincipalType: 'IAMUser',
          PrincipalId: 'AIDAEXAMPLEDAVE00001',
          Status: 'Active',
        },
      },
    });
    expect(finding?.Resources[1]).toMatchObject({ Type: 'AwsIamUser', Details: { AwsIamUser: { UserName: 'dave', UserId: 'AIDAEXAMPLEDAVE00001' } } });
  });

  it('clips a title to the ASFF limit for the longest IAM user name', () => {
    const now = new Date(PINNED_NOW);
    const name = 'u'.repeat(64);
    const long = auditUser(
      { userName: name, userId: null, arn: `arn:aws:iam::123456789012:user/${'p/'.repeat(200)}${name}`, keys: [{ slot: 1, status: 'Active', createdAt: new Date(now.getTime() - 400 * DAY_MS) }], exempt: false },
      now,
      { maxAccessKeyAgeDays: 90 },
    );
    const report = { schemaVersion: 1, command: 'audit', now: now.toISOString(), parameters: { maxAccessKeyAgeDays: 90, exemptionTag: null, graceDays: 14 }, source: { kind: 'credential-report', file: 'x', generatedAt: null }, accountId: '123456789012', partition: 'aws', region: 'us-east-1', summary: summarize([long], null), root: null, users: [long] } as const;
    const [finding] = buildAsffFindings(report);
    expectValidFinding(finding as AsffFinding);
  });

  it('--region sets the ProductArn and resource region', async () => {
    const run = await runCli(['audit', '--credential-report', 'examples/credential-report.csv', '--now', PINNED_NOW, '--format', 'asff', '--region', 'eu-west-1']);
    const [first] = JSON.parse(run.stdout) as AsffFinding[];
    expect(first?.ProductArn).toBe('arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default');
    expect(first?.Resources[0]?.Region).toBe('eu-west-1');
  });

  it('root keys are CRITICAL findings of IAM.4 on the account', async () => {
    const run = await runCli(['audit', '--credential-report', fixture('root-keys.csv'), '--now', PINNED_NOW, '--format', 'asff']);
    const findings = JSON.parse(run.stdout) as AsffFinding[];
    expect(findings).toHaveLength(2);
    for (const f of findings) {
      expect(f.Compliance.SecurityControlId).toBe('IAM.4');
      expect(f.Severity.Label).toBe('CRITICAL');
      expect(f.Resources).toEqual([{ Type: 'AwsAccount', Id: 'AWS::::Account:210987654321', Partition: 'aws', Region: 'us-east-1' }]);
    }
  });

  it('a report with no account to tell gives no findings rather than a finding without an account', () => {
    const empty = { accountId: null } as unknown as AuditReport;
    expect(buildAsffFindings(empty)).toEqual([]);
  });
});
