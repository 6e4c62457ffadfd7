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
  deleteDeactivatedKeys,
  type DeletionReport,
  type RemediationContext,
  RemediationFailedError,
} from '../../remediation/core';

const iamMock = mockClient(IAMClient);
const configMock = mockClient(ConfigServiceClient);

const NOW = new Date('2026-11-25T12:00:00.000Z');
const USER = { Path: '/', UserName: 'alice', UserId: 'AIDAALICE00000000001', Arn: 'arn:aws:iam::123456789012:user/alice', CreateDate: new Date('2025-01-01T00:00:00Z') };
const OLD = 'AKIAOLD0000000000001';
const NEW = 'AKIANEW0000000000002';

const ago = (days: number) => new Date(NOW.getTime() - days * DAY_MS);
const noSuchEntity = (what: string) => new NoSuchEntityException({ message: `${what} not found`, $metadata: {} });
const keyMeta = (id: string, ageDays: number, status: 'Active' | 'Inactive' = 'Active') => ({ UserName: 'alice', AccessKeyId: id, Status: status, CreateDate: ago(ageDays) });
const recordTag = (id: string, at: Date) => ({ Key: `keyage:deactivated:${id}`, Value: at.toISOString() });

function ctx(withConfig = false): RemediationContext {
  return {
    iam: new IAMClient({ region: 'us-east-1' }),
    caller: new AwsCaller({ retry: { maxAttempts: 2 }, sleep: async () => undefined }),
    log: silentLogger,
    ...(withConfig ? { config: new ConfigServiceClient({ region: 'us-east-1' }) } : {}),
  };
}

/** IAM as it is for alice: these keys, these tags, never used unless said. */
function givenAlice(keys: ReturnType<typeof keyMeta>[], tags: { Key: string; Value: string }[] = [], lastUsed: Record<string, Date> = {}) {
  iamMock.on(GetUserCommand, { UserName: 'alice' }).resolves({ User: USER });
  iamMock.on(ListAccessKeysCommand, { UserName: 'alice' }).resolves({ AccessKeyMetadata: keys, IsTruncated: false });
  iamMock.on(ListUserTagsCommand, { UserName: 'alice' }).resolves({ Tags: tags, IsTruncated: false });
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

  it('records the deactivation time (now) BEFORE setting the stale key Inactive, and touches no other key', async () => {
    givenAlice([keyMeta(OLD, 120), keyMeta(NEW, 10)]);
    const report = await deactivateStaleKeys(ctx(), { ...request, dryRun: false });
    expect(iamMock).toHaveReceivedCommandWith(TagUserCommand, { UserName: 'alice', Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: NOW.toISOString() }] });
    expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, { UserName: 'alice', AccessKeyId: OLD, Status: 'Inactive' });
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 1);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    expect(sent().filter((c) => c === 'TagUser' || c === 'UpdateAccessKey')).toEqual(['TagUser', 'UpdateAccessKey']);
    expect(report.actions[0]).toMatchObject({ accessKeyId: OLD, action: 'deactivate', applied: true, deactivatedAt: NOW.toISOString() });
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

  it('a record cleared just as another run deactivated the key (IAM has no conditional untag) is written again, restarting the grace period', async () => {
    givenAlice([keyMeta(OLD, 120, 'Active')], [recordTag(OLD, ago(5))]);
    // plan + re-check see the Active key and the old record; after the untag, the key is Inactive and unrecorded
    iamMock
      .on(ListAccessKeysCommand, { UserName: 'alice' })
      .resolvesOnce({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Active')] })
      .resolvesOnce({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Active')] })
      .resolves({ AccessKeyMetadata: [keyMeta(OLD, 120, 'Inactive')] });
    iamMock
      .on(ListUserTagsCommand, { UserName: 'alice' })
      .resolvesOnce({ Tags: [recordTag(OLD, ago(5))] })
      .resolvesOnce({ Tags: [recordTag(OLD, ago(5))] })
      .resolves({ Tags: [] });
    const report = await deleteDeactivatedKeys(ctx(), { ...request, dryRun: false });
    expect(iamMock).toHaveReceivedCommandWith(UntagUserCommand, { UserName: 'alice', TagKeys: [`keyage:deactivated:${OLD}`] });
    expect(iamMock).toHaveReceivedCommandWith(TagUserCommand, { UserName: 'alice', Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: NOW.toISOString() }] });
    expect(sent().indexOf('UntagUser')).toBeLessThan(sent().indexOf('TagUser'));
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    expect(report.actions[0]?.outcome).toContain('a fresh record was written');
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
    expect(iamMock).toHaveReceivedCommandTimes(UntagUserCommand, 0);
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
