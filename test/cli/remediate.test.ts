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
import { DescribeConfigRulesCommand } from '@aws-sdk/client-config-service';
import { mockClient } from 'aws-sdk-client-mock';
import { REMEDIATE_READ_ACTIONS, REMEDIATE_WRITE_ACTIONS, type RemediateResult } from '../../cli/remediate';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { signedRecordTag } from '../harness/record-signer';
import { configMock, deploymentActionsSent, givenDeployment, NO_DEPLOYMENT_LINE } from './deployment';
import { PINNED_NOW, runCli } from './run-cli';

const iamMock = mockClient(IAMClient);
const NOW = new Date(PINNED_NOW);
const ago = (d: number) => new Date(NOW.getTime() - d * DAY_MS);
const BOB = { Path: '/', UserName: 'bob', UserId: 'AIDABOB0000000000001', Arn: 'arn:aws:iam::123456789012:user/bob', CreateDate: ago(500) };
const OLD = 'AKIAOLD0000000000001';
const NEW = 'AKIANEW0000000000002';
const denied = () => Object.assign(new Error('User is not authorized to perform this action'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });

/** keyage's own record for bob's key `id` (created `days` before NOW), written at `at`. */
const record = (id: string, days: number, at: Date) => signedRecordTag({ accountId: '123456789012', userId: BOB.UserId, accessKeyId: id, keyCreatedAt: ago(days) }, at);

function givenBob(tags: { Key: string; Value: string }[] = [], keys = [{ id: OLD, days: 120, status: 'Active' }, { id: NEW, days: 10, status: 'Active' }]): void {
  const state = [...tags];
  iamMock.on(GetUserCommand, { UserName: 'bob' }).resolves({ User: BOB });
  iamMock.on(ListAccessKeysCommand, { UserName: 'bob' }).resolves({
    AccessKeyMetadata: keys.map((k) => ({ UserName: 'bob', AccessKeyId: k.id, Status: k.status as 'Active' | 'Inactive', CreateDate: ago(k.days) })),
    IsTruncated: false,
  });
  iamMock.on(ListUserTagsCommand, { UserName: 'bob' }).callsFake(() => ({ Tags: [...state], IsTruncated: false }));
  iamMock.on(GetAccessKeyLastUsedCommand).resolves({ UserName: 'bob', AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });
  iamMock.on(TagUserCommand).callsFake((input: { Tags: { Key: string; Value: string }[] }) => {
    for (const t of input.Tags) {
      const i = state.findIndex((x) => x.Key === t.Key);
      if (i >= 0) state.splice(i, 1);
      state.push(t);
    }
    return {};
  });
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
  givenDeployment();
});

afterEach(() => {
  // whatever a test did, it used no action outside the documented permissions
  for (const action of [...actionsSent(), ...deploymentActionsSent()]) expect([...REMEDIATE_READ_ACTIONS, ...REMEDIATE_WRITE_ACTIONS]).toContain(action);
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
    expect(iamMock).toHaveReceivedCommandWith(TagUserCommand, { UserName: 'bob', Tags: [record(OLD, 120, new Date('2027-06-01T00:00:00.000Z'))] });
  });

  it('--apply writes the record at --now first, then makes exactly the stale key Inactive', async () => {
    givenBob();
    const run = await remediate('--user', 'bob', '--apply');
    expect(run.code).toBe(0);
    expect(iamMock).toHaveReceivedCommandTimes(TagUserCommand, 1);
    expect(iamMock).toHaveReceivedCommandWith(TagUserCommand, { UserName: 'bob', Tags: [record(OLD, 120, NOW)] });
    expect(run.result?.parameters).toMatchObject({ recordKey: expect.stringMatching(/^arn:aws:kms:/), sources: { maxAccessKeyAgeDays: 'default', exemptionTag: 'default', graceDays: 'default' } });
    expect(run.stderr).toBe(NO_DEPLOYMENT_LINE);
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
    expect(run.stderr).toMatch(/^keyage: stage 1 \(deactivate\): 1 of 1 planned change\(s\) failed: deactivate AKIAOLD0000000000001: Access denied for iam:UpdateAccessKey/m);
    const old = run.result?.deactivation?.actions.find((a) => a.accessKeyId === OLD);
    expect(old).toMatchObject({ action: 'deactivate', applied: false });
    expect(old?.outcome).toMatch(/^Failed: Access denied for iam:UpdateAccessKey/);
  });

  it('stage 2 failing after stage 1 changed IAM: exit 3, stage 1\'s changes still printed', async () => {
    givenBob([record(NEW, 100, ago(30))], [
      { id: OLD, days: 120, status: 'Active' },
      { id: NEW, days: 100, status: 'Inactive' },
    ]);
    iamMock.on(DeleteAccessKeyCommand).rejects(denied());
    const run = await remediate('--user', 'bob', '--apply', '--delete');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^keyage: stage 2 \(delete\): .*Access denied for iam:DeleteAccessKey/m);
    expect(run.result?.deactivation?.actions.find((a) => a.accessKeyId === OLD)).toMatchObject({ action: 'deactivate', applied: true });
    expect(run.result?.deletion?.actions.find((a) => a.accessKeyId === NEW)).toMatchObject({ action: 'delete', applied: false });
  });
});

describe('keyage remediate: the deployment\'s settings by default', () => {
  const RULE = 'keyage-access-key-age-conformance-pack-x1y2z3a4b';

  it('honours the deployed rule\'s exemption tag without --exemption-tag: an exempt user\'s key is not deactivated', async () => {
    givenDeployment({ rule: { name: RULE, parameters: { MaxAccessKeyAge: '90', ExemptionTag: 'keyage-exempt' } }, graceDays: '14' });
    givenBob([{ Key: 'keyage-exempt', Value: 'break-glass' }]);
    const run = await remediate('--user', 'bob', '--apply');
    expect(run.code).toBe(0);
    expectNoWrites();
    expect(run.result?.deactivation).toMatchObject({ exempt: true });
    expect(run.result?.parameters).toMatchObject({ exemptionTag: 'keyage-exempt', sources: { exemptionTag: `deployed rule ${RULE}`, graceDays: 'deployed runbook keyage-DeleteDeactivatedAccessKeys' } });
    expect(run.stderr).toContain(`keyage: using the deployed rule ${RULE} in us-east-1: MaxAccessKeyAge 90 (deployed rule ${RULE}), ExemptionTag keyage-exempt (deployed rule ${RULE})`);
  });

  it('an explicit flag overrides the deployed value, and says so', async () => {
    givenDeployment({ rule: { name: RULE, parameters: { MaxAccessKeyAge: '200', ExemptionTag: 'keyage-exempt' } } });
    givenBob();
    const run = await remediate('--user', 'bob', '--max-age', '90');
    expect(run.result?.parameters).toMatchObject({ maxAccessKeyAgeDays: 90, exemptionTag: 'keyage-exempt', sources: { maxAccessKeyAgeDays: 'flag', exemptionTag: `deployed rule ${RULE}` } });
    expect(run.result?.deactivation?.actions.find((a) => a.accessKeyId === OLD)?.action).toBe('deactivate');
  });

  it('--apply refuses to guess when the deployed rule cannot be read (exit 2, nothing written), and goes ahead with explicit flags', async () => {
    configMock.on(DescribeConfigRulesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    givenBob();
    const refused = await remediate('--user', 'bob', '--apply');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Invalid value for parameter --apply: true. Allowed: --max-age and --exemption-tag given explicitly');
    expect(iamMock.calls()).toHaveLength(0);
    const explicit = await remediate('--user', 'bob', '--apply', '--max-age', '90', '--exemption-tag', '');
    expect(explicit.code).toBe(0);
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 1);
  });

  it('without the record key, --apply still deactivates, writes an unsigned record and says keyage will not delete the key later', async () => {
    givenDeployment({ recordKey: false });
    givenBob();
    const run = await remediate('--user', 'bob', '--apply');
    expect(run.code).toBe(0);
    expect(iamMock).toHaveReceivedCommandWith(TagUserCommand, { UserName: 'bob', Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: NOW.toISOString() }] });
    expect(run.result?.parameters.recordKey).toBeNull();
    expect(run.stderr).toContain('keyage: warning: no record key (there is no KMS key alias/keyage-deactivation-records in us-east-1): the records this run writes are unsigned, and keyage will never delete these keys later.');
  });
});

describe('keyage remediate --delete: the dry run is the exact plan', () => {
  it('a re-activated stale key: the dry run plans what --apply does (deactivate again, then keep it in its new grace period), not a record to clear', async () => {
    givenBob([record(OLD, 120, ago(30))], [{ id: OLD, days: 120, status: 'Active' }]);
    const dry = await remediate('--user', 'bob', '--delete');
    const plan = [...(dry.result?.deactivation?.actions ?? []), ...(dry.result?.deletion?.actions ?? [])].map((a) => [a.accessKeyId, a.action]);
    expect(plan).toEqual([
      [OLD, 'deactivate'],
      [OLD, 'keep'],
    ]);
    expectNoWrites();
    iamMock.on(ListAccessKeysCommand, { UserName: 'bob' }).callsFake(() => ({
      AccessKeyMetadata: [{ UserName: 'bob', AccessKeyId: OLD, Status: iamMock.commandCalls(UpdateAccessKeyCommand).length ? 'Inactive' : 'Active', CreateDate: ago(120) }],
    }));
    const applied = await remediate('--user', 'bob', '--delete', '--apply');
    const done = [...(applied.result?.deactivation?.actions ?? []), ...(applied.result?.deletion?.actions ?? [])].map((a) => [a.accessKeyId, a.action]);
    expect(done).toEqual(plan);
    expect(iamMock).toHaveReceivedCommandTimes(UntagUserCommand, 0);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
  });
});

describe('keyage remediate table on a terminal', () => {
  it('fits the terminal by cutting the reason only, and colours nothing (it holds no verdicts)', async () => {
    givenBob();
    const table = async (io: Parameters<typeof runCli>[1]) =>
      (await runCli(['remediate', '--user', 'bob', '--now', PINNED_NOW], { iam: new IAMClient({ region: 'us-east-1' }), sleep: async () => undefined, clock: () => NOW, ...io })).stdout;
    const full = (await table({})).split('\n');
    const fitted = (await table({ stdoutIsTTY: true, stdoutColumns: 130 })).split('\n');
    expect(fitted).toHaveLength(full.length);
    const header = full.find((l) => l.startsWith('STAGE')) as string;
    const reasonAt = header.indexOf('REASON');
    const rows = full.map((l, i) => [l, fitted[i] as string] as const).filter(([l]) => l.startsWith('deactivate'));
    expect(rows).toHaveLength(2);
    for (const [whole, cut] of rows) {
      expect(cut.slice(0, reasonAt)).toBe(whole.slice(0, reasonAt));
      expect([...cut].length).toBeLessThanOrEqual(130);
      expect(cut).toMatch(/…$/);
    }
    expect(fitted.join('\n')).not.toMatch(/\u001b\[/);
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
    expect(run.stderr).toBe(
      'keyage: Invalid value for parameter --user: "*". Allowed: one IAM user name (1 to 64 letters, digits and + = , . @ _ -) or user ID (AIDA…): keyage remediate acts on one user at a time ("*", every user, is a value of the delete runbook\'s IAMUser parameter, not of --user).\n',
    );
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
