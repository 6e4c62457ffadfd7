/**
 * `keyage remediate` with the IAM client mocked by aws-sdk-client-mock: the exact calls of a dry
 * run (reads only) and of `--apply` (record first, then deactivate), users named by ID, usage
 * errors, and a refused change (exit 3, with what was done still printed).
 */
import {
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { REMEDIATE_READ_ACTIONS, REMEDIATE_WRITE_ACTIONS, type RemediateResult } from '../../cli/remediate';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { PINNED_NOW, runCli } from './run-cli';

const iamMock = mockClient(IAMClient);
const NOW = new Date(PINNED_NOW);
const ago = (d: number) => new Date(NOW.getTime() - d * DAY_MS);
const BOB = { Path: '/', UserName: 'bob', UserId: 'AIDABOB0000000000001', Arn: 'arn:aws:iam::123456789012:user/bob', CreateDate: ago(500) };
const OLD = 'AKIAOLD0000000000001';
const NEW = 'AKIANEW0000000000002';
const denied = () => Object.assign(new Error('User is not authorized to perform this action'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });

function givenBob(tags: { Key: string; Value: string }[] = [], keys = [{ id: OLD, days: 120, status: 'Active' }, { id: NEW, days: 10, status: 'Active' }]): void {
  iamMock.on(GetUserCommand, { UserName: 'bob' }).resolves({ User: BOB });
  iamMock.on(ListAccessKeysCommand, { UserName: 'bob' }).resolves({
    AccessKeyMetadata: keys.map((k) => ({ UserName: 'bob', AccessKeyId: k.id, Status: k.status as 'Active' | 'Inactive', CreateDate: ago(k.days) })),
    IsTruncated: false,
  });
  iamMock.on(ListUserTagsCommand, { UserName: 'bob' }).resolves({ Tags: tags, IsTruncated: false });
  iamMock.on(GetAccessKeyLastUsedCommand).resolves({ UserName: 'bob', AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });
  iamMock.on(TagUserCommand).resolves({});
  iamMock.on(UpdateAccessKeyCommand).resolves({});
  iamMock.on(DeleteAccessKeyCommand).resolves({});
  iamMock.on(UntagUserCommand).resolves({});
}

const remediate = async (...args: string[]) => {
  const run = await runCli(['remediate', '--now', PINNED_NOW, '--format', 'json', ...args], {
    iam: new IAMClient({ region: 'us-east-1' }),
    sleep: async () => undefined,
    clock: () => new Date(PINNED_NOW), // the real clock agrees with --now, as in real use
  });
  return { ...run, result: run.stdout ? (JSON.parse(run.stdout) as RemediateResult) : undefined };
};

function expectNoWrites(): void {
  expect(iamMock).toHaveReceivedCommandTimes(TagUserCommand, 0);
  expect(iamMock).toHaveReceivedCommandTimes(UntagUserCommand, 0);
  expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 0);
  expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
}

/** The IAM actions of the commands sent, as `iam:Operation`. */
function actionsSent(): string[] {
  return [...new Set(iamMock.calls().map((c) => `iam:${(c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, '')}`))].sort();
}

beforeEach(() => {
  iamMock.reset();
});

afterEach(() => {
  // whatever a test did, it used no action outside the documented permissions
  for (const action of actionsSent()) expect([...REMEDIATE_READ_ACTIONS, ...REMEDIATE_WRITE_ACTIONS]).toContain(action);
});

describe('keyage remediate (mocked IAM)', () => {
  it('a dry run reads the user, keys, last use and tags, and writes nothing', async () => {
    givenBob();
    const run = await remediate('--user', 'bob', '--delete');
    expect(run.code).toBe(1);
    expectNoWrites();
    for (const action of actionsSent()) expect(REMEDIATE_READ_ACTIONS).toContain(action);
    expect(iamMock).toHaveReceivedCommandWith(GetUserCommand, { UserName: 'bob' });
    expect(iamMock).toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'bob' });
    expect(iamMock).toHaveReceivedCommandWith(ListUserTagsCommand, { UserName: 'bob' });
    expect(iamMock).toHaveReceivedCommandWith(GetAccessKeyLastUsedCommand, { AccessKeyId: OLD });
    expect(run.result?.deactivation?.actions.map((a) => [a.accessKeyId, a.action, a.applied])).toEqual([
      [OLD, 'deactivate', false],
      [NEW, 'keep', false],
    ]);
  });

  it('--apply with a --now far from the real clock is refused (exit 2, nothing read or written) unless --replay asks for it', async () => {
    givenBob();
    const refused = await remediate('--user', 'bob', '--apply', '--now', '2026-01-01T00:00:00Z');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Invalid value for parameter --now: "2026-01-01T00:00:00Z". Allowed: a time within 5 minutes of the current time (2026-11-25T12:00:00.000Z) when --apply writes to IAM');
    expect(iamMock.calls()).toHaveLength(0);

    const dry = await remediate('--user', 'bob', '--now', '2026-01-01T00:00:00Z');
    expect(dry.code).not.toBe(2); // a dry run may look at any instant
    expectNoWrites();

    const replay = await remediate('--user', 'bob', '--apply', '--replay', '--now', '2027-06-01T00:00:00Z');
    expect(replay.code).toBe(0);
    expect(iamMock).toHaveReceivedCommandWith(TagUserCommand, { UserName: 'bob', Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: '2027-06-01T00:00:00.000Z' }] });
  });

  it('--apply writes the record at --now first, then makes exactly the stale key Inactive', async () => {
    givenBob();
    const run = await remediate('--user', 'bob', '--apply');
    expect(run.code).toBe(0);
    expect(iamMock).toHaveReceivedCommandTimes(TagUserCommand, 1);
    expect(iamMock).toHaveReceivedCommandWith(TagUserCommand, { UserName: 'bob', Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: '2026-11-25T12:00:00.000Z' }] });
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 1);
    expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, { UserName: 'bob', AccessKeyId: OLD, Status: 'Inactive' });
    const names = iamMock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    expect(names.indexOf('TagUserCommand')).toBeLessThan(names.indexOf('UpdateAccessKeyCommand'));
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    expect(run.result?.deactivation?.actions.find((a) => a.accessKeyId === OLD)).toMatchObject({ applied: true, deactivatedAt: '2026-11-25T12:00:00.000Z' });
  });

  it('a user ID (AIDA…) is resolved to the user live', async () => {
    givenBob();
    iamMock.on(ListUsersCommand).resolves({ Users: [BOB], IsTruncated: false });
    const run = await remediate('--user', BOB.UserId);
    expect(run.result?.deactivation?.user).toEqual({ userName: 'bob', userId: BOB.UserId });
    expectNoWrites();
  });

  it('a refused change: exit 3, what was planned and what failed still printed', async () => {
    givenBob();
    iamMock.on(UpdateAccessKeyCommand).rejects(denied());
    const run = await remediate('--user', 'bob', '--apply');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^keyage: stage 1 \(deactivate\): 1 of 1 planned change\(s\) failed: deactivate AKIAOLD0000000000001: Access denied for iam:UpdateAccessKey/);
    const old = run.result?.deactivation?.actions.find((a) => a.accessKeyId === OLD);
    expect(old).toMatchObject({ action: 'deactivate', applied: false });
    expect(old?.outcome).toMatch(/^Failed: Access denied for iam:UpdateAccessKey/);
  });

  it('stage 2 failing after stage 1 changed IAM: exit 3, stage 1\'s changes still printed', async () => {
    givenBob([{ Key: `keyage:deactivated:${NEW}`, Value: ago(30).toISOString() }], [
      { id: OLD, days: 120, status: 'Active' },
      { id: NEW, days: 100, status: 'Inactive' },
    ]);
    iamMock.on(DeleteAccessKeyCommand).rejects(denied());
    const run = await remediate('--user', 'bob', '--apply', '--delete');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^keyage: stage 2 \(delete\): .*Access denied for iam:DeleteAccessKey/);
    expect(run.result?.deactivation?.actions.find((a) => a.accessKeyId === OLD)).toMatchObject({ action: 'deactivate', applied: true });
    expect(run.result?.deletion?.actions.find((a) => a.accessKeyId === NEW)).toMatchObject({ action: 'delete', applied: false });
  });
});

describe('keyage remediate usage errors', () => {
  it('--user is required: exit 2', async () => {
    const run = await remediate();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("required option '--user <name>' not specified");
  });

  it('"*" is refused: remediate acts on one user at a time', async () => {
    const run = await remediate('--user', '*');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('keyage: Invalid value for parameter --user: "*". Allowed: one IAM user name or user ID (AIDA…); keyage remediate acts on one user at a time.\n');
    expect(iamMock.calls()).toHaveLength(0);
  });

  it('a name IAM would never accept is refused before any call', async () => {
    const run = await remediate('--user', 'bob smith');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^keyage: Invalid value for parameter --user: "bob smith"/);
    expect(iamMock.calls()).toHaveLength(0);
  });

  it('--format csv is not a remediate format', async () => {
    const run = await remediate('--user', 'bob', '--format', 'csv');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Allowed choices are table, json.');
  });
});
