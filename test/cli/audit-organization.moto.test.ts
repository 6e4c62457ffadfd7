/**
 * `keyage audit --organization` against moto_server: a real Organization (CreateOrganization,
 * CreateAccount, OUs), real distinct accounts reached by STS AssumeRole, the real SDK clients
 * over HTTP. AssumeRole is gated as STS gates it (see test/harness/moto-organization.ts): a
 * missing or untrusting role is refused with AccessDenied. moto cannot backdate a key, so
 * `--now` moves forward instead.
 */
import { CreateAccessKeyCommand, CreateUserCommand, type IAMClient } from '@aws-sdk/client-iam';
import { GetFindingsCommand } from '@aws-sdk/client-securityhub';
import type { AsffFinding } from '../../cli/format-asff';
import { ORGANIZATION_CSV_COLUMNS } from '../../cli/format-organization';
import { CSV_COLUMNS } from '../../cli/format-csv';
import type { OrganizationAuditReport } from '../../cli/organization-report';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { describeWithMoto } from '../harness/moto';
import { closeAccount, type MotoOrganization, newMotoOrganization } from '../harness/moto-organization';
import { recordCommands, type RecordedCommand } from '../harness/record';
import { runCli } from './run-cli';

const daysOn = (d: number) => new Date(Date.now() + d * DAY_MS).toISOString();

async function user(iam: IAMClient, name: string, keys: number): Promise<void> {
  await iam.send(new CreateUserCommand({ UserName: name }));
  for (let i = 0; i < keys; i++) await iam.send(new CreateAccessKeyCommand({ UserName: name }));
}

describeWithMoto('keyage audit --organization against moto_server', () => {
  let org: MotoOrganization;
  let recorders: RecordedCommand[][];

  /** Run the CLI with the organization's clients, recording every IAM command any account's client sends. */
  const audit = (...args: string[]) => {
    const base = org.clients();
    return runCli(['audit', '--organization', '--now', daysOn(91), ...args], {
      clients: {
        ...base,
        iam: (c) => {
          const client = base.iam(c);
          recorders.push(recordCommands(client));
          return client;
        },
      },
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
  };
  const allIamCalls = () => recorders.flat();

  beforeEach(() => {
    recorders = [];
  });

  afterEach(() => {
    org?.destroy();
  });

  describe('an organization of four accounts, one without the audit role', () => {
    beforeEach(async () => {
      org = await newMotoOrganization({
        ous: [{ name: 'workloads' }, { name: 'workloads-eu', parent: 'workloads' }, { name: 'sandbox' }],
        accounts: [
          { name: 'prod', ou: 'workloads' },
          { name: 'prod-eu', ou: 'workloads-eu' },
          { name: 'playground', ou: 'sandbox', auditRole: 'missing' },
        ],
      });
      await user(org.management.iam, 'mgmt-admin', 1);
      await user(org.members.prod!.iam, 'alice', 1);
      await user(org.members.prod!.iam, 'bob', 2);
      await user(org.members['prod-eu']!.iam, 'carol', 0);
      await user(org.members['prod-eu']!.iam, 'erin', 1);
      await user(org.members.playground!.iam, 'dave', 1);
    });

    it('audits every other account completely with its own users, reports the one without the role with its reason, and exits 3', async () => {
      const run = await audit('--format', 'json');
      expect(run.code).toBe(3);
      const report = JSON.parse(run.stdout) as OrganizationAuditReport;
      const m = org.members;
      const ids = [org.management.accountId, m.prod!.accountId, m['prod-eu']!.accountId, m.playground!.accountId].sort();
      expect(report.accounts.map((a) => a.accountId)).toEqual(ids);
      const byName = Object.fromEntries(report.accounts.map((a) => [a.name, a]));
      expect(Object.fromEntries(Object.entries(byName).map(([n, a]) => [n, a.report?.users.map((u) => u.userName).sort() ?? null]))).toEqual({
        master: ['mgmt-admin'],
        prod: ['alice', 'bob'],
        'prod-eu': ['carol', 'erin'],
        playground: null,
      });
      expect(byName.prod).toMatchObject({ audited: true, users: 2, nonCompliantUsers: 2, staleKeys: 3, keysToDeactivate: 3, rootAccessKeysPresent: false, maxAccessKeyAgeDays: 90 });
      expect(byName.prod?.oldestActiveKey).toMatchObject({ ageDays: 91 });
      expect(byName.prod?.report?.accountId).toBe(m.prod!.accountId);
      expect(byName.prod?.report?.source).toEqual({ kind: 'live', region: 'us-east-1', profile: null, roleArn: `arn:aws:iam::${m.prod!.accountId}:role/keyage-audit` });
      // The caller's own account is audited with its own credentials.
      expect(byName.master?.report?.source).toEqual({ kind: 'live', region: 'us-east-1', profile: null });
      expect(byName.playground).toMatchObject({ audited: false, failure: 'assume-role', users: null, report: null });
      expect(byName.playground?.reason).toContain(`cannot assume arn:aws:iam::${m.playground!.accountId}:role/keyage-audit: access denied`);
      expect(report.summary).toMatchObject({ accounts: 4, accountsAudited: 3, accountsNotAudited: 1, users: 5, nonCompliantUsers: 4 });
      expect(run.stderr).toContain(`keyage: 1 of 4 accounts not audited:\nkeyage:   ${m.playground!.accountId} (playground): cannot assume`);
    });

    it('the table shows the rollup, every key row with its account, and the account that was not audited; the findings are printed though the exit is 3', async () => {
      const run = await audit();
      expect(run.code).toBe(3);
      const prod = org.members.prod!.accountId;
      expect(run.stdout).toMatch(/^ACCOUNT\s+NAME\s+STATE\s+AUDIT\s+USERS\s+NON-COMPLIANT\s+STALE KEYS\s+OLDEST ACTIVE KEY\s+ROOT KEYS$/m);
      expect(run.stdout).toMatch(new RegExp(`^${prod}\\s+prod\\s+ACTIVE\\s+complete\\s+2\\s+2\\s+3\\s+91d \\S+ \\(AKIA\\w+\\)\\s+none$`, 'm'));
      expect(run.stdout).toMatch(new RegExp(`^${org.members.playground!.accountId}\\s+playground\\s+ACTIVE\\s+NOT AUDITED\\s+-\\s+-\\s+-\\s+-\\s+-$`, 'm'));
      expect(run.stdout).toMatch(new RegExp(`^${prod}\\s+bob\\s+1\\s+AKIA\\w+\\s+Active\\s+91d\\s+never\\s+NON_COMPLIANT\\s+deactivate\\s`, 'm'));
      expect(run.stdout).toContain('Not audited (1):');
      expect(run.stdout).toContain('Summary: 4 accounts, 3 audited, 1 not audited; 5 users, 4 non-compliant;');
    });

    it('csv: one table, the account columns on every row, one row for the account that was not audited', async () => {
      const run = await audit('--format', 'csv');
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe([...CSV_COLUMNS, ...ORGANIZATION_CSV_COLUMNS].join(','));
      const playground = lines.filter((l) => l.startsWith(org.members.playground!.accountId));
      expect(playground).toHaveLength(1);
      expect(playground[0]).toMatch(/,playground,ACTIVE,false,"?cannot assume/);
      expect(lines.filter((l) => l.startsWith(`${org.members.prod!.accountId},bob,`))).toHaveLength(2);
    });

    it('asff: the findings of every audited account, each with its own account and product ARN', async () => {
      const run = await audit('--format', 'asff');
      const findings = JSON.parse(run.stdout) as AsffFinding[];
      const accounts = [...new Set(findings.map((f) => f.AwsAccountId))].sort();
      expect(accounts).toEqual([org.management.accountId, org.members.prod!.accountId, org.members['prod-eu']!.accountId].sort());
      for (const f of findings) expect(f.ProductArn).toBe(`arn:aws:securityhub:us-east-1:${f.AwsAccountId}:product/${f.AwsAccountId}/default`);
      // The root user was checked (GetAccountSummary): one PASSED IAM.4 finding per audited account.
      expect(findings.filter((f) => f.Compliance.SecurityControlId === 'IAM.4').map((f) => f.Compliance.Status)).toEqual(['PASSED', 'PASSED', 'PASSED']);
    });

    it('only read calls are made in the accounts', async () => {
      await audit('--format', 'json');
      expect([...new Set(allIamCalls().map((c) => c.commandName))].sort()).toEqual([
        'GetAccessKeyLastUsedCommand',
        'GetAccountAuthorizationDetailsCommand',
        'GetAccountSummaryCommand',
        'ListAccessKeysCommand',
      ]);
    });

    it('--ou narrows to an OU and the OUs under it', async () => {
      const run = await audit('--ou', org.ous.workloads!, '--format', 'json');
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout) as OrganizationAuditReport;
      expect(report.accounts.map((a) => a.name).sort()).toEqual(['prod', 'prod-eu']);
      expect(report.source.selection).toEqual({ organizationalUnits: [org.ous.workloads], accounts: null, exclude: [] });
    });

    it('--exclude leaves the account without the role out: every account audited, exit 1 for the stale keys', async () => {
      const run = await audit('--exclude', org.members.playground!.accountId, '--format', 'json');
      // No keyage deployed in moto's accounts: one grouped line per message, not one per account.
      const audited = [org.management.accountId, org.members.prod!.accountId, org.members['prod-eu']!.accountId].sort().join(', ');
      expect(run.stderr).toBe(
        [
          `keyage: 3 accounts ${audited}: note: no record key (there is no KMS key alias/keyage-deactivation-records in us-east-1): no deletion is planned there.`,
          `keyage: 3 accounts ${audited}: using keyage's defaults (no keyage rule is deployed in us-east-1): MaxAccessKeyAge 90 (default), ExemptionTag none (default), GracePeriodDays 14 (default); flags override.`,
          '',
        ].join('\n'),
      );
      expect(run.code).toBe(1);
      expect((JSON.parse(run.stdout) as OrganizationAuditReport).summary).toMatchObject({ accounts: 3, accountsAudited: 3, accountsNotAudited: 0 });
    });

    it('--accounts audits exactly those; an ID that is not in the organization is a usage error naming it', async () => {
      const run = await audit('--accounts', org.members['prod-eu']!.accountId, '--format', 'json');
      expect((JSON.parse(run.stdout) as OrganizationAuditReport).accounts.map((a) => a.name)).toEqual(['prod-eu']);
      const bad = await audit('--accounts', `${org.members.prod!.accountId},123456789012`);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toContain('Invalid value for parameter --accounts');
      expect(bad.stderr).toContain('not in it: 123456789012');
    });

    it('an OU the organization does not have is a usage error naming it', async () => {
      const run = await audit('--ou', 'ou-zzzz-zzzzzzzz');
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('Invalid value for parameter --ou: "ou-zzzz-zzzzzzzz"');
    });

    it('a suspended account is reported as not audited, with its state', async () => {
      await closeAccount(org, org.members['prod-eu']!.accountId);
      const run = await audit('--exclude', org.members.playground!.accountId, '--format', 'json');
      expect(run.code).toBe(3);
      const entry = (JSON.parse(run.stdout) as OrganizationAuditReport).accounts.find((a) => a.name === 'prod-eu');
      expect(entry).toMatchObject({ state: 'SUSPENDED', audited: false, failure: 'not-active' });
      expect(entry?.reason).toContain('the account is SUSPENDED in Organizations');
    });
  });

  it('a role that exists but does not trust the caller is refused like a missing one; the other accounts are complete', async () => {
    org = await newMotoOrganization({ accounts: [{ name: 'a' }, { name: 'b', auditRole: 'untrusting' }] });
    await user(org.members.a!.iam, 'u1', 1);
    await user(org.members.b!.iam, 'u2', 1);
    const run = await audit('--format', 'json');
    expect(run.code).toBe(3);
    const report = JSON.parse(run.stdout) as OrganizationAuditReport;
    expect(report.accounts.map((a) => [a.name, a.audited, a.failure])).toEqual(
      expect.arrayContaining([
        ['a', true, null],
        ['b', false, 'assume-role'],
      ]),
    );
  });

  it('--security-hub imports each account\'s findings into that account, with that account\'s credentials', async () => {
    org = await newMotoOrganization({ accounts: [{ name: 'a' }, { name: 'b' }] });
    await user(org.members.a!.iam, 'stale', 1);
    await user(org.members.b!.iam, 'fine', 0);
    const run = await runCli(['audit', '--organization', '--now', daysOn(91), '--security-hub', '--format', 'json'], { clients: org.clients() });
    expect(run.code).toBe(1);
    for (const [name, expected] of [
      ['a', [['keyage/IAM.3/A/user/stale', 'FAILED'], ['keyage/IAM.4/A/root', 'PASSED']]],
      ['b', [['keyage/IAM.3/B/user/fine', 'PASSED'], ['keyage/IAM.4/B/root', 'PASSED']]],
    ] as const) {
      const member = org.members[name]!;
      const got = await member.securityHub.send(new GetFindingsCommand({ MaxResults: 100 }));
      const own = (got.Findings ?? []).filter((f) => f.GeneratorId !== 'keyage/IAM.3/access-key').map((f) => [f.Id, f.Compliance?.Status]).sort();
      expect(own).toEqual(expected.map(([id, s]) => [id.replace(/\/[AB]\//, `/${member.accountId}/`), s]).sort());
      expect(new Set((got.Findings ?? []).map((f) => f.AwsAccountId))).toEqual(new Set([member.accountId]));
    }
    expect(run.stderr).toContain(`keyage: Security Hub us-east-1, account ${org.members.a!.accountId}: 2 FAILED and 1 PASSED finding(s) imported, 0 closed (ARCHIVED).`);
  });
});
