/**
 * The remediation core against moto_server with the real SDK clients: a dry run changes
 * nothing, and two runs at once for one user end in the same state as one run, without error.
 */
import { CreateAccessKeyCommand, CreateUserCommand, DeleteUserCommand, GetAccountAuthorizationDetailsCommand, ListAccessKeysCommand, ListUserTagsCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { AwsCaller } from '../../lib/aws-call';
import { NoSuchUserError } from '../../lib/errors';
import { silentLogger } from '../../lib/log';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { deactivateStaleKeys, deleteDeactivatedKeys, type RemediationContext } from '../../remediation/core';
import { kmsRecordSigner } from '../../remediation/records';
import { describeWithMoto, type MotoAccount, newMotoAccount, recordKeyOf } from '../harness/moto';

describeWithMoto('remediation core against moto_server', () => {
  /** The remediation as the Lambda runs it: records signed and verified with the account's record key (moto's KMS). */
  const ctx = async (account: MotoAccount): Promise<RemediationContext> => {
    const caller = new AwsCaller({ sleep: async () => undefined });
    return { iam: account.iam, config: account.config, caller, log: silentLogger, signer: kmsRecordSigner(account.kms, await recordKeyOf(account), caller) };
  };

  /** A user whose keys were created now; returns day(n) relative to their creation. */
  async function given(account: MotoAccount, userName: string, keyCount: number) {
    const user = await account.iam.send(new CreateUserCommand({ UserName: userName }));
    const ids: string[] = [];
    let created = 0;
    for (let i = 0; i < keyCount; i++) {
      const key = (await account.iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
      ids.push(key?.AccessKeyId as string);
      created = (key?.CreateDate as Date).getTime();
    }
    return { userId: user.User?.UserId as string, ids, day: (n: number) => new Date(created + n * DAY_MS) };
  }

  async function state(account: MotoAccount, userName: string) {
    const keys = (await account.iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
    const tags = (await account.iam.send(new ListUserTagsCommand({ UserName: userName }))).Tags ?? [];
    return {
      keys: keys.map((k) => `${k.AccessKeyId}:${k.Status}`).sort(),
      // A signed record reads "<time> (signed)": the MAC differs per key, the format does not.
      tags: tags.map((t) => `${t.Key}=${(t.Value ?? '').replace(/^(\S+) v1 [A-Za-z0-9+/]{43}=$/, '$1 (signed)')}`).sort(),
    };
  }

  it('a dry run of both operations changes nothing in IAM', async () => {
    const account = await newMotoAccount();
    const { ids, day } = await given(account, 'dev', 2);
    const before = await state(account, 'dev');
    const d = await deactivateStaleKeys(await ctx(account), { userName: 'dev', maxAccessKeyAgeDays: 90, dryRun: true, now: day(200) });
    expect(d.actions.map((a) => [a.accessKeyId, a.action, a.applied])).toEqual(ids.map((id) => [id, 'deactivate', false]));
    const r = await deleteDeactivatedKeys(await ctx(account), { userName: 'dev', graceDays: 14, dryRun: true, now: day(200) });
    expect(r.actions.every((a) => a.action === 'keep' && !a.applied)).toBe(true);
    expect(await state(account, 'dev')).toEqual(before);
  });

  it('two deactivations at once for one user end with every stale key Inactive and one record each, without error', async () => {
    const account = await newMotoAccount();
    const { ids, day } = await given(account, 'dev', 2);
    const now = day(91);
    const runs = await Promise.all([
      deactivateStaleKeys(await ctx(account), { userName: 'dev', maxAccessKeyAgeDays: 90, dryRun: false, now }),
      deactivateStaleKeys(await ctx(account), { userName: 'dev', maxAccessKeyAgeDays: 90, dryRun: false, now }),
    ]);
    expect(runs.map((r) => r.operation)).toEqual(['deactivate', 'deactivate']);
    expect(await state(account, 'dev')).toEqual({
      keys: ids.map((id) => `${id}:Inactive`).sort(),
      tags: ids.map((id) => `keyage:deactivated:${id}=${now.toISOString()} (signed)`).sort(),
    });
    // And a third, later run changes nothing.
    const again = await deactivateStaleKeys(await ctx(account), { userName: 'dev', maxAccessKeyAgeDays: 90, dryRun: false, now: day(92) });
    expect(again.actions.map((a) => a.action)).toEqual(['keep', 'keep']);
    expect((await state(account, 'dev')).tags).toEqual(ids.map((id) => `keyage:deactivated:${id}=${now.toISOString()} (signed)`).sort());
  });

  it('two deletions at once delete each key exactly once, clear its record, and raise no error', async () => {
    const account = await newMotoAccount();
    const { ids, day } = await given(account, 'dev', 1);
    await deactivateStaleKeys(await ctx(account), { userName: 'dev', maxAccessKeyAgeDays: 90, dryRun: false, now: day(91) });
    const runs = await Promise.all([
      deleteDeactivatedKeys(await ctx(account), { userName: 'dev', graceDays: 14, dryRun: false, now: day(106) }),
      deleteDeactivatedKeys(await ctx(account), { allUsers: true, graceDays: 14, dryRun: false, now: day(106) }),
    ]);
    const deletes = runs.flatMap((r) => r.actions).filter((a) => a.accessKeyId === ids[0]);
    expect(deletes.map((a) => a.action)).toEqual(['delete', 'delete']);
    expect(deletes.filter((a) => a.applied)).toHaveLength(1);
    expect(await state(account, 'dev')).toEqual({ keys: [], tags: [] });
  });

  it('a key re-activated by a person after deactivation is never deleted; its record is cleared', async () => {
    const account = await newMotoAccount();
    const { ids, day } = await given(account, 'dev', 1);
    const id = ids[0] as string;
    await deactivateStaleKeys(await ctx(account), { userName: 'dev', maxAccessKeyAgeDays: 90, dryRun: false, now: day(91) });
    await account.iam.send(new UpdateAccessKeyCommand({ UserName: 'dev', AccessKeyId: id, Status: 'Active' }));
    const report = await deleteDeactivatedKeys(await ctx(account), { userName: 'dev', graceDays: 14, dryRun: false, now: day(120) });
    expect(report.actions).toEqual([expect.objectContaining({ accessKeyId: id, status: 'Active', action: 'clear-record', applied: true })]);
    expect(await state(account, 'dev')).toEqual({ keys: [`${id}:Active`], tags: [] });
  });

  it('resolves a user ID without Config inventory (moto has none for IAM users) by paging ListUsers', async () => {
    const account = await newMotoAccount();
    const { userId, day } = await given(account, 'dev', 1);
    const report = await deactivateStaleKeys(await ctx(account), { userId, maxAccessKeyAgeDays: 90, dryRun: true, now: day(1) });
    expect(report.user).toEqual({ userName: 'dev', userId });
  });

  it('a user deleted before the run is a NoSuchUserError', async () => {
    const account = await newMotoAccount();
    await account.iam.send(new CreateUserCommand({ UserName: 'gone' }));
    await account.iam.send(new DeleteUserCommand({ UserName: 'gone' }));
    await expect(deactivateStaleKeys(await ctx(account), { userName: 'gone', maxAccessKeyAgeDays: 90, dryRun: false, now: new Date() })).rejects.toBeInstanceOf(NoSuchUserError);
  });

  it('moto returns user tags from GetAccountAuthorizationDetails, which the every-user run relies on', async () => {
    const account = await newMotoAccount();
    const { day } = await given(account, 'dev', 1);
    await deactivateStaleKeys(await ctx(account), { userName: 'dev', maxAccessKeyAgeDays: 90, dryRun: false, now: day(91) });
    const details = await account.iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User'] }));
    expect(details.UserDetailList?.[0]?.Tags?.[0]?.Key).toMatch(/^keyage:deactivated:AKIA/);
  });
});
