/**
 * The Security Hub import with the client mocked (aws-sdk-client-mock): batches of at most 100
 * findings, FailedFindings sent again and, when still refused, reported with exit 3; GetFindings
 * paged with keyage's filters; throttling retried; an import that fails never hides the report.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { BatchImportFindingsCommand, GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsCaller } from '../../lib/aws-call';
import { type AuditReport, auditUser, summarize } from '../../cli/audit-report';
import { type AsffFinding, buildAsffFindings, findingScope, type FindingScope } from '../../cli/format-asff';
import { importBatches, planImport, sendImport } from '../../cli/security-hub';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { EXAMPLE, PINNED_NOW, runCli } from './run-cli';

const hubMock = mockClient(SecurityHubClient);
const stsMock = mockClient(STSClient);
const NOW = new Date(PINNED_NOW);
const ACCOUNT = '123456789012';

/** A report of `n` users with one young key each (2n findings). */
function reportOf(n: number): AuditReport {
  const users = Array.from({ length: n }, (_, i) =>
    auditUser(
      { userName: `user${i}`, userId: null, arn: `arn:aws:iam::${ACCOUNT}:user/user${i}`, keys: [{ slot: 1, status: 'Active', createdAt: new Date(NOW.getTime() - 10 * DAY_MS - i * 1000) }], exempt: false },
      NOW,
      { maxAccessKeyAgeDays: 90 },
    ),
  );
  return {
    schemaVersion: 1,
    command: 'audit',
    now: NOW.toISOString(),
    parameters: { maxAccessKeyAgeDays: 90, exemptionTag: null, graceDays: 14 },
    source: { kind: 'live', region: 'us-east-1', profile: null },
    accountId: ACCOUNT,
    partition: 'aws',
    region: 'us-east-1',
    summary: summarize(users, null),
    root: null,
    users,
  };
}

const ctx = () => ({ securityHub: new SecurityHubClient({ region: 'us-east-1' }), caller: new AwsCaller({ sleep: async () => undefined }), sleep: async () => undefined });

beforeEach(() => {
  hubMock.reset();
  stsMock.reset();
  hubMock.on(GetFindingsCommand).resolves({ Findings: [] });
  hubMock.on(BatchImportFindingsCommand).callsFake((input: { Findings: unknown[] }) => ({ FailedCount: 0, SuccessCount: input.Findings.length, FailedFindings: [] }));
});

describe('the Security Hub import', () => {
  it('sends 250 findings in batches of 100, 100 and 50', async () => {
    const report = reportOf(125);
    const scope = findingScope(report) as FindingScope;
    const findings = buildAsffFindings(report);
    const plan = await planImport(ctx(), scope, report, findings, NOW.toISOString());
    const result = await sendImport(ctx(), scope, plan);
    expect(hubMock.commandCalls(BatchImportFindingsCommand).map((c) => c.args[0].input.Findings?.length)).toEqual([100, 100, 50]);
    expect(result).toMatchObject({ active: { PASSED: 250, FAILED: 0, NOT_AVAILABLE: 0 }, archived: 0, refused: [], importCalls: 3 });
  });

  it('splits a batch before 5 MB', () => {
    const big = Array.from({ length: 10 }, (_, i) => ({ Id: String(i), Description: 'x'.repeat(1024 * 1024) }));
    expect(importBatches(big).map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it('sends the findings in FailedFindings again, and only those', async () => {
    const report = reportOf(3);
    const scope = findingScope(report) as FindingScope;
    const findings = buildAsffFindings(report);
    const flaky = findings[1]?.Id as string;
    hubMock
      .on(BatchImportFindingsCommand)
      .resolvesOnce({ FailedCount: 1, SuccessCount: 5, FailedFindings: [{ Id: flaky, ErrorCode: 'InternalException', ErrorMessage: 'try again' }] })
      .resolves({ FailedCount: 0, SuccessCount: 1, FailedFindings: [] });
    const result = await sendImport(ctx(), scope, await planImport(ctx(), scope, report, findings, NOW.toISOString()));
    const calls = hubMock.commandCalls(BatchImportFindingsCommand);
    expect(calls.map((c) => c.args[0].input.Findings?.map((f) => f.Id))).toEqual([findings.map((f) => f.Id), [flaky]]);
    expect(result.refused).toEqual([]);
    expect(result.active.PASSED).toBe(6);
  });

  it('reports what is still refused after three rounds, with the error code and message', async () => {
    const report = reportOf(1);
    const scope = findingScope(report) as FindingScope;
    const findings = buildAsffFindings(report);
    const bad = findings[0]?.Id as string;
    hubMock.on(BatchImportFindingsCommand).callsFake((input: { Findings: AsffFinding[] }) => ({
      FailedCount: input.Findings.some((f) => f.Id === bad) ? 1 : 0,
      SuccessCount: input.Findings.filter((f) => f.Id !== bad).length,
      FailedFindings: input.Findings.some((f) => f.Id === bad) ? [{ Id: bad, ErrorCode: 'InvalidInput', ErrorMessage: 'Finding is too large' }] : [],
    }));
    const result = await sendImport(ctx(), scope, await planImport(ctx(), scope, report, findings, NOW.toISOString()));
    expect(hubMock).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 3);
    expect(result.refused).toEqual([{ id: bad, errorCode: 'InvalidInput', errorMessage: 'Finding is too large' }]);
    expect(result.active.PASSED).toBe(1);
  });

  it('pages GetFindings until NextToken is empty, and closes keyage findings the audit no longer reports', async () => {
    const report = reportOf(1);
    const scope = findingScope(report) as FindingScope;
    const stale = {
      SchemaVersion: '2018-10-08',
      Id: `keyage/IAM.3/${ACCOUNT}/user/gone`,
      ProductArn: scope.productArn,
      GeneratorId: 'keyage/IAM.3/user',
      AwsAccountId: ACCOUNT,
      Region: 'us-east-1',
      CreatedAt: '2026-01-01T00:00:00.000Z',
      UpdatedAt: '2026-01-01T00:00:00.000Z',
      Title: 't',
      Description: 'd',
      Resources: [{ Type: 'AwsIamUser', Id: `arn:aws:iam::${ACCOUNT}:user/gone` }],
      RecordState: 'ACTIVE' as const,
      Compliance: { Status: 'FAILED' as const },
      Workflow: { Status: 'NOTIFIED' as const },
      Severity: { Label: 'MEDIUM' as const },
      Note: { Text: 'a customer note', UpdatedBy: 'me', UpdatedAt: '2026-01-02T00:00:00.000Z' },
    };
    hubMock.on(GetFindingsCommand).resolvesOnce({ Findings: [], NextToken: 't1' }).resolvesOnce({ Findings: [stale] }).resolves({ Findings: [] });
    const plan = await planImport(ctx(), scope, report, buildAsffFindings(report), '2026-11-25T13:00:00.000Z');
    expect(hubMock).toHaveReceivedNthCommandWith(2, GetFindingsCommand, { Filters: expect.anything(), MaxResults: 100, NextToken: 't1' });
    expect(plan.archive).toEqual([
      {
        SchemaVersion: '2018-10-08',
        Id: stale.Id,
        ProductArn: scope.productArn,
        GeneratorId: 'keyage/IAM.3/user',
        AwsAccountId: ACCOUNT,
        Region: 'us-east-1',
        CreatedAt: '2026-01-01T00:00:00.000Z',
        UpdatedAt: '2026-11-25T13:00:00.000Z',
        Title: 't',
        Description: 'Closed by keyage on 2026-11-25: IAM user gone no longer exists. d',
        ProductFields: { 'keyage/ClosedReason': 'IAM user gone no longer exists' },
        Resources: stale.Resources,
        Compliance: { Status: 'PASSED' },
        RecordState: 'ARCHIVED',
      },
    ]);
  });
});

describe('keyage audit --security-hub (command line)', () => {
  const clients = () => ({ sts: () => new STSClient({ region: 'us-east-1' }), securityHub: () => new SecurityHubClient({ region: 'us-east-1' }), iam: () => new IAMClient({ region: 'us-east-1' }) });

  it('refused findings: the report is printed, the refusal named on standard error, exit 3', async () => {
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/me` });
    hubMock.on(BatchImportFindingsCommand).callsFake((input: { Findings: AsffFinding[] }) => ({
      FailedCount: 1,
      SuccessCount: input.Findings.length - 1,
      FailedFindings: [{ Id: input.Findings[0]?.Id, ErrorCode: 'InvalidAccess', ErrorMessage: 'Security Hub is not enabled' }],
    }));
    const run = await runCli(['audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW, '--security-hub', '--format', 'json'], { clients: clients(), sleep: async () => undefined });
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout).accountId).toBe(ACCOUNT);
    expect(run.stderr).toContain(`keyage: Security Hub refused 1 finding(s) of account ${ACCOUNT} in us-east-1 after retries: keyage/IAM.4/${ACCOUNT}/root: InvalidAccess Security Hub is not enabled`);
  });

  it('GetFindings denied: the report is printed, the failure named, exit 3, nothing imported', async () => {
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/me` });
    hubMock.on(GetFindingsCommand).rejects(Object.assign(new Error('not authorized to perform securityhub:GetFindings'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }));
    const run = await runCli(['audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW, '--security-hub'], { clients: clients() });
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('Summary: 10 users, 3 non-compliant');
    expect(run.stderr).toMatch(/^keyage: Security Hub import failed: Access denied for securityhub:GetFindings/);
    expect(hubMock).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 0);
  });

  it('throttled BatchImportFindings is retried and the import completes; exit 1 for the example\'s findings', async () => {
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/me` });
    hubMock
      .on(BatchImportFindingsCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } }))
      .callsFake((input: { Findings: unknown[] }) => ({ FailedCount: 0, SuccessCount: input.Findings.length, FailedFindings: [] }));
    const run = await runCli(['audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW, '--security-hub'], { clients: clients(), sleep: async () => undefined });
    expect(run.code).toBe(1);
    expect(hubMock).toHaveReceivedCommandTimes(BatchImportFindingsCommand, 2);
    expect(run.stderr).toBe(`keyage: Security Hub us-east-1, account ${ACCOUNT}: 7 FAILED and 17 PASSED finding(s) imported, 0 closed (ARCHIVED).\n`);
  });
});
