/**
 * `keyage audit --organization` with the SDK mocked (aws-sdk-client-mock): the exact
 * Organizations, STS and IAM calls and their inputs, paging, bounded concurrency across
 * accounts, partition-correct role ARNs, per-account failures that leave the other accounts
 * complete, root keys from GetAccountSummary, per-account parameters, usage errors.
 */
import { GetAccessKeyLastUsedCommand, GetAccountAuthorizationDetailsCommand, GetAccountSummaryCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ConfigServiceClient, DescribeConfigRulesCommand } from '@aws-sdk/client-config-service';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DescribeDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { type AwsClientFactory, refreshingCredentials } from '../../cli/aws-clients';
import { auditOrganization, MEMBER_AUDIT_ACTIONS } from '../../cli/audit-organization';
import type { OrganizationAuditReport } from '../../cli/organization-report';
import { createLogger } from '../../lib/log';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PINNED_NOW, runCli } from './run-cli';

const iamMock = mockClient(IAMClient);
const orgsMock = mockClient(OrganizationsClient);
const stsMock = mockClient(STSClient);
const configMock = mockClient(ConfigServiceClient);
const ssmMock = mockClient(SSMClient);
const kmsMock = mockClient(KMSClient);
const NOW = new Date(PINNED_NOW);
const CALLER = '111111111111';

/** Clients whose IAM client carries the account it reads as its access key (so the mock can tell accounts apart). */
function clients(): AwsClientFactory {
  return {
    iam: (c) => new IAMClient({ region: 'us-east-1', credentials: c ?? { accessKeyId: `AK${CALLER}`, secretAccessKey: 's' } }),
    sts: () => new STSClient({ region: 'us-east-1' }),
    organizations: () => new OrganizationsClient({ region: 'us-east-1' }),
    securityHub: () => {
      throw new Error('not in these tests');
    },
    config: (c) => new ConfigServiceClient({ region: 'us-east-1', credentials: c ?? { accessKeyId: `AK${CALLER}`, secretAccessKey: 's' } }),
    ssm: (c) => new SSMClient({ region: 'us-east-1', credentials: c ?? { accessKeyId: `AK${CALLER}`, secretAccessKey: 's' } }),
    kms: (c) => new KMSClient({ region: 'us-east-1', credentials: c ?? { accessKeyId: `AK${CALLER}`, secretAccessKey: 's' } }),
  };
}

async function accountOf(getClient: () => unknown): Promise<string> {
  const creds = await (getClient() as IAMClient).config.credentials();
  return creds.accessKeyId.slice(2);
}

/** Accounts with one user each, whose one key is `days` old. */
function givenAccounts(accounts: { id: string; name: string; state?: string; days?: number; denied?: boolean; rootKeys?: boolean }[], partition = 'aws'): void {
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: CALLER, Arn: `arn:${partition}:iam::${CALLER}:user/auditor` });
  orgsMock.on(ListAccountsCommand).resolves({ Accounts: accounts.map((a) => ({ Id: a.id, Name: a.name, State: (a.state ?? 'ACTIVE') as 'ACTIVE' })) });
  stsMock.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => {
    const id = /iam::(\d{12}):role/.exec(input.RoleArn)?.[1] as string;
    return { Credentials: { AccessKeyId: `AK${id}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3600_000) } };
  });
  const byId = new Map(accounts.map((a) => [a.id, a]));
  iamMock.on(GetAccountAuthorizationDetailsCommand).callsFake(async (_input, getClient) => {
    const a = byId.get(await accountOf(getClient)) as (typeof accounts)[number];
    if (a.denied) throw Object.assign(new Error('not authorized to perform: iam:GetAccountAuthorizationDetails'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    return { UserDetailList: [{ UserName: `u-${a.name}`, UserId: `AIDA${a.id}`, Arn: `arn:${partition}:iam::${a.id}:user/u-${a.name}`, CreateDate: new Date(NOW.getTime() - 900 * DAY_MS), Tags: [] }], IsTruncated: false };
  });
  iamMock.on(ListAccessKeysCommand).callsFake(async (input: { UserName: string }, getClient) => {
    const a = byId.get(await accountOf(getClient)) as (typeof accounts)[number];
    return { AccessKeyMetadata: [{ UserName: input.UserName, AccessKeyId: `AKIA${a.id}0000`, Status: 'Active', CreateDate: new Date(NOW.getTime() - (a.days ?? 10) * DAY_MS) }], IsTruncated: false };
  });
  iamMock.on(GetAccessKeyLastUsedCommand).resolves({ AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });
  iamMock.on(GetAccountSummaryCommand).callsFake(async (_input, getClient) => {
    const a = byId.get(await accountOf(getClient)) as (typeof accounts)[number];
    return { SummaryMap: { AccountAccessKeysPresent: a.rootKeys ? 1 : 0 } };
  });
}

const orgAudit = (...args: string[]) => runCli(['audit', '--organization', '--now', PINNED_NOW, '--format', 'json', ...args], { clients: clients(), sleep: async () => undefined });
const parse = (stdout: string) => JSON.parse(stdout) as OrganizationAuditReport;

/** No keyage deployed in any account (no rule, no runbook, no record key): keyage's defaults apply. */
function givenNoDeployment(): void {
  configMock.on(DescribeConfigRulesCommand).resolves({ ConfigRules: [] });
  ssmMock.on(DescribeDocumentCommand).rejects(Object.assign(new Error('document not found'), { name: 'InvalidDocument', $metadata: { httpStatusCode: 400 } }));
  kmsMock.on(DescribeKeyCommand).rejects(Object.assign(new Error('alias not found'), { name: 'NotFoundException', $metadata: { httpStatusCode: 400 } }));
}

beforeEach(() => {
  iamMock.reset();
  orgsMock.reset();
  stsMock.reset();
  configMock.reset();
  ssmMock.reset();
  kmsMock.reset();
  givenNoDeployment();
});

describe('keyage audit --organization', () => {
  it('pages ListAccounts until NextToken is empty, an empty page with a NextToken included', async () => {
    givenAccounts([]);
    orgsMock
      .on(ListAccountsCommand)
      .resolvesOnce({ Accounts: [{ Id: '222222222222', Name: 'a', State: 'ACTIVE' }], NextToken: 'n1' })
      .resolvesOnce({ Accounts: [], NextToken: 'n2' })
      .resolvesOnce({ Accounts: [{ Id: '333333333333', Name: 'b', State: 'ACTIVE' }] });
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [], IsTruncated: false });
    iamMock.on(GetAccountSummaryCommand).resolves({ SummaryMap: { AccountAccessKeysPresent: 0 } });
    const run = await orgAudit();
    expect(run.code).toBe(0);
    expect(orgsMock.commandCalls(ListAccountsCommand).map((c) => c.args[0].input)).toEqual([{}, { NextToken: 'n1' }, { NextToken: 'n2' }]);
    expect(parse(run.stdout).accounts.map((a) => a.accountId)).toEqual(['222222222222', '333333333333']);
  });

  it('assumes the role in every account but the caller\'s own, with the exact role ARN and session name', async () => {
    givenAccounts([
      { id: CALLER, name: 'management' },
      { id: '222222222222', name: 'prod' },
    ]);
    const run = await orgAudit('--role-name', 'SecurityAudit-ro');
    expect(run.code).toBe(0);
    expect(stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([{ RoleArn: 'arn:aws:iam::222222222222:role/SecurityAudit-ro', RoleSessionName: 'keyage-audit' }]);
    const report = parse(run.stdout);
    expect(report.source).toMatchObject({ kind: 'organization', roleName: 'SecurityAudit-ro', callerAccountId: CALLER });
  });

  it('--format html --output FILE writes one page with the per-account rollup, each account\'s limit and its source, and the same summary as the JSON', async () => {
    givenAccounts([
      { id: CALLER, name: 'management', days: 10 },
      { id: '222222222222', name: 'prod', days: 120 },
      { id: '333333333333', name: 'legacy', state: 'SUSPENDED' },
    ]);
    const file = join(mkdtempSync(join(tmpdir(), 'keyage-org-html-')), 'org.html');
    const run = await orgAudit('--format', 'html', '--output', file);
    expect(run.code).toBe(3); // one account not audited
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`keyage: wrote the report to ${file} (`);
    const html = readFileSync(file, 'utf8');
    const rollup = [...html.matchAll(/<tr data-account="(\d{12})">(.*?)<\/tr>/g)].map((m) => [m[1], [...(m[2] as string).matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1])]);
    expect(rollup).toEqual([
      [CALLER, [CALLER, 'management', 'ACTIVE', 'complete', '1', '0', '0', '10 d, u-management (AKIA1111111111110000)', 'none', '90 d (keyage’s default)']],
      ['222222222222', ['222222222222', 'prod', 'ACTIVE', 'complete', '1', '1', '1', '120 d, u-prod (AKIA2222222222220000)', 'none', '90 d (keyage’s default)']],
      ['333333333333', ['333333333333', 'legacy', 'SUSPENDED', 'NOT AUDITED', '—', '—', '—', '—', '—', '—']],
    ]);
    const json = parse((await orgAudit()).stdout);
    const cards = Object.fromEntries([...html.matchAll(/data-summary="(\w+)" data-value="(\d+)"/g)].map((m) => [m[1], Number(m[2])]));
    expect(cards).toEqual(Object.fromEntries(Object.keys(cards).map((k) => [k, json.summary[k as keyof typeof json.summary]])));
    expect(html).toContain('<li><span class="mono">333333333333</span> (legacy): the account is SUSPENDED in Organizations');
  });

  it('builds the role ARN in the caller\'s partition (GovCloud: arn:aws-us-gov:…)', async () => {
    givenAccounts([{ id: '222222222222', name: 'gov' }], 'aws-us-gov');
    const run = await orgAudit('--region', 'us-gov-west-1', '--format', 'asff');
    expect(stsMock).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: 'arn:aws-us-gov:iam::222222222222:role/keyage-audit' });
    const [finding] = JSON.parse(run.stdout) as { ProductArn: string }[];
    expect(finding?.ProductArn).toBe('arn:aws-us-gov:securityhub:us-gov-west-1:222222222222:product/222222222222/default');
  });

  it.each([
    [1, 1],
    [2, 2],
    [4, 4],
  ])('--concurrency %i audits at most %i accounts at once', async (concurrency, expected) => {
    givenAccounts(Array.from({ length: 6 }, (_, i) => ({ id: `2000000000${String(i).padStart(2, '0')}`, name: `a${i}` })));
    let inFlight = 0;
    let most = 0;
    iamMock.on(GetAccountAuthorizationDetailsCommand).callsFake(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return { UserDetailList: [], IsTruncated: false };
    });
    const run = await orgAudit('--concurrency', String(concurrency));
    expect(run.code).toBe(0);
    expect(most).toBe(expected);
    expect(parse(run.stdout).summary.accountsAudited).toBe(6);
  });

  it('an account whose role may not read IAM is reported with the action denied; the others are complete; exit 3', async () => {
    givenAccounts([
      { id: '222222222222', name: 'prod', days: 200 },
      { id: '333333333333', name: 'locked', denied: true },
    ]);
    const run = await orgAudit();
    expect(run.code).toBe(3);
    const [prod, locked] = parse(run.stdout).accounts;
    expect(prod).toMatchObject({ audited: true, nonCompliantUsers: 1, staleKeys: 1 });
    expect(prod?.report?.users[0]?.keys[0]).toMatchObject({ accessKeyId: 'AKIA2222222222220000', ageDays: 200, verdict: 'NON_COMPLIANT', action: 'deactivate' });
    expect(locked).toMatchObject({ audited: false, failure: 'access-denied', report: null });
    expect(locked?.reason).toContain('iam:GetAccountAuthorizationDetails was denied to arn:aws:iam::333333333333:role/keyage-audit');
    expect(locked?.reason).toContain(MEMBER_AUDIT_ACTIONS.join(', '));
    expect(run.stderr).toContain('keyage:   333333333333 (locked): iam:GetAccountAuthorizationDetails was denied');
  });

  it('root access keys (GetAccountSummary AccountAccessKeysPresent = 1) are a finding of their own: exit 1 and a FAILED IAM.4 finding', async () => {
    givenAccounts([{ id: '222222222222', name: 'prod', rootKeys: true }]);
    const run = await orgAudit();
    expect(run.code).toBe(1);
    const [prod] = parse(run.stdout).accounts;
    expect(prod).toMatchObject({ rootAccessKeysPresent: true, nonCompliantUsers: 0 });
    expect(prod?.report?.root).toMatchObject({ arn: 'arn:aws:iam::222222222222:root', compliance: 'NON_COMPLIANT', accessKeysPresent: true, keys: [] });
    const asff = JSON.parse((await orgAudit('--format', 'asff')).stdout) as { Id: string; Compliance: { Status: string } }[];
    expect(asff.find((f) => f.Id === 'keyage/IAM.4/222222222222/root')?.Compliance.Status).toBe('FAILED');
  });

  it('an account that is not ACTIVE is not assumed into at all', async () => {
    givenAccounts([
      { id: '222222222222', name: 'closing', state: 'PENDING_CLOSURE' },
      { id: '333333333333', name: 'ok' },
    ]);
    const run = await orgAudit();
    expect(run.code).toBe(3);
    expect(stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual(['arn:aws:iam::333333333333:role/keyage-audit']);
    expect(parse(run.stdout).accounts[0]).toMatchObject({ state: 'PENDING_CLOSURE', failure: 'not-active' });
  });

  it('judges each account by its own deployed rule, read with that account\'s assumed credentials, and says so per account', async () => {
    givenAccounts([
      { id: '222222222222', name: 'strict', days: 40 },
      { id: '333333333333', name: 'default', days: 40 },
    ]);
    const readers: string[] = [];
    configMock.on(DescribeConfigRulesCommand).callsFake(async (_input, getClient) => {
      const account = await accountOf(getClient);
      readers.push(account);
      if (account !== '222222222222') return { ConfigRules: [] };
      return { ConfigRules: [{ ConfigRuleName: 'keyage-access-key-age', InputParameters: JSON.stringify({ MaxAccessKeyAge: '30' }) }] };
    });
    const run = await orgAudit();
    expect(readers.sort()).toEqual(['222222222222', '333333333333']);
    expect(run.code).toBe(1);
    const report = parse(run.stdout);
    expect(report.accounts.map((a) => [a.name, a.maxAccessKeyAgeDays, a.nonCompliantUsers])).toEqual([
      ['strict', 30, 1],
      ['default', 90, 0],
    ]);
    expect(run.stderr).toContain('keyage: account 222222222222: using the deployed rule keyage-access-key-age in us-east-1: MaxAccessKeyAge 30 (deployed rule');
    expect(run.stderr).toContain("keyage: account 333333333333: using keyage's defaults (no keyage rule is deployed in us-east-1): MaxAccessKeyAge 90 (default)");
  });

  it('--only-findings keeps every account\'s rollup and only the key rows that are findings, in the table and the CSV', async () => {
    givenAccounts([
      { id: CALLER, name: 'management' },
      { id: '222222222222', name: 'prod', days: 200 },
    ]);
    const table = await orgAudit('--format', 'table', '--only-findings');
    expect(table.code).toBe(1);
    const [rollup, keys] = table.stdout.split('\n\n');
    expect(rollup?.split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['ACCOUNT NAME', `${CALLER} management`, '222222222222 prod']);
    expect(keys?.split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['ACCOUNT USER', '222222222222 u-prod']);
    expect(table.stdout).toContain('Only findings are shown (--only-findings): 1 key row; the rollup and the summary count everything.');
    expect(table.stdout).toContain('Summary: 2 accounts, 2 audited, 0 not audited; 2 users, 1 non-compliant;');

    const csv = await orgAudit('--format', 'csv', '--only-findings');
    const rows = csv.stdout.trimEnd().split('\n').slice(1);
    // the management account keeps its rollup, on a row with empty user columns; prod its finding
    expect(rows.map((r) => r.split(',').slice(0, 2))).toEqual([
      [CALLER, ''],
      ['222222222222', 'u-prod'],
    ]);
  });

  it('draws a progress line across accounts on a terminal; standard output stays clean', async () => {
    givenAccounts([
      { id: '222222222222', name: 'a' },
      { id: '333333333333', name: 'b' },
    ]);
    const run = await runCli(['audit', '--organization', '--now', PINNED_NOW, '--format', 'json'], { clients: clients(), stderrIsTTY: true });
    expect(run.stderr).toContain('\rkeyage: auditing accounts 1/2 (50%)');
    expect(run.stderr).toContain('\rkeyage: auditing accounts 2/2 (100%)');
    // The progress line is cleared before the grouped per-account lines, which are all that follows it.
    const cleared = run.stderr.lastIndexOf('\r\u001b[2K');
    expect(cleared).toBeGreaterThan(run.stderr.lastIndexOf('(100%)'));
    expect(run.stderr.slice(cleared + 5).split('\n').filter(Boolean).every((l) => l.startsWith('keyage: 2 accounts 222222222222, 333333333333: '))).toBe(true);
    expect(parse(run.stdout).summary.accounts).toBe(2);
  });

  it.each([
    [['audit', '--ou', 'ou-ab12-cd34ef56'], 'keyage: Invalid value for parameter --ou: "ou-ab12-cd34ef56". Allowed: only with --organization.'],
    [['audit', '--role-name', 'x'], 'keyage: Invalid value for parameter --role-name: "x". Allowed: only with --organization.'],
    [['audit', '--organization', '--concurrency', '0'], 'keyage: Invalid value for parameter --concurrency: "0". Allowed: a whole number of accounts from 1 to 32 (default 4).'],
    [['audit', '--organization', '--accounts', '12345'], 'keyage: Invalid value for parameter --accounts: "12345". Allowed: 12-digit AWS account IDs, comma-separated'],
    [['audit', '--organization', '--ou', 'prod'], 'keyage: Invalid value for parameter --ou: "prod". Allowed: OU IDs'],
    [['audit', '--organization', '--ou', 'r-ab12', '--accounts', '222222222222'], 'keyage: Invalid value for parameter --accounts: "222222222222". Allowed: either --accounts or --ou, not both.'],
    [['audit', '--organization', '--credential-report', 'x.csv'], 'keyage: Invalid value for parameter --credential-report: "x.csv". Allowed: not with --organization'],
    [['audit', '--organization', '--role-name', 'bad/name'], 'keyage: Invalid value for parameter --role-name: "bad/name". Allowed: an IAM role name'],
  ])('%j is a usage error (exit 2) naming the option, before any AWS call', async (argv, message) => {
    const run = await runCli(argv, { clients: clients() });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.startsWith(message)).toBe(true);
    expect(stsMock.calls()).toHaveLength(0);
    expect(orgsMock.calls()).toHaveLength(0);
  });
});

describe('per-account parameters', () => {
  it('a parameter resolver decides each account\'s limit with that account\'s own reader; the rollup says which limit each got', async () => {
    givenAccounts([
      { id: '222222222222', name: 'strict', days: 45 },
      { id: '333333333333', name: 'default', days: 45 },
    ]);
    const asked: string[] = [];
    const report = await auditOrganization({
      clients: clients(),
      now: NOW,
      params: { maxAccessKeyAgeDays: 90 },
      graceDays: 14,
      region: 'us-east-1',
      profile: null,
      roleName: 'keyage-audit',
      selection: { organizationalUnits: null, accounts: null, exclude: [] },
      log: createLogger({ level: 'error', sink: () => undefined }),
      caller: { sleep: async () => undefined },
      settingsFor: async (ctx) => {
        asked.push(`${ctx.account.accountId}:${ctx.roleArn}:${await accountOf(() => ctx.reader.iam)}`);
        return { params: { maxAccessKeyAgeDays: ctx.account.name === 'strict' ? 30 : 90 } };
      },
    });
    expect(asked.sort()).toEqual(['222222222222:arn:aws:iam::222222222222:role/keyage-audit:222222222222', '333333333333:arn:aws:iam::333333333333:role/keyage-audit:333333333333']);
    expect(report.accounts.map((a) => [a.name, a.maxAccessKeyAgeDays, a.nonCompliantUsers])).toEqual([
      ['strict', 30, 1],
      ['default', 90, 0],
    ]);
    expect(report.accounts[0]?.report?.parameters.maxAccessKeyAgeDays).toBe(30);
  });
});

describe('refreshingCredentials', () => {
  it('fetches once, shares one fetch between concurrent callers, and fetches again 5 minutes before expiry', async () => {
    let now = 0;
    let fetches = 0;
    const provider = refreshingCredentials(async () => {
      fetches++;
      return { accessKeyId: `AK${fetches}`, secretAccessKey: 's', expiration: new Date(now + 3600_000) };
    }, () => now);
    const [a, b] = await Promise.all([provider(), provider()]);
    expect([a.accessKeyId, b.accessKeyId, fetches]).toEqual(['AK1', 'AK1', 1]);
    now = 3600_000 - 5 * 60_000 - 1;
    expect((await provider()).accessKeyId).toBe('AK1');
    now += 2;
    expect((await provider()).accessKeyId).toBe('AK2');
  });

  it('a failed fetch is not cached: the next call tries again', async () => {
    let calls = 0;
    const provider = refreshingCredentials(async () => {
      calls++;
      if (calls === 1) throw new Error('denied');
      return { accessKeyId: 'AK', secretAccessKey: 's' };
    });
    await expect(provider()).rejects.toThrow('denied');
    expect((await provider()).accessKeyId).toBe('AK');
  });
});
