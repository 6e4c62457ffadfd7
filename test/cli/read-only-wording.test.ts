/**
 * What a read-only command says it does. An audit, a dry run of `keyage remediate` and `keyage
 * pack` change nothing, so their output must never read as an act ("Deactivating it.",
 * "Deleting it.", "its record cleared"): plans speak in the conditional ("keyage would
 * deactivate it"), and only `keyage remediate --apply` reports what was done.
 *
 * Every read-only command runs here in every format over the golden example, every credential
 * report fixture, and a mocked account holding a key of each planned action (deactivate,
 * deactivate again, delete, clear a re-activated key's record, clear a gone key's record), and
 * its whole output is scanned for wording that states an action as done or in progress.
 */
import { readdirSync } from 'node:fs';
import {
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  GetAccountSummaryCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUserTagsCommand,
  type Tag,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClientFactory } from '../../cli/aws-clients';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { signedRecordTag } from '../harness/record-signer';
import { givenDeployment } from './deployment';
import { type CliRun, EXAMPLE, fixture, FIXTURES, PINNED_NOW, runCli } from './run-cli';

const iamMock = mockClient(IAMClient);
const stsMock = mockClient(STSClient);
const orgsMock = mockClient(OrganizationsClient);
const NOW = new Date(PINNED_NOW);
const ago = (d: number) => new Date(NOW.getTime() - d * DAY_MS);
const ACCOUNT = '123456789012';

/** Wording that states an action as done or being done: never in a read-only command's output. */
const IMPERATIVE: readonly RegExp[] = [
  /\bdeactivating\b/i,
  /\bdeleting\b/i,
  /\bclearing\b/i,
  /\b(?:is|are) (?:now )?(?:deactivated|deleted|cleared)\b/i,
  /\brecords? (?:is |are )?cleared\b/i,
];

function imperativeWording(text: string): string[] {
  return text.split('\n').filter((line) => IMPERATIVE.some((re) => re.test(line)));
}

interface KeySpec {
  readonly id: string;
  readonly days: number;
  readonly status: 'Active' | 'Inactive';
  readonly usedDaysAgo?: number;
}

interface UserSpec {
  readonly name: string;
  readonly keys: readonly KeySpec[];
  /** Records keyage wrote: for key `id` (created `keyDays` ago), `daysAgo` days ago. */
  readonly records: readonly { readonly id: string; readonly keyDays: number; readonly daysAgo: number }[];
}

const userId = (name: string) => `AIDA${name.toUpperCase().padEnd(16, 'X')}`;

/** One user for each action a runbook can plan. */
const USERS: readonly UserSpec[] = [
  { name: 'stale', keys: [{ id: 'AKIASTALE00000000001', days: 200, status: 'Active', usedDaysAgo: 2 }], records: [] },
  { name: 'again', keys: [{ id: 'AKIAAGAIN00000000001', days: 120, status: 'Active' }], records: [{ id: 'AKIAAGAIN00000000001', keyDays: 120, daysAgo: 20 }] },
  { name: 'done', keys: [{ id: 'AKIADONE000000000001', days: 120, status: 'Inactive' }], records: [{ id: 'AKIADONE000000000001', keyDays: 120, daysAgo: 30 }] },
  { name: 'back', keys: [{ id: 'AKIABACK000000000001', days: 30, status: 'Active', usedDaysAgo: 1 }], records: [{ id: 'AKIABACK000000000001', keyDays: 30, daysAgo: 10 }] },
  { name: 'gone', keys: [{ id: 'AKIAGONE000000000001', days: 10, status: 'Active' }], records: [{ id: 'AKIAGONE000000000009', keyDays: 400, daysAgo: 40 }] },
];

function tagsOf(u: UserSpec): Tag[] {
  return u.records.map((r) => signedRecordTag({ accountId: ACCOUNT, userId: userId(u.name), accessKeyId: r.id, keyCreatedAt: ago(r.keyDays) }, ago(r.daysAgo)));
}

function iamUser(u: UserSpec) {
  return { UserName: u.name, UserId: userId(u.name), Arn: `arn:aws:iam::${ACCOUNT}:user/${u.name}`, CreateDate: ago(900), Path: '/', Tags: tagsOf(u) };
}

/** The account, answered for the audit's and the remediation's reads; every write is refused. */
function givenAccount(): void {
  const byName = new Map(USERS.map((u) => [u.name, u]));
  const find = (name: string): UserSpec => byName.get(name) as UserSpec;
  iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: USERS.map(iamUser), IsTruncated: false });
  iamMock.on(GetUserCommand).callsFake((input: { UserName: string }) => ({ User: iamUser(find(input.UserName)) }));
  iamMock.on(ListUserTagsCommand).callsFake((input: { UserName: string }) => ({ Tags: tagsOf(find(input.UserName)), IsTruncated: false }));
  iamMock.on(ListAccessKeysCommand).callsFake((input: { UserName: string }) => ({
    AccessKeyMetadata: find(input.UserName).keys.map((k) => ({ UserName: input.UserName, AccessKeyId: k.id, Status: k.status, CreateDate: ago(k.days) })),
    IsTruncated: false,
  }));
  iamMock.on(GetAccessKeyLastUsedCommand).callsFake((input: { AccessKeyId: string }) => {
    const key = USERS.flatMap((u) => u.keys).find((k) => k.id === input.AccessKeyId);
    return { AccessKeyLastUsed: key?.usedDaysAgo === undefined ? { ServiceName: 'N/A', Region: 'N/A' } : { LastUsedDate: ago(key.usedDaysAgo), ServiceName: 's3', Region: 'us-east-1' } };
  });
  iamMock.on(GetAccountSummaryCommand).resolves({ SummaryMap: { AccountAccessKeysPresent: 0 } });
  const refused = new Error('a read-only command wrote to IAM');
  iamMock.on(TagUserCommand).rejects(refused);
  iamMock.on(UntagUserCommand).rejects(refused);
  iamMock.on(UpdateAccessKeyCommand).rejects(refused);
  iamMock.on(DeleteAccessKeyCommand).rejects(refused);
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/auditor` });
  orgsMock.on(ListAccountsCommand).resolves({ Accounts: [{ Id: ACCOUNT, Name: 'only', State: 'ACTIVE' }] });
}

const clients: Partial<AwsClientFactory> = {
  iam: () => new IAMClient({ region: 'us-east-1' }),
  sts: () => new STSClient({ region: 'us-east-1' }),
  organizations: () => new OrganizationsClient({ region: 'us-east-1' }),
};

const live = (argv: readonly string[]): Promise<CliRun> =>
  runCli([...argv, '--now', PINNED_NOW], { iam: new IAMClient({ region: 'us-east-1' }), clients, sleep: async () => undefined, clock: () => NOW });

beforeEach(() => {
  iamMock.reset();
  stsMock.reset();
  orgsMock.reset();
  givenDeployment();
  givenAccount();
});

/** Every read-only command line, by a name for the failure message. */
function readOnlyCommands(): [string, () => Promise<CliRun>][] {
  const commands: [string, () => Promise<CliRun>][] = [];
  const reports = [EXAMPLE, ...readdirSync(FIXTURES).map(fixture)];
  for (const format of ['table', 'json', 'csv', 'asff']) {
    for (const report of reports) commands.push([`audit --credential-report ${report} --format ${format}`, () => runCli(['audit', '--credential-report', report, '--now', PINNED_NOW, '--format', format])]);
    commands.push([`audit --format ${format} (live)`, () => live(['audit', '--format', format])]);
    commands.push([`audit --organization --format ${format}`, () => live(['audit', '--organization', '--format', format])]);
  }
  for (const format of ['table', 'json']) {
    for (const u of USERS) {
      commands.push([`remediate --user ${u.name} --format ${format}`, () => live(['remediate', '--user', u.name, '--format', format])]);
      commands.push([`remediate --user ${u.name} --delete --format ${format}`, () => live(['remediate', '--user', u.name, '--delete', '--format', format])]);
    }
  }
  commands.push(['pack', () => runCli(['pack', '--account', ACCOUNT, '--region', 'us-east-1'])]);
  return commands;
}

describe('read-only commands speak of their plans in the conditional', () => {
  it('no read-only command, in any format, says it is deactivating, deleting or clearing anything', async () => {
    const found: { command: string; lines: string[] }[] = [];
    for (const [command, run] of readOnlyCommands()) {
      const out = await run();
      const lines = imperativeWording(`${out.stdout}\n${out.stderr}`);
      if (lines.length > 0) found.push({ command, lines });
    }
    expect(found).toEqual([]);
    // and nothing was written by any of them
    expect(iamMock).toHaveReceivedCommandTimes(TagUserCommand, 0);
    expect(iamMock).toHaveReceivedCommandTimes(UntagUserCommand, 0);
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 0);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
  });

  it('the live account plans every action, so the scan above saw each one worded as a plan', async () => {
    const audit = JSON.parse((await live(['audit', '--format', 'json'])).stdout) as { users: { userName: string; keys: { action: string; reason: string }[] }[] };
    const planned = Object.fromEntries(audit.users.map((u) => [u.userName, u.keys.map((k) => [k.action, k.reason.replace(/^.*\. /, '')])]));
    expect(planned).toEqual({
      stale: [['deactivate', 'keyage would deactivate it.']],
      again: [['deactivate', 'keyage would deactivate it again.']],
      done: [['delete', 'keyage would delete it.']],
      back: [['clear-record', 'Active key AKIABACK000000000001 (key 1) was re-activated after keyage deactivated it on 2026-11-15; keyage would leave it alone and clear its record.']],
      gone: [['none', 'Active key AKIAGONE000000000001 (key 1) is 10 days old; due for rotation in 81 days.']],
    });
    const dry = await live(['remediate', '--user', 'gone', '--delete']);
    expect(dry.stdout).toContain('Key AKIAGONE000000000009 no longer exists; keyage would clear its deactivation record.');
    // stage 2 planned on the state stage 1 would leave: a plan, not a deactivation that happened
    const both = await live(['remediate', '--user', 'stale', '--delete']);
    expect(both.stdout).toContain(
      'Key AKIASTALE00000000001 (key 1) would be deactivated by stage 1 on 2026-11-25; its grace period of 14 days would end on 2026-12-09T12:00:00.000Z.',
    );
    expect(both.stdout).not.toContain('was deactivated by keyage on 2026-11-25');
  });

  it('--apply, which acts, still reports in the runbooks\' own words', async () => {
    iamMock.on(UpdateAccessKeyCommand).resolves({});
    iamMock.on(TagUserCommand).resolves({});
    const applied = await live(['remediate', '--user', 'stale', '--apply']);
    expect(applied.stdout).toContain('APPLIED: the changes marked "yes" were made in IAM.');
    expect(applied.stdout).toContain('limit 90. Deactivating it.');
  });
});
