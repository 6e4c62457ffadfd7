import { ConfigServiceClient, ListDiscoveredResourcesCommand } from '@aws-sdk/client-config-service';
import {
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  NoSuchEntityException,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsCaller } from '../../lib/aws-call';
import { AwsCallError, NoSuchUserError } from '../../lib/errors';
import { silentLogger } from '../../lib/log';
import { DAY_MS } from '../../rules/access-key-age/policy';
import {
  deactivateStaleKeys,
  type DeactivationReport,
  type DeleteCursor,
  deleteDeactivatedKeys,
  type DeletionReport,
  type RemediationContext,
  RemediationFailedError,
  rotateAfter,
} from '../../remediation/core';
import type { RecordSigner } from '../../remediation/records';
import { localRecordSigner, signedRecordTag } from '../harness/record-signer';

const iamMock = mockClient(IAMClient);
const configMock = mockClient(ConfigServiceClient);

const NOW = new Date('2026-11-25T12:00:00.000Z');
const USER = { Path: '/', UserName: 'alice', UserId: 'AIDAALICE00000000001', Arn: 'arn:aws:iam::123456789012:user/alice', CreateDate: new Date('2025-01-01T00:00:00Z') };
const OLD = 'AKIAOLD0000000000001';
const NEW = 'AKIANEW0000000000002';

const ago = (days: number) => new Date(NOW.getTime() - days * DAY_MS);
const noSuchEntity = (what: string) => new NoSuchEntityException({ message: `${what} not found`, $metadata: {} });
const keyMeta = (id: string, ageDays: number, status: 'Active' | 'Inactive' = 'Active') => ({ UserName: 'alice', AccessKeyId: id, Status: status, CreateDate: ago(ageDays) });
/** What alice's record for key `id` (created `keyAgeDays` before NOW) says when keyage signs it at `at`. */
const subject = (id: string, keyAgeDays = 120) => ({ accountId: '123456789012', userId: USER.UserId, accessKeyId: id, keyCreatedAt: ago(keyAgeDays) });
/** keyage's own record for alice's key `id` (created 120 days ago unless said), signed with the test key. */
const recordTag = (id: string, at: Date, keyAgeDays = 120) => signedRecordTag(subject(id, keyAgeDays), at);

function ctx(withConfig = false, signer: RecordSigner | null = localRecordSigner()): RemediationContext {
  return {
    iam: new IAMClient({ region: 'us-east-1' }),
    caller: new AwsCaller({ retry: { maxAttempts: 2 }, sleep: async () => undefined }),
    log: silentLogger,
    ...(withConfig ? { config: new ConfigServiceClient({ region: 'us-east-1' }) } : {}),
    ...(signer ? { signer } : {}),
  };
}

/**
 * IAM as it is for alice: these keys, these tags, never used unless said. Her tags are state:
 * TagUser and UntagUser change what ListUserTags answers next.
 */
function givenAlice(keys: ReturnType<typeof keyMeta>[], tags: { Key: string; Value: string }[] = [], lastUsed: Record<string, Date> = {}) {
  const state = [...tags];
  iamMock.on(GetUserCommand, { UserName: 'alice' }).resolves({ User: USER });
  iamMock.on(ListAccessKeysCommand, { UserName: 'alice' }).resolves({ AccessKeyMetadata: keys, IsTruncated: false });
  iamMock.on(ListUserTagsCommand, { UserName: 'alice' }).callsFake(() => ({ Tags: state.map((t) => ({ ...t })), IsTruncated: false }));
  iamMock.on(TagUserCommand, { UserName: 'alice' }).callsFake((input: { Tags: { Key: string; Value: string }[] }) => {
    for (const t of input.Tags) {
      const i = state.findIndex((x) => x.Key.toLowerCase() === t.Key.toLowerCase());
      if (i >= 0) state[i] = { Key: state[i]!.Key, Value: t.Value };
      else state.push({ ...t });
    }
    return {};
  });
  iamMock.on(UntagUserCommand, { UserName: 'alice' }).callsFake((input: { TagKeys: string[] }) => {
    for (const k of input.TagKeys) {
      const i = state.findIndex((x) => x.Key.toLowerCase() === k.toLowerCase());
      if (i >= 0) state.splice(i, 1);
    }
    return {};
  });
  for (const k of keys) {
    const date = lastUsed[k.AccessKeyId];
    iamMock
      .on(GetAccessKeyLastUsedCommand, { AccessKeyId: k.AccessKeyId })
      .resolves({ UserName: 'alice', AccessKeyLastUsed: date ? { LastUsedDate: date, ServiceName: 's3', Region: 'us-east-1' } : { ServiceName: 'N/A', Region: 'N/A' } });
  }
}

/** The commands IAM received, in order, by name. */
function sent(): string[] {
  return iamMock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''));
}

/** Nothing was changed in IAM. */
function expectNoWrites(): void {
  expect(iamMock).toHaveReceivedCommandTimes(TagUserCommand, 0);
  expect(iamMock).toHaveReceivedCommandTimes(UntagUserCommand, 0);
  expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 0);
  expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
}

beforeEach(() => {
  iamMock.reset();
  configMock.reset();
});

describe('deactivateStaleKeys', () => {
  const request = { userName: 'alice', maxAccessKeyAgeDays: 90, now: NOW };

  it('a dry run reports the exact plan and sends no write to IAM', async () => {
    givenAlice([keyMeta(OLD, 120), keyMeta(NEW, 10)], [], { [OLD]: ago(2) });
    const report = await deactivateStaleKeys(ctx(), { ...request, dryRun: true });
    expectNoWrites();
    expect(report).toMatchObject<Partial<DeactivationReport>>({ operation: 'deactivate', dryRun: true, now: NOW.toISOString(), user: { userName: 'alice', userId: USER.UserId }, exempt: false });
    expect(report.actions).toEqual([
      expect.objectContaining({ accessKeyId: OLD, slot: 1, status: 'Active', ageDays: 120, lastUsed: ago(2).toISOString(), action: 'deactivate', applied: false }),
      expect.objectContaining({ accessKeyId: NEW, slot: 2, ageDays: 10, lastUsed: null, action: 'keep', applied: false }),
    ]);
    expect(report.summary.text).toBe(`DRY RUN, nothing changed: user alice: would deactivate 1 key (${OLD}); 1 key left as it is.`);
  });

  it('records the deactivation time (now), signed over account, user, key and time, BEFORE setting the stale key Inactive, and touches no other key', async () => {
    givenAlice([keyMeta(OLD, 120), keyMeta(NEW, 10)]);
    const signer = localRecordSigner();
    const report = await deactivateStaleKeys(ctx(false, signer), { ...request, dryRun: false });
    expect(iamMock).toHaveReceivedCommandWith(TagUserCommand, { UserName: 'alice', Tags: [recordTag(OLD, NOW)] });
    expect(recordTag(OLD, NOW).Value).toMatch(new RegExp(`^${NOW.toISOString().replace(/\./g, '\\.')} v1 [A-Za-z0-9+/]{43}=$`));
    expect(signer.signed).toEqual([
      ['keyage-deactivation-record', 'v1', 'account=123456789012', `user=${USER.UserId}`, `key=${OLD}`, `key-created=${ago(120).toISOString()}`, `recorded=${NOW.toISOString()}`].join('\n'),
    ]);
    expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, { UserName: 'alice', AccessKeyId: OLD, Status: 'Inactive' });
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 1);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    expect(sent().filter((c) => c === 'TagUser' || c === 'UpdateAccessKey')).toEqual(['TagUser', 'UpdateAccessKey']);
    expect(report.actions[0]).toMatchObject({ accessKeyId: OLD, action: 'deactivate', applied: true, deactivatedAt: NOW.toISOString(), record: 'verified' });
    expect(report.recordKey).toBe(signer.keyId);
    expect(report.summary.applied.deactivate).toBe(1);
    expect(report.summary.text).toBe(`user alice: deactivated 1 key (${OLD}); 1 key left as it is.`);
  });

  it('an exempt user is left alone and reported exempt', async () => {
    givenAlice([keyMeta(OLD, 400)], [{ Key: 'keyage-exempt', Value: 'break-glass' }]);
    const report = await deactivateStaleKeys(ctx(), { ...request, exemptionTag: { key: 'keyage-exempt' }, dryRun: false });
    expectNoWrites();
    expect(report.exempt).toBe(true);
    expect(report.actions[0]?.action).toBe('keep');
  });

  it('an already deactivated key is not written again: a second run changes nothing', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(1))]);
    const report = await deactivateStaleKeys(ctx(), { ...request, dryRun: false });
    expectNoWrites();
    expect(report.actions[0]).toMatchObject({ action: 'keep', deactivatedAt: ago(1).toISOString() });
  });

  it('a key deleted by someone between the read and the write is a result, not a crash; the fresh record is removed', async () => {
    givenAlice([keyMeta(OLD, 120)]);
    iamMock.on(UpdateAccessKeyCommand).rejects(noSuchEntity('access key'));
    const report = await deactivateStaleKeys(ctx(), { ...request, dryRun: false });
    expect(report.actions[0]).toMatchObject({ action: 'deactivate', applied: false, outcome: 'The key or its user no longer exists; nothing to deactivate.' });
    expect(iamMock).toHaveReceivedCommandWith(UntagUserCommand, { UserName: 'alice', TagKeys: [`keyage:deactivated:${OLD}`] });
  });

  it('when the record cannot be written the key is NOT deactivated and the run fails naming the key', async () => {
    givenAlice([keyMeta(OLD, 120)]);
    iamMock.on(TagUserCommand).rejects(Object.assign(new Error('Cannot exceed quota for TagsPerUser: 50'), { name: 'LimitExceeded' }));
    const failure = await deactivateStaleKeys(ctx(), { ...request, dryRun: false }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RemediationFailedError);
    expect((failure as RemediationFailedError).message).toContain(`deactivate ${OLD}: iam:TagUser failed`);
    expect((failure as RemediationFailedError).report.actions[0]).toMatchObject({ applied: false });
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 0);
  });

  it('a user that does not exist is a NoSuchUserError naming the user', async () => {
    iamMock.on(GetUserCommand).rejects(noSuchEntity('user'));
    await expect(deactivateStaleKeys(ctx(), { ...request, dryRun: true })).rejects.toThrow(new NoSuchUserError('alice'));
  });

  it('a user deleted after it was found is a NoSuchUserError, not a crash, and nothing is written', async () => {
    iamMock.on(GetUserCommand).resolves({ User: USER });
    iamMock.on(ListAccessKeysCommand).rejects(noSuchEntity('user'));
    await expect(deactivateStaleKeys(ctx(), { ...request, dryRun: false })).rejects.toBeInstanceOf(NoSuchUserError);
    expectNoWrites();
  });

  it('resolves the user ID through Config and confirms it live with GetUser', async () => {
    configMock.on(ListDiscoveredResourcesCommand).resolves({ resourceIdentifiers: [{ resourceType: 'AWS::IAM::User', resourceId: USER.UserId, resourceName: 'alice' }] });
    givenAlice([keyMeta(NEW, 1)]);
    const report = await deactivateStaleKeys(ctx(true), { userId: USER.UserId, maxAccessKeyAgeDays: 90, now: NOW, dryRun: true });
    expect(configMock).toHaveReceivedCommandWith(ListDiscoveredResourcesCommand, { resourceType: 'AWS::IAM::User', resourceIds: [USER.UserId] });
    expect(iamMock).toHaveReceivedCommandWith(GetUserCommand, { UserName: 'alice' });
    expect(iamMock).toHaveReceivedCommandTimes(ListUsersCommand, 0);
    expect(report.user).toEqual({ userName: 'alice', userId: USER.UserId });
  });

  it('falls back to paging ListUsers when Config does not know the user, and finds it on a later page', async () => {
    configMock.on(ListDiscoveredResourcesCommand).resolves({ resourceIdentifiers: [] });
    iamMock
      .on(ListUsersCommand)
      .resolvesOnce({ Users: [{ ...USER, UserName: 'bob', UserId: 'AIDABOB0000000000001' }], IsTruncated: true, Marker: 'page2' })
      .resolvesOnce({ Users: [USER], IsTruncated: false });
    givenAlice([keyMeta(NEW, 1)]);
    const report = await deactivateStaleKeys(ctx(true), { userId: USER.UserId, maxAccessKeyAgeDays: 90, now: NOW, dryRun: true });
    expect(iamMock).toHaveReceivedCommandWith(ListUsersCommand, { Marker: 'page2' });
    expect(report.user.userName).toBe('alice');
  });

  it('does not trust a stale Config name that now belongs to another user', async () => {
    configMock.on(ListDiscoveredResourcesCommand).resolves({ resourceIdentifiers: [{ resourceType: 'AWS::IAM::User', resourceId: USER.UserId, resourceName: 'old-name' }] });
    iamMock.on(GetUserCommand, { UserName: 'old-name' }).resolves({ User: { ...USER, UserName: 'old-name', UserId: 'AIDASOMEONEELSE00001' } });
    iamMock.on(ListUsersCommand).resolves({ Users: [USER], IsTruncated: false });
    givenAlice([keyMeta(NEW, 1)]);
    const report = await deactivateStaleKeys(ctx(true), { userId: USER.UserId, maxAccessKeyAgeDays: 90, now: NOW, dryRun: true });
    expect(report.user.userName).toBe('alice');
  });

  it('falls back to ListUsers when Config refuses, and fails with NoSuchUserError when no user has the ID', async () => {
    configMock.on(ListDiscoveredResourcesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    iamMock.on(ListUsersCommand).resolves({ Users: [USER], IsTruncated: false });
    await expect(deactivateStaleKeys(ctx(true), { userId: 'AIDAUNKNOWN000000001', maxAccessKeyAgeDays: 90, now: NOW, dryRun: true })).rejects.toThrow(
      'IAM user AIDAUNKNOWN000000001 does not exist in this account.',
    );
  });
});

describe('deleteDeactivatedKeys', () => {
  const request = { userName: 'alice', graceDays: 14, now: NOW };

  it('a dry run reports the key it would delete and sends no write', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: true });
    expectNoWrites();
    expect(report).toMatchObject<Partial<DeletionReport>>({ operation: 'delete', scope: 'user', dryRun: true, complete: true });
    expect(report.actions[0]).toMatchObject({ accessKeyId: OLD, status: 'Inactive', deactivatedAt: ago(15).toISOString(), action: 'delete', applied: false });
  });

  it('re-reads the key, its record and its last use, then deletes it and clears its record', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: false });
    expect(iamMock).toHaveReceivedCommandWith(DeleteAccessKeyCommand, { UserName: 'alice', AccessKeyId: OLD });
    expect(iamMock).toHaveReceivedCommandWith(UntagUserCommand, { UserName: 'alice', TagKeys: [`keyage:deactivated:${OLD}`] });
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 2);
    expect(iamMock).toHaveReceivedCommandTimes(GetAccessKeyLastUsedCommand, 2);
    const order = sent();
    expect(order.lastIndexOf('GetAccessKeyLastUsed')).toBeLessThan(order.indexOf('DeleteAccessKey'));
    expect(order.indexOf('DeleteAccessKey')).toBeLessThan(order.indexOf('UntagUser'));
    expect(report.actions[0]).toMatchObject({ action: 'delete', applied: true });
    expect(report.summary.text).toBe(`user alice: deleted 1 key (${OLD}); 0 keys left as they are.`);
  });

  it('a key re-activated by a person between the plan and the delete is NOT deleted', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock
      .on(ListAccessKeysCommand, { UserName: 'alice' })
      .resolvesOnce({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Inactive')] })
      .resolves({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Active')] });
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: false });
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    expect(report.actions[0]).toMatchObject({ action: 'delete', applied: false });
    expect(report.actions[0]?.outcome).toContain('Re-checked before deleting: Active key');
  });

  it('a key used between the plan and the delete is NOT deleted', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock
      .on(GetAccessKeyLastUsedCommand, { AccessKeyId: OLD })
      .resolvesOnce({ AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } })
      .resolves({ AccessKeyLastUsed: { LastUsedDate: ago(0), ServiceName: 's3', Region: 'eu-west-1' } });
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: false });
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    expect(report.actions[0]?.outcome).toContain('after keyage deactivated it');
  });

  it('a key used during the grace period stays Inactive, is reported, and is not deleted', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(20))], { [OLD]: ago(5) });
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: false });
    expectNoWrites();
    expect(report.actions[0]).toMatchObject({ action: 'keep', lastUsed: ago(5).toISOString() });
    expect(report.actions[0]?.reason).toContain('Find out who still uses it');
  });

  it('a key deleted by someone else meanwhile (NoSuchEntity on delete) is a result, not an error', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock.on(DeleteAccessKeyCommand).rejects(noSuchEntity('access key'));
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: false });
    expect(report.actions[0]).toMatchObject({ action: 'delete', applied: false, outcome: 'Already deleted (by another run or a person); its record is cleared.' });
    expect(iamMock).toHaveReceivedCommandWith(UntagUserCommand, { UserName: 'alice', TagKeys: [`keyage:deactivated:${OLD}`] });
  });

  it('a key gone by the time of the re-check is not deleted again, and its record is cleared', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock.on(ListAccessKeysCommand, { UserName: 'alice' }).resolvesOnce({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Inactive')] }).resolves({ AccessKeyMetadata: [] });
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: false });
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    expect(report.actions[0]?.outcome).toBe('Already deleted (by another run or a person); its record is cleared.');
  });

  it('a record that vanished before the delete stops the delete', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock.on(ListUserTagsCommand, { UserName: 'alice' }).resolvesOnce({ Tags: [recordTag(OLD, ago(15))] }).resolves({ Tags: [] });
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: false });
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    expect(report.actions[0]?.outcome).toContain('the deactivation record is gone');
  });

  it('a key re-activated by a person is left alone and its record cleared', async () => {
    givenAlice([keyMeta(OLD, 120, 'Active')], [recordTag(OLD, ago(5))]);
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: false });
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 0);
    expect(iamMock).toHaveReceivedCommandWith(UntagUserCommand, { UserName: 'alice', TagKeys: [`keyage:deactivated:${OLD}`] });
    expect(report.actions[0]).toMatchObject({ action: 'clear-record', applied: true });
  });

  it('a key switched off just as its record is cleared (IAM has no conditional untag) gets no record from keyage: a person may have done it, so it is never made deletable', async () => {
    givenAlice([keyMeta(OLD, 120, 'Active')], [recordTag(OLD, ago(5))]);
    // plan + re-check see the Active key; after the untag, the key is Inactive
    iamMock
      .on(ListAccessKeysCommand, { UserName: 'alice' })
      .resolvesOnce({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Active')] })
      .resolvesOnce({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Active')] })
      .resolves({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Inactive')] });
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: false });
    expect(iamMock).toHaveReceivedCommandWith(UntagUserCommand, { UserName: 'alice', TagKeys: [`keyage:deactivated:${OLD}`] });
    expect(iamMock).toHaveReceivedCommandTimes(TagUserCommand, 0);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    expect(report.actions[0]).toMatchObject({ action: 'clear-record', applied: true });
    expect(report.actions[0]?.outcome).toContain('keyage cannot tell which: it records nothing for it, so it will never delete this key');
  });

  it('a user who carries the exemption tag by the time of the re-check keeps the key', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock
      .on(ListUserTagsCommand, { UserName: 'alice' })
      .resolvesOnce({ Tags: [recordTag(OLD, ago(15))] })
      .resolves({ Tags: [recordTag(OLD, ago(15)), { Key: 'keyage-exempt', Value: 'true' }] });
    const report = await deleteDeactivatedKeys(ctx(), { ...request, exemptionTag: { key: 'keyage-exempt' }, dryRun: false });
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    expect(report.actions[0]).toMatchObject({ action: 'delete', applied: false });
    expect(report.actions[0]?.outcome).toBe('Re-checked before deleting: the user now carries the exemption tag, so the key is not deleted.');
  });

  it('does not clear a record that another run rewrote meanwhile', async () => {
    givenAlice([keyMeta(OLD, 120, 'Active')], [recordTag(OLD, ago(5))]);
    iamMock.on(ListUserTagsCommand, { UserName: 'alice' }).resolvesOnce({ Tags: [recordTag(OLD, ago(5))] }).resolves({ Tags: [recordTag(OLD, NOW)] });
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: false });
    expect(iamMock).not.toHaveReceivedCommand(UntagUserCommand);
    expect(report.actions[0]).toMatchObject({ action: 'clear-record', applied: false });
  });

  it('a failure to read the last use fails the run and deletes nothing', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock.on(GetAccessKeyLastUsedCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(deleteDeactivatedKeys(ctx(), { ...request, dryRun: false })).rejects.toBeInstanceOf(AwsCallError);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
  });

  it('for every user, examines only users holding a deactivation record (from one paged call)', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({
      UserDetailList: [
        { ...USER, Tags: [recordTag(OLD, ago(15))] },
        { ...USER, UserName: 'bob', UserId: 'AIDABOB0000000000001', Tags: [{ Key: 'team', Value: 'x' }] },
      ],
      IsTruncated: false,
    });
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    const report = await deleteDeactivatedKeys(ctx(), { allUsers: true, graceDays: 14, now: NOW, dryRun: true });
    expect(iamMock).toHaveReceivedCommandWith(GetAccountAuthorizationDetailsCommand, { Filter: ['User'] });
    expect(iamMock).not.toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'bob' });
    expect(report).toMatchObject({ scope: 'all-users', users: [{ userName: 'alice', userId: USER.UserId }], complete: true });
    expect(report.summary.text).toBe(`DRY RUN, nothing changed: 1 user with deactivation records: would delete 1 key (${OLD}); 0 keys left as they are.`);
  });

  it('for every user, a user deleted during the run is reported as not processed, not a crash', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [{ ...USER, Tags: [recordTag(OLD, ago(15))] }], IsTruncated: false });
    iamMock.on(ListAccessKeysCommand).rejects(noSuchEntity('user'));
    const report = await deleteDeactivatedKeys(ctx(), { allUsers: true, graceDays: 14, now: NOW, dryRun: false });
    expect(report).toMatchObject({ complete: false, users: [], notProcessed: [{ userName: 'alice', reason: 'the user was deleted during the run' }] });
  });

  it('for every user, stops before the deadline and lists the users it did not reach', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [{ ...USER, Tags: [recordTag(OLD, ago(15))] }], IsTruncated: false });
    const report = await deleteDeactivatedKeys(ctx(), { allUsers: true, graceDays: 14, now: NOW, dryRun: false, shouldStop: () => true });
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 0);
    expect(report.complete).toBe(false);
    expect(report.notProcessed[0]?.userName).toBe('alice');
  });

  it('one user that does not exist is a NoSuchUserError', async () => {
    iamMock.on(GetUserCommand).rejects(noSuchEntity('user'));
    await expect(deleteDeactivatedKeys(ctx(), { ...request, dryRun: true })).rejects.toBeInstanceOf(NoSuchUserError);
  });
});

describe('deleteDeactivatedKeys: only records keyage wrote, never a blind retry', () => {
  const request = { userName: 'alice', graceDays: 14, now: NOW, dryRun: false };
  const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
  const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

  it.each([
    ['a bare time (a record written before records were signed)', (at: Date) => ({ Key: `keyage:deactivated:${OLD}`, Value: at.toISOString() }), 'unsigned'],
    ['a record signed with another key', (at: Date) => signedRecordTag(subject(OLD), at, 'someone-elses-key'), 'suspect'],
    ['a record copied from another user', (at: Date) => signedRecordTag({ ...subject(OLD), userId: 'AIDABOB0000000000001' }, at), 'suspect'],
    ['a record copied from another key', (at: Date) => ({ Key: `keyage:deactivated:${OLD}`, Value: signedRecordTag(subject(NEW), at).Value }), 'suspect'],
    ['a record re-dated to an earlier time', (at: Date) => ({ Key: `keyage:deactivated:${OLD}`, Value: signedRecordTag(subject(OLD), NOW).Value.replace(NOW.toISOString(), at.toISOString()) }), 'suspect'],
    ['a record of the same key before it was re-created', (at: Date) => signedRecordTag(subject(OLD, 300), at), 'suspect'],
  ])('%s never deletes the key', async (_name, tag, status) => {
    const record = tag(ago(30));
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [record]);
    const report = await deleteDeactivatedKeys(ctx(), request);
    expectNoWrites();
    expect(report.actions).toEqual([expect.objectContaining({ accessKeyId: OLD, action: 'keep', record: status, applied: false })]);
    expect(report.alerts.length).toBe(status === 'suspect' ? 1 : 0);
    if (status === 'suspect') expect(report.summary.text).toContain(`1 SUSPECTED FORGED record (${OLD})`);
  });

  it('a record that cannot be verified (KMS fails) deletes nothing and fails the run with a named error', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(30))]);
    const broken: RecordSigner = { keyId: 'k', sign: async () => 'x', verify: async () => Promise.reject(new Error('KMS is unavailable')) };
    const failure = await deleteDeactivatedKeys(ctx(false, broken), request).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RemediationFailedError);
    expect((failure as RemediationFailedError).message).toContain('could not be verified: KMS is unavailable');
    expect((failure as RemediationFailedError).report.actions[0]).toMatchObject({ action: 'keep', record: 'unverifiable' });
    expectNoWrites();
  });

  it('without a record key, keyage writes a bare-time record and later never deletes on it', async () => {
    givenAlice([keyMeta(OLD, 120)]);
    const deactivation = await deactivateStaleKeys(ctx(false, null), { userName: 'alice', maxAccessKeyAgeDays: 90, now: NOW, dryRun: false });
    expect(iamMock).toHaveReceivedCommandWith(TagUserCommand, { UserName: 'alice', Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: NOW.toISOString() }] });
    expect(deactivation).toMatchObject({ recordKey: null, actions: [expect.objectContaining({ record: 'unsigned', applied: true })] });
    iamMock.on(ListAccessKeysCommand, { UserName: 'alice' }).resolves({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Inactive')] });
    const later = new Date(NOW.getTime() + 30 * DAY_MS);
    const report = await deleteDeactivatedKeys(ctx(), { ...request, now: later });
    expect(iamMock).not.toHaveReceivedCommand(DeleteAccessKeyCommand);
    expect(report.actions[0]).toMatchObject({ action: 'keep', record: 'unsigned' });
  });

  it('a throttled DeleteAccessKey is not resent blindly: the key re-activated during the backoff is kept', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock
      .on(ListAccessKeysCommand, { UserName: 'alice' })
      .resolvesOnce({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Inactive')] }) // plan
      .resolvesOnce({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Inactive')] }) // re-check before attempt 1
      .resolves({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Active')] }); // a person re-activated it during the backoff
    iamMock.on(DeleteAccessKeyCommand).rejectsOnce(throttled()).resolves({});
    const report = await deleteDeactivatedKeys(ctx(), request);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 1);
    expect(report.actions[0]).toMatchObject({ action: 'delete', applied: false });
    expect(report.actions[0]?.outcome).toMatch(/^Re-checked before deleting: Active key .* re-activated/);
  });

  it('a throttled DeleteAccessKey is tried again after a full re-check, and succeeds', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock.on(DeleteAccessKeyCommand).rejectsOnce(throttled()).resolves({});
    const report = await deleteDeactivatedKeys(ctx(), request);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 2);
    // plan + one re-check per attempt
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 3);
    expect(report.actions[0]).toMatchObject({ action: 'delete', applied: true, outcome: 'Deleted after 2 attempts, each after a full re-check.' });
  });

  it('a delete whose answer was lost after IAM acted is reported as this run\'s deletion, not "already deleted by another run"', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock.on(DeleteAccessKeyCommand).rejectsOnce(reset());
    // IAM did delete it: the re-check finds it gone
    iamMock.on(GetAccessKeyLastUsedCommand, { AccessKeyId: OLD }).resolvesOnce({ AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } }).resolvesOnce({ AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } }).rejects(noSuchEntity('access key'));
    const report = await deleteDeactivatedKeys(ctx(), request);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 1);
    expect(report.actions[0]).toMatchObject({ action: 'delete', applied: true });
    expect(report.actions[0]?.outcome).toMatch(/^Deleted by this run: IAM's answer to DeleteAccessKey was lost/);
    expect(iamMock).toHaveReceivedCommandWith(UntagUserCommand, { UserName: 'alice', TagKeys: [`keyage:deactivated:${OLD}`] });
    expect(report.summary.applied.delete).toBe(1);
  });

  it('a second attempt answered NoSuchEntity after a lost answer is also this run\'s deletion', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock.on(DeleteAccessKeyCommand).rejectsOnce(reset()).rejects(noSuchEntity('access key'));
    const report = await deleteDeactivatedKeys(ctx(), request);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 2);
    expect(report.actions[0]).toMatchObject({ action: 'delete', applied: true });
    expect(report.actions[0]?.outcome).toMatch(/^Deleted by this run/);
  });

  it('a delete that keeps failing retryably stops after its attempts, each after a re-check, and fails the run', async () => {
    givenAlice([keyMeta(OLD, 120, 'Inactive')], [recordTag(OLD, ago(15))]);
    iamMock.on(DeleteAccessKeyCommand).rejects(throttled());
    const failure = await deleteDeactivatedKeys(ctx(), request).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RemediationFailedError);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 4);
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 1 + 4);
  });
});

describe('deleteDeactivatedKeys for every user: progress across runs', () => {
  const users = ['AIDAUSER000000000001', 'AIDAUSER000000000002', 'AIDAUSER000000000003'].map((id, i) => ({ ...USER, UserName: `u${i + 1}`, UserId: id, Arn: `arn:aws:iam::123456789012:user/u${i + 1}` }));

  function memoryCursor(start?: string): DeleteCursor & { value: string | undefined } {
    const c = {
      value: start,
      read: async () => c.value,
      write: async (v: string) => {
        c.value = v;
      },
    };
    return c;
  }

  it('orders users by ID and starts after the one the last run examined last, wrapping round', () => {
    const targets = users.map((u) => ({ userId: u.UserId, name: u.UserName }));
    expect(rotateAfter(targets, undefined).map((u) => u.name)).toEqual(['u1', 'u2', 'u3']);
    expect(rotateAfter(targets, 'AIDAUSER000000000001').map((u) => u.name)).toEqual(['u2', 'u3', 'u1']);
    expect(rotateAfter(targets, 'AIDAUSER000000000003').map((u) => u.name)).toEqual(['u1', 'u2', 'u3']);
    expect(rotateAfter([...targets].reverse(), 'AIDAUSER0000000000025').map((u) => u.name)).toEqual(['u3', 'u1', 'u2']);
  });

  it('runs that each reach only one user before their deadline examine every user in turn: none waits forever', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: users.map((u) => ({ ...u, Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: 'x' }] })), IsTruncated: false });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    iamMock.on(ListUserTagsCommand).resolves({ Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: 'x' }] });
    const cursor = memoryCursor();
    const examined: string[] = [];
    for (let run = 0; run < 4; run++) {
      let budget = 1;
      const report = await deleteDeactivatedKeys(ctx(), { allUsers: true, graceDays: 14, now: NOW, dryRun: true, cursor, shouldStop: () => budget-- <= 0 });
      examined.push(...report.users.map((u) => u.userName));
      expect(report.cursor).toEqual({ startedAfter: run === 0 ? null : expect.any(String), lastExamined: report.users[0]?.userId });
    }
    expect(examined).toEqual(['u1', 'u2', 'u3', 'u1']);
  });

  it('a cursor that cannot be read or written only costs the order, never the run', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: users.slice(0, 1).map((u) => ({ ...u, Tags: [] })), IsTruncated: false });
    const broken: DeleteCursor = { read: () => Promise.reject(new Error('AccessDenied')), write: () => Promise.reject(new Error('AccessDenied')) };
    const report = await deleteDeactivatedKeys(ctx(), { allUsers: true, graceDays: 14, now: NOW, dryRun: true, cursor: broken });
    expect(report).toMatchObject({ complete: true, users: [], cursor: { startedAfter: null, lastExamined: null } });
  });
});

describe('deleteDeactivatedKeys: stage 2 planned after stage 1', () => {
  it('assumeDeactivated plans on the state stage 1 would leave: a re-activated stale key is in its grace period, not a record to clear', async () => {
    givenAlice([keyMeta(OLD, 120, 'Active')], [recordTag(OLD, ago(30))]);
    const live = await deleteDeactivatedKeys(ctx(), { userName: 'alice', graceDays: 14, now: NOW, dryRun: true });
    expect(live.actions[0]).toMatchObject({ action: 'clear-record' });
    const after = await deleteDeactivatedKeys(ctx(), { userName: 'alice', graceDays: 14, now: NOW, dryRun: true, assumeDeactivated: [OLD] });
    expect(after.actions[0]).toMatchObject({ accessKeyId: OLD, status: 'Inactive', action: 'keep', deactivatedAt: NOW.toISOString() });
    expect(after.actions[0]?.reason).toBe('Key AKIAOLD0000000000001 (key 1) would be deactivated by stage 1 on 2026-11-25; its grace period of 14 days would end on 2026-12-09T12:00:00.000Z.');
    expectNoWrites();
  });
});
