/**
 * The attacks on the delete path, against moto_server with the real SDK clients (IAM, and KMS
 * holding the record key as the member stack creates it). Each one deleted a key, or told a
 * lie about a deletion, before deactivation records were authenticated and deletions re-checked:
 *
 *   - someone with only iam:TagUser writes a record (a date in 2000, the key in upper case, a
 *     U+212A KELVIN SIGN for the k, an impossible date, year 0000, a padded value), copies a
 *     genuine record's value onto another key or user, or moves a genuine record's date back;
 *   - a person re-activates a key while DeleteAccessKey is being retried after a throttle;
 *   - IAM deletes the key but the answer is lost, and the retry meets NoSuchEntity.
 *
 * And the control: keyage's own record still leads to the deletion after the grace period.
 */
import { CreateAccessKeyCommand, CreateUserCommand, ListAccessKeysCommand, ListUserTagsCommand, TagUserCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { AwsCaller } from '../../lib/aws-call';
import { silentLogger } from '../../lib/log';
import { deactivateStaleKeys, deleteDeactivatedKeys, type RemediationContext } from '../../remediation/core';
import { kmsRecordSigner } from '../../remediation/records';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { FaultInjector } from '../harness/faults';
import { describeWithMoto, type MotoAccount, newMotoAccount, recordKeyOf } from '../harness/moto';

describeWithMoto('attacks on the delete path (moto_server, real KMS record key)', () => {
  let account: MotoAccount;
  beforeAll(async () => {
    account = await newMotoAccount();
  }, 60_000);

  /** The remediation as the Lambda runs it. `onBackoff` runs while a retry waits (a person acting meanwhile). */
  async function ctx(onBackoff?: () => Promise<void>): Promise<RemediationContext> {
    const caller = new AwsCaller({ sleep: async () => onBackoff?.() });
    return { iam: account.iam, caller, log: silentLogger, signer: kmsRecordSigner(account.kms, await recordKeyOf(account), caller) };
  }

  /** A user with one key, created now; `day(n)` is n days after its creation. */
  async function userWithKey(userName: string) {
    await account.iam.send(new CreateUserCommand({ UserName: userName }));
    const key = (await account.iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
    const created = (key?.CreateDate as Date).getTime();
    return { id: key?.AccessKeyId as string, day: (n: number) => new Date(created + n * DAY_MS) };
  }

  /** A key switched off by a person (incident response), not by keyage. */
  async function inactiveKey(userName: string) {
    const k = await userWithKey(userName);
    await account.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: k.id, Status: 'Inactive' }));
    return k;
  }

  /** A key keyage deactivated on day 91. */
  async function deactivatedByKeyage(userName: string) {
    const k = await userWithKey(userName);
    await deactivateStaleKeys(await ctx(), { userName, maxAccessKeyAgeDays: 90, dryRun: false, now: k.day(91) });
    const tags = (await account.iam.send(new ListUserTagsCommand({ UserName: userName }))).Tags ?? [];
    return { ...k, record: tags.find((t) => t.Key === `keyage:deactivated:${k.id}`)?.Value as string };
  }

  const keyIds = async (userName: string) => ((await account.iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? []).map((k) => `${k.AccessKeyId}:${k.Status}`);

  const forgeries: [string, (id: string) => string, string][] = [
    ['a date in 2000', (id) => `keyage:deactivated:${id}`, '2000-01-01T00:00:00.000Z'],
    ['the tag key in upper case', (id) => `KEYAGE:DEACTIVATED:${id}`, '2000-01-01T00:00:00.000Z'],
    ['a U+212A KELVIN SIGN for the k', (id) => `\u212Aeyage:deactivated:${id}`, '2000-01-01T00:00:00.000Z'],
    ['an impossible date (2001-02-30)', (id) => `keyage:deactivated:${id}`, '2001-02-30T00:00:00.000Z'],
    ['year 0000', (id) => `keyage:deactivated:${id}`, '0000-01-01T00:00:00.000Z'],
    ['a padded value', (id) => `keyage:deactivated:${id}`, ' 2000-01-01T00:00:00Z '],
    ['a signed-looking value with a made-up MAC', (id) => `keyage:deactivated:${id}`, `2000-01-01T00:00:00.000Z v1 ${'A'.repeat(43)}=`],
  ];

  it.each(forgeries)('a record forged with only iam:TagUser (%s) on a key a person switched off deletes nothing and is reported', async (name, tagKey, value) => {
    const user = `forged-${name.replace(/\W+/g, '-').slice(0, 40)}`;
    const { id, day } = await inactiveKey(user);
    await account.iam.send(new TagUserCommand({ UserName: user, Tags: [{ Key: tagKey(id), Value: value }] }));
    const report = await deleteDeactivatedKeys(await ctx(), { userName: user, graceDays: 14, dryRun: false, now: day(200) });
    expect(await keyIds(user)).toEqual([`${id}:Inactive`]);
    const action = report.actions.find((a) => a.accessKeyId === id);
    expect(action).toMatchObject({ action: 'keep', applied: false });
    expect(['suspect', 'unsigned']).toContain(action?.record);
    if (action?.record === 'suspect') expect(report.alerts).toEqual([expect.objectContaining({ userName: user, accessKeyId: id })]);
  });

  it('a genuine record copied onto another user\'s key deletes nothing, and is reported as a suspected forgery', async () => {
    const source = await deactivatedByKeyage('copy-source');
    const victim = await inactiveKey('copy-victim');
    await account.iam.send(new TagUserCommand({ UserName: 'copy-victim', Tags: [{ Key: `keyage:deactivated:${victim.id}`, Value: source.record }] }));
    const report = await deleteDeactivatedKeys(await ctx(), { userName: 'copy-victim', graceDays: 14, dryRun: false, now: victim.day(200) });
    expect(await keyIds('copy-victim')).toEqual([`${victim.id}:Inactive`]);
    expect(report.alerts).toEqual([expect.objectContaining({ accessKeyId: victim.id, reason: expect.stringContaining('its MAC does not verify') })]);
  });

  it('a genuine record copied onto the same user\'s other key deletes nothing', async () => {
    const { id, record, day } = await deactivatedByKeyage('copy-sibling');
    const other = (await account.iam.send(new CreateAccessKeyCommand({ UserName: 'copy-sibling' }))).AccessKey?.AccessKeyId as string;
    await account.iam.send(new UpdateAccessKeyCommand({ UserName: 'copy-sibling', AccessKeyId: other, Status: 'Inactive' }));
    await account.iam.send(new TagUserCommand({ UserName: 'copy-sibling', Tags: [{ Key: `keyage:deactivated:${other}`, Value: record }] }));
    await deleteDeactivatedKeys(await ctx(), { userName: 'copy-sibling', graceDays: 14, dryRun: false, now: day(200) });
    // keyage's own key goes after its grace period; the one carrying the copy stays.
    expect(await keyIds('copy-sibling')).toEqual([`${other}:Inactive`]);
    expect(id).not.toBe(other);
  });

  it('a genuine record re-dated to skip the grace period deletes nothing', async () => {
    const { id, record, day } = await deactivatedByKeyage('redated');
    const earlier = record.replace(/^\S+/, day(60).toISOString());
    await account.iam.send(new TagUserCommand({ UserName: 'redated', Tags: [{ Key: `keyage:deactivated:${id}`, Value: earlier }] }));
    const report = await deleteDeactivatedKeys(await ctx(), { userName: 'redated', graceDays: 14, dryRun: false, now: day(95) });
    expect(await keyIds('redated')).toEqual([`${id}:Inactive`]);
    expect(report.actions[0]).toMatchObject({ record: 'suspect', action: 'keep' });
  });

  it('keyage\'s own record still leads to the deletion once the grace period is over (and not before)', async () => {
    const { id, day } = await deactivatedByKeyage('genuine');
    const early = await deleteDeactivatedKeys(await ctx(), { userName: 'genuine', graceDays: 14, dryRun: false, now: day(104) });
    expect(early.actions[0]).toMatchObject({ record: 'verified', action: 'keep' });
    expect(await keyIds('genuine')).toEqual([`${id}:Inactive`]);
    const report = await deleteDeactivatedKeys(await ctx(), { userName: 'genuine', graceDays: 14, dryRun: false, now: day(106) });
    expect(report.actions[0]).toMatchObject({ record: 'verified', action: 'delete', applied: true });
    expect(await keyIds('genuine')).toEqual([]);
  });

  it('a key a person re-activates while DeleteAccessKey waits out a throttle is not deleted', async () => {
    const { id, day } = await deactivatedByKeyage('retry-window');
    const faults = new FaultInjector({ seed: 1, rules: [{ operation: 'DeleteAccessKey', kinds: { throttle: 1 }, timing: 'before', times: 1 }] });
    const c = await ctx(async () => {
      await account.iam.send(new UpdateAccessKeyCommand({ UserName: 'retry-window', AccessKeyId: id, Status: 'Active' }));
    });
    const detach = faults.attach(account.iam, 'iam');
    let report;
    try {
      report = await deleteDeactivatedKeys(c, { userName: 'retry-window', graceDays: 14, dryRun: false, now: day(106) });
    } finally {
      detach();
    }
    expect(faults.count('throttle', 'DeleteAccessKey')).toBe(1);
    expect(await keyIds('retry-window')).toEqual([`${id}:Active`]);
    expect(report.actions[0]).toMatchObject({ action: 'delete', applied: false, outcome: expect.stringMatching(/^Re-checked before deleting: Active key/) });
  });

  it('a delete whose answer is lost after IAM acted is reported as this run\'s deletion, not another run\'s', async () => {
    const { id, day } = await deactivatedByKeyage('lost-answer');
    expect(await keyIds('lost-answer')).toEqual([`${id}:Inactive`]);
    const faults = new FaultInjector({ seed: 1, rules: [{ operation: 'DeleteAccessKey', kinds: { 'connection-reset': 1 }, timing: 'after', times: 1 }] });
    const detach = faults.attach(account.iam, 'iam');
    let report;
    try {
      report = await deleteDeactivatedKeys(await ctx(), { userName: 'lost-answer', graceDays: 14, dryRun: false, now: day(106) });
    } finally {
      detach();
    }
    expect(faults.count('connection-reset', 'DeleteAccessKey')).toBe(1);
    expect(await keyIds('lost-answer')).toEqual([]);
    expect(report.actions[0]).toMatchObject({ action: 'delete', applied: true, outcome: expect.stringMatching(/^Deleted by this run: IAM's answer to DeleteAccessKey was lost/) });
    expect((await account.iam.send(new ListUserTagsCommand({ UserName: 'lost-answer' }))).Tags).toEqual([]);
  });

  it('a look-alike exemption tag (U+212A KELVIN SIGN) does not exempt a user; the real one does', async () => {
    const fake = await userWithKey('kelvin-exempt');
    await account.iam.send(new TagUserCommand({ UserName: 'kelvin-exempt', Tags: [{ Key: '\u212Aeyage-exempt', Value: 'true' }] }));
    const real = await userWithKey('real-exempt');
    await account.iam.send(new TagUserCommand({ UserName: 'real-exempt', Tags: [{ Key: 'Keyage-Exempt', Value: 'true' }] }));
    const exemptionTag = { key: 'keyage-exempt' };
    const a = await deactivateStaleKeys(await ctx(), { userName: 'kelvin-exempt', maxAccessKeyAgeDays: 90, exemptionTag, dryRun: true, now: fake.day(91) });
    const b = await deactivateStaleKeys(await ctx(), { userName: 'real-exempt', maxAccessKeyAgeDays: 90, exemptionTag, dryRun: true, now: real.day(91) });
    expect([a.exempt, a.actions[0]?.action]).toEqual([false, 'deactivate']);
    expect([b.exempt, b.actions[0]?.action]).toEqual([true, 'keep']);
  });
});
