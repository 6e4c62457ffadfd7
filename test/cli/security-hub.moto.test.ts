/**
 * `keyage audit --security-hub` against moto_server's Security Hub (BatchImportFindings,
 * GetFindings), the real SDK clients over HTTP: findings go in PASSED and FAILED, keys rotated
 * away and users deleted are closed ARCHIVED, offline and live audits update the same findings,
 * and findings that are not keyage's own are never touched. moto's GetFindings ignores filters
 * and returns every finding of the account, which is exactly the case keyage's own check of each
 * finding guards against. moto cannot backdate a key, so `--now` moves forward instead.
 */
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { type AwsSecurityFinding, BatchImportFindingsCommand, GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { STSClient } from '@aws-sdk/client-sts';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { KMSClient } from '@aws-sdk/client-kms';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClientFactory } from '../../cli/aws-clients';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { createUserWithKeys, describeWithMoto, type MotoAccount, newMotoAccount } from '../harness/moto';
import { recordCommands, type RecordedCommand } from '../harness/record';
import { EXAMPLE, runCli } from './run-cli';

const daysOn = (d: number) => new Date(Date.now() + d * DAY_MS).toISOString();

/** Clients of one moto account, new each time (the CLI destroys what it builds). */
function accountClients(account: MotoAccount, hubCalls: RecordedCommand[][]): AwsClientFactory {
  const config = { endpoint: account.endpoint, region: account.region, credentials: account.credentials, maxAttempts: 1 };
  return {
    iam: () => new IAMClient(config),
    sts: () => new STSClient(config),
    organizations: () => new OrganizationsClient(config),
    config: () => new ConfigServiceClient(config),
    ssm: () => new SSMClient(config),
    kms: () => new KMSClient(config),
    securityHub: () => {
      const hub = new SecurityHubClient(config);
      hubCalls.push(recordCommands(hub));
      return hub;
    },
  };
}

describeWithMoto('keyage audit --security-hub against moto_server', () => {
  let account: MotoAccount;
  let hub: SecurityHubClient;
  let hubCalls: RecordedCommand[][];
  let keys: Record<string, string[]>;

  const audit = (...args: string[]) => runCli(['audit', '--security-hub', '--format', 'json', ...args], { clients: accountClients(account, hubCalls) });

  /** Every finding of the account, by ID: [RecordState, Compliance.Status]. */
  async function stored(): Promise<Record<string, [string | undefined, string | undefined]>> {
    const out: Record<string, [string | undefined, string | undefined]> = {};
    let token: string | undefined;
    do {
      const page = await hub.send(new GetFindingsCommand({ MaxResults: 100, ...(token ? { NextToken: token } : {}) }));
      for (const f of page.Findings ?? []) out[f.Id as string] = [f.RecordState, f.Compliance?.Status];
      token = page.NextToken ?? undefined;
    } while (token);
    return out;
  }

  const user = (name: string) => `keyage/IAM.3/${account.accountId}/user/${name}`;
  const keyIds = (all: Record<string, unknown>, name: string) => Object.keys(all).filter((id) => id.startsWith(`${user(name)}/key/`)).sort();

  beforeEach(async () => {
    account = await newMotoAccount();
    hub = new SecurityHubClient({ endpoint: account.endpoint, region: account.region, credentials: account.credentials, maxAttempts: 1 });
    hubCalls = [];
    keys = {
      alice: (await createUserWithKeys(account.iam, 'alice', 1)).accessKeyIds,
      bob: (await createUserWithKeys(account.iam, 'bob', 1)).accessKeyIds,
      carol: (await createUserWithKeys(account.iam, 'carol', 0)).accessKeyIds,
      svc: (await createUserWithKeys(account.iam, 'svc', 1, [{ Key: 'keyage-exempt', Value: 'true' }])).accessKeyIds,
    };
    // Bob's second key in a second of its own: two keys created in one second share the part of the
    // finding ID that both sources know (see keyFindingId), which real accounts all but never see.
    await new Promise((r) => setTimeout(r, 1100));
    const second = await account.iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    keys.bob!.push(second.AccessKey?.AccessKeyId as string);
  });

  afterEach(() => {
    hub.destroy();
    account.iam.destroy();
    account.config.destroy();
  });

  it('round-trips PASSED, then FAILED, then ARCHIVED for a key rotated away, a user deleted and a user made exempt', async () => {
    // Day 60: every key is young. Everything PASSES.
    const first = await audit('--now', daysOn(60));
    expect(first.code).toBe(0);
    expect(first.stderr).toBe(
      [
        "keyage: using keyage's defaults (no keyage rule is deployed in us-east-1): MaxAccessKeyAge 90 (default), ExemptionTag none (default), GracePeriodDays 14 (default); flags override.",
        'keyage: note: no record key (there is no KMS key alias/keyage-deactivation-records in us-east-1): deactivation records cannot be verified, so no deletion is planned.',
        `keyage: Security Hub us-east-1, account ${account.accountId}: 0 FAILED and 8 PASSED finding(s) imported, 0 closed (ARCHIVED).`,
        '',
      ].join('\n'),
    );
    let all = await stored();
    expect(Object.values(all).every(([state, status]) => state === 'ACTIVE' && status === 'PASSED')).toBe(true);
    expect(Object.keys(all)).toHaveLength(8); // 4 users, 4 keys
    const [bobOld, bobYoung] = keyIds(all, 'bob');

    // Day 91: the same findings (the same IDs) turn FAILED; carol, without keys, still PASSES.
    const second = await audit('--now', daysOn(91));
    expect(second.code).toBe(1);
    all = await stored();
    expect(Object.keys(all)).toHaveLength(8);
    expect(all[user('bob')]).toEqual(['ACTIVE', 'FAILED']);
    expect(all[bobOld as string]).toEqual(['ACTIVE', 'FAILED']);
    expect(all[user('carol')]).toEqual(['ACTIVE', 'PASSED']);

    // Bob rotates: his first key is deleted, a new one made. Alice leaves: her key and user are deleted.
    await account.iam.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: keys.bob![0] as string }));
    await new Promise((r) => setTimeout(r, 1100)); // a creation second of its own for the new key
    await account.iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    await account.iam.send(new DeleteAccessKeyCommand({ UserName: 'alice', AccessKeyId: keys.alice![0] as string }));
    await account.iam.send(new DeleteUserCommand({ UserName: 'alice' }));

    const third = await audit('--now', daysOn(91), '--exemption-tag', 'keyage-exempt=true');
    expect(third.code).toBe(1);
    expect(third.stderr).toContain('closed (ARCHIVED)');
    all = await stored();
    const aliceKey = keyIds(all, 'alice')[0] as string;
    const svcKey = keyIds(all, 'svc')[0] as string;
    const bobNew = keyIds(all, 'bob').find((id) => id !== bobOld && id !== bobYoung) as string;
    expect({
      bobOld: all[bobOld as string],
      bobYoung: all[bobYoung as string],
      bobNew: all[bobNew],
      alice: all[user('alice')],
      aliceKey: all[aliceKey],
      svc: all[user('svc')],
      svcKey: all[svcKey],
      carol: all[user('carol')],
    }).toEqual({
      bobOld: ['ARCHIVED', 'PASSED'], // rotated away
      bobYoung: ['ACTIVE', 'FAILED'],
      bobNew: ['ACTIVE', 'FAILED'], // created "today", judged 91 days on
      alice: ['ARCHIVED', 'PASSED'], // the user is gone
      aliceKey: ['ARCHIVED', 'PASSED'],
      svc: ['ARCHIVED', 'NOT_AVAILABLE'], // exempt: out of the control, as Security Hub marks a Config NOT_APPLICABLE
      svcKey: ['ARCHIVED', 'NOT_AVAILABLE'],
      carol: ['ACTIVE', 'PASSED'],
    });
    const closed = (await hub.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings?.find((f) => f.Id === bobOld);
    expect(closed?.Description).toMatch(/^Closed by keyage on \d{4}-\d{2}-\d{2}: the access key no longer exists: it was rotated away or deleted\./);
    expect(closed?.ProductFields?.['keyage/ClosedReason']).toBe('the access key no longer exists: it was rotated away or deleted');
  });

  it('sends severity and types only in FindingProviderFields, never Workflow, and pages GetFindings with keyage\'s own filters', async () => {
    await audit('--now', daysOn(91));
    await account.iam.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: keys.bob![0] as string }));
    await audit('--now', daysOn(91));
    const calls = hubCalls.flat();
    const imported = calls.filter((c) => c.commandName === 'BatchImportFindingsCommand').flatMap((c) => c.input.Findings as Record<string, unknown>[]);
    expect(imported.length).toBeGreaterThan(0);
    for (const f of imported) {
      for (const field of ['Severity', 'Types', 'Workflow', 'WorkflowState', 'Note', 'UserDefinedFields', 'VerificationState']) expect(f).not.toHaveProperty(field);
    }
    expect(imported.filter((f) => f.RecordState === 'ARCHIVED')).toHaveLength(1);
    const gets = calls.filter((c) => c.commandName === 'GetFindingsCommand');
    expect(gets[0]?.input).toEqual({
      Filters: {
        ProductArn: [{ Value: `arn:aws:securityhub:us-east-1:${account.accountId}:product/${account.accountId}/default`, Comparison: 'EQUALS' }],
        AwsAccountId: [{ Value: account.accountId, Comparison: 'EQUALS' }],
        Region: [{ Value: 'us-east-1', Comparison: 'EQUALS' }],
        GeneratorId: [{ Value: 'keyage/', Comparison: 'PREFIX' }],
        RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
      },
      MaxResults: 100,
    });
  });

  it('an offline audit of the account\'s credential report updates the same findings the live audit made (same IDs), and closes none', async () => {
    await audit('--now', daysOn(91));
    const live = await stored();
    await account.iam.send(new GenerateCredentialReportCommand({}));
    const got = await account.iam.send(new GetCredentialReportCommand({}));
    const json = JSON.stringify({ Content: Buffer.from(got.Content ?? new Uint8Array()).toString('base64'), ReportFormat: 'text/csv' });
    const offline = await runCli(['audit', '--credential-report', '-', '--security-hub', '--format', 'json', '--now', daysOn(91)], {
      clients: accountClients(account, hubCalls),
      readStdin: async () => Buffer.from(json),
    });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain(', 0 closed (ARCHIVED).');
    const after = await stored();
    // moto's credential report has no <root_account> row, so there is no root finding either.
    expect(Object.keys(after).sort()).toEqual(Object.keys(live).sort());
    expect(Object.values(after).map(([state]) => state)).toEqual(Object.values(after).map(() => 'ACTIVE'));
    const updates = hubCalls.flat().filter((c) => c.commandName === 'BatchImportFindingsCommand');
    const offlineSent = (updates.at(-1)?.input.Findings as AwsSecurityFinding[]).map((f) => [f.Id, f.ProductFields?.['keyage/Source']]);
    expect(offlineSent.map(([id]) => id).sort()).toEqual(Object.keys(live).sort());
    expect(new Set(offlineSent.map(([, source]) => source))).toEqual(new Set(['credential-report']));
  });

  it('never touches a finding that is not keyage\'s own, of this account, Region and product — whatever GetFindings returns', async () => {
    const base = {
      SchemaVersion: '2018-10-08',
      CreatedAt: '2026-01-01T00:00:00.000Z',
      UpdatedAt: '2026-01-01T00:00:00.000Z',
      Title: 'not keyage',
      Description: 'a finding of another product',
      Resources: [{ Type: 'Other', Id: 'x' }],
      RecordState: 'ACTIVE' as const,
    };
    const arn = `arn:aws:securityhub:us-east-1:${account.accountId}:product/${account.accountId}/default`;
    const foreign: AwsSecurityFinding[] = [
      { ...base, Id: 'other-tool/1', ProductArn: arn, GeneratorId: 'other-tool', AwsAccountId: account.accountId, Region: 'us-east-1' },
      { ...base, Id: `keyage/IAM.3/${account.accountId}/user/ghost`, ProductArn: arn, GeneratorId: 'keyage/IAM.3/user', AwsAccountId: account.accountId, Region: 'eu-west-1' },
      { ...base, Id: 'keyage/IAM.3/111122223333/user/ghost', ProductArn: arn, GeneratorId: 'keyage/IAM.3/user', AwsAccountId: '111122223333', Region: 'us-east-1' },
      { ...base, Id: `keyage/IAM.3/${account.accountId}/user/ghost2`, ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub', GeneratorId: 'keyage/IAM.3/user', AwsAccountId: account.accountId, Region: 'us-east-1' },
    ];
    await hub.send(new BatchImportFindingsCommand({ Findings: foreign }));
    const before = (await hub.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? [];
    await audit('--now', daysOn(91));
    const after = (await hub.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? [];
    for (const f of foreign) expect(after.find((x) => x.Id === f.Id)).toEqual(before.find((x) => x.Id === f.Id));
    // A keyage finding of this scope that the audit no longer reports is closed.
    expect(hubCalls.flat().filter((c) => c.commandName === 'BatchImportFindingsCommand').flatMap((c) => c.input.Findings as AwsSecurityFinding[]).filter((f) => f.RecordState === 'ARCHIVED')).toEqual([]);
  });

  it('an offline report of another account is refused before anything is printed: BatchImportFindings takes only the caller\'s own findings', async () => {
    const run = await runCli(['audit', '--credential-report', EXAMPLE, '--security-hub'], { clients: accountClients(account, hubCalls) });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`Invalid value for parameter --security-hub: true. Allowed: credentials of the audited account 123456789012: these are of account ${account.accountId}`);
    expect(hubCalls.flat()).toEqual([]);
  });
});
