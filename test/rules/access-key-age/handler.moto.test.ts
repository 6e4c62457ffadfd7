/**
 * The rule against moto_server: the real SDK v3 clients over HTTP, users and keys created in
 * IAM, evaluations put to Config in TestMode. moto cannot backdate a key, so `now` moves
 * forward instead (the keys are created "today" and judged 91 days later).
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { CreateAccessKeyCommand, DeleteAccessKeyCommand, DeleteUserCommand, GetCredentialReportCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { createLogger } from '../../../lib/log';
import { createHandler } from '../../../rules/access-key-age/handler';
import { DAY_MS } from '../../../rules/access-key-age/policy';
import { ConfigEvaluationStore } from '../../harness/config-store';
import { changeEvent, RULE_NAME, scheduledEvent, userConfigurationItem } from '../../harness/events';
import { createUserWithKeys, describeWithMoto, type MotoAccount, newMotoAccount } from '../../harness/moto';
import { recordCommands, recordedEvaluations, type RecordedCommand } from '../../harness/record';

describeWithMoto('access-key-age rule against moto_server', () => {
  let account: MotoAccount;
  let iamCalls: RecordedCommand[];
  let configCalls: RecordedCommand[];
  let users: Record<string, { userId: string; accessKeyIds: string[] }>;

  const ruleAt = (now: Date, extra: Parameters<typeof createHandler>[0] = {}) =>
    createHandler({ iam: account.iam, config: account.config, now: () => now, log: createLogger({ level: 'error', sink: () => undefined }), sleep: async () => undefined, ...extra });
  const verdicts = () => Object.fromEntries(recordedEvaluations(configCalls).map((e) => [e.ComplianceResourceId, e.ComplianceType]));
  const count = (name: string) => iamCalls.filter((c) => c.commandName === name).length;

  beforeEach(async () => {
    account = await newMotoAccount();
    users = {
      alice: await createUserWithKeys(account.iam, 'alice', 1),
      bob: await createUserWithKeys(account.iam, 'bob', 2),
      carol: await createUserWithKeys(account.iam, 'carol', 0),
      dave: await createUserWithKeys(account.iam, 'dave', 1, [{ Key: 'keyage-exempt', Value: 'true' }]),
    };
    iamCalls = recordCommands(account.iam);
    configCalls = recordCommands(account.config);
  });

  afterEach(() => {
    account.iam.destroy();
    account.config.destroy();
  });

  it('a scheduled sweep 91 days after the keys were created marks key holders NON_COMPLIANT, the keyless COMPLIANT, the exempt NOT_APPLICABLE', async () => {
    const result = await ruleAt(new Date(Date.now() + 91 * DAY_MS))(scheduledEvent({ ExemptionTag: 'keyage-exempt=true' }, { accountId: account.accountId }));
    expect(verdicts()).toEqual({
      [users.alice!.userId]: 'NON_COMPLIANT',
      [users.bob!.userId]: 'NON_COMPLIANT',
      [users.carol!.userId]: 'COMPLIANT',
      [users.dave!.userId]: 'NOT_APPLICABLE',
    });
    expect(result).toMatchObject({ evaluations: 4, nonCompliant: 2, compliant: 1, notApplicable: 1 });
    const put = configCalls.filter((c) => c.commandName === 'PutEvaluationsCommand');
    expect(put).toHaveLength(1);
    expect(put[0]?.input).toMatchObject({ ResultToken: 'TESTMODE', TestMode: true });
    const bob = recordedEvaluations(configCalls).find((e) => e.ComplianceResourceId === users.bob!.userId);
    for (const id of users.bob!.accessKeyIds) expect(String(bob?.Annotation)).toContain(id);
  });

  it('the same sweep 89 days on is all COMPLIANT', async () => {
    await ruleAt(new Date(Date.now() + 89 * DAY_MS))(scheduledEvent(undefined, { accountId: account.accountId }));
    expect(Object.values(verdicts()).sort()).toEqual(['COMPLIANT', 'COMPLIANT', 'COMPLIANT', 'COMPLIANT']);
  });

  it('with a fresh credential report, compliant users cost no ListAccessKeys call', async () => {
    // moto stamps every report "2015-02-02"; accept it here as fresh, the way IAM's real stamp would be.
    await ruleAt(new Date(Date.now() + 30 * DAY_MS), { maxReportAgeMs: Number.POSITIVE_INFINITY })(scheduledEvent(undefined, { accountId: account.accountId }));
    expect(count('GetCredentialReportCommand')).toBe(1);
    expect(count('ListAccessKeysCommand')).toBe(0);
    expect(Object.values(verdicts())).toHaveLength(4);
    expect(Object.values(verdicts()).every((v) => v === 'COMPLIANT')).toBe(true);
  });

  it('with a fresh report, only users with over-limit keys are confirmed live', async () => {
    await ruleAt(new Date(Date.now() + 100 * DAY_MS), { maxReportAgeMs: Number.POSITIVE_INFINITY })(scheduledEvent(undefined, { accountId: account.accountId }));
    expect(iamCalls.filter((c) => c.commandName === 'ListAccessKeysCommand').map((c) => c.input.UserName).sort()).toEqual(['alice', 'bob', 'dave']);
    expect(verdicts()[users.carol!.userId]).toBe('COMPLIANT');
    expect(verdicts()[users.alice!.userId]).toBe('NON_COMPLIANT');
  });

  it('moto’s report is stale by the real clock, so by default the sweep reads every user live', async () => {
    const report = await account.iam.send(new GetCredentialReportCommand({})).catch(() => undefined);
    await ruleAt(new Date(Date.now() + 100 * DAY_MS))(scheduledEvent(undefined, { accountId: account.accountId }));
    if (report?.GeneratedTime && Date.now() - report.GeneratedTime.getTime() < 4 * 3_600_000) {
      throw new Error('moto now stamps fresh reports; drop maxReportAgeMs overrides from these tests');
    }
    expect(count('ListAccessKeysCommand')).toBe(4);
    expect(Object.keys(verdicts())).toHaveLength(4);
  });

  it('a deleted user is not evaluated by the sweep', async () => {
    await account.iam.send(new DeleteUserCommand({ UserName: 'carol' }));
    await ruleAt(new Date(Date.now() + 91 * DAY_MS))(scheduledEvent(undefined, { accountId: account.accountId }));
    expect(Object.keys(verdicts()).sort()).toEqual([users.alice!.userId, users.bob!.userId, users.dave!.userId].sort());
  });

  it('a change event for a user with a 91-day-old key is NON_COMPLIANT in two IAM calls and one PutEvaluations', async () => {
    const ci = userConfigurationItem({ resourceId: users.alice!.userId, resourceName: 'alice', awsAccountId: account.accountId });
    await ruleAt(new Date(Date.now() + 91 * DAY_MS))(changeEvent(ci, { MaxAccessKeyAge: '90' }, { accountId: account.accountId }));
    expect(iamCalls.map((c) => c.commandName)).toEqual(['GetUserCommand', 'ListAccessKeysCommand']);
    expect(configCalls.map((c) => c.commandName)).toEqual(['PutEvaluationsCommand']);
    const [evaluation] = recordedEvaluations(configCalls);
    expect(evaluation).toMatchObject({ ComplianceResourceId: users.alice!.userId, ComplianceResourceType: 'AWS::IAM::User', ComplianceType: 'NON_COMPLIANT' });
    expect(String(evaluation?.Annotation)).toMatch(new RegExp(`^Active key ${users.alice!.accessKeyIds[0]} \\(key 1\\) created \\d{4}-\\d{2}-\\d{2}, over the 90-day limit since \\d{4}-\\d{2}-\\d{2}\\.$`));
  });

  it('records only what changed, day after day, with IAM read over HTTP and Config remembering what was put', async () => {
    // moto records no evaluation outside TestMode: Config here is the evaluation store.
    let clock = new Date(Date.now() + 10 * DAY_MS);
    const store = new ConfigEvaluationStore(RULE_NAME, () => clock);
    const config = new ConfigServiceClient({ region: 'us-east-1' });
    store.attach(config);
    try {
      const sweep = async (day: number, extra: Parameters<typeof createHandler>[0] = {}) => {
        clock = new Date(Date.now() + day * DAY_MS);
        const before = store.recorded;
        const result = await ruleAt(clock, { config, ...extra })(
          scheduledEvent({ ExemptionTag: 'keyage-exempt=true' }, { accountId: account.accountId, resultToken: 'token', notificationCreationTime: clock.toISOString() }),
        );
        return { put: store.recorded - before, result };
      };
      const held = () => Object.fromEntries([...store.snapshot()].map(([id, e]) => [id, e.compliance]));
      // day 10: the rule holds nothing yet, every user is put (read live: moto's report is stale)
      expect((await sweep(10)).put).toBe(4);
      // day 11, from the credential report this time: the same annotations, nothing is put
      const day11 = await sweep(11, { maxReportAgeMs: Number.POSITIVE_INFINITY });
      expect(day11.put).toBe(0);
      expect(day11.result).toMatchObject({ evaluations: 0, unchanged: 4 });
      // bob rotates a key the same day it was made: his oldest active key is of the same day, his
      // evaluation the same, and nothing is put for him
      const bobKeys = (await account.iam.send(new ListAccessKeysCommand({ UserName: 'bob' }))).AccessKeyMetadata ?? [];
      const dayOf = (id: string | undefined) => bobKeys.find((k) => k.AccessKeyId === id)?.CreateDate?.toISOString().slice(0, 10);
      await account.iam.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: users.bob!.accessKeyIds[0] }));
      await account.iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
      // (unless his two keys were made either side of midnight UTC: then the oldest's day moved)
      expect((await sweep(11)).put).toBe(dayOf(users.bob!.accessKeyIds[0]) === dayOf(users.bob!.accessKeyIds[1]) ? 0 : 1);
      // erin arrives with a key, carol is deleted: only those two are put
      const erin = await createUserWithKeys(account.iam, 'erin', 1);
      await account.iam.send(new DeleteUserCommand({ UserName: 'carol' }));
      const day12 = await sweep(12);
      expect(day12.put).toBe(2);
      expect(held()[users.carol!.userId]).toBe('NOT_APPLICABLE');
      // day 91: the keys cross the limit (a changed verdict each); dave's exempt evaluation, 81 days old, is put again
      expect((await sweep(91)).put).toBe(4);
      expect(held()).toEqual({
        [users.alice!.userId]: 'NON_COMPLIANT',
        [users.bob!.userId]: 'NON_COMPLIANT',
        [users.carol!.userId]: 'NOT_APPLICABLE',
        [users.dave!.userId]: 'NOT_APPLICABLE',
        [erin.userId]: 'NON_COMPLIANT',
      });
      // day 92: nothing changed, nothing is put; day 121: every evaluation of a user that exists is 30 days old, and put again
      expect((await sweep(92)).put).toBe(0);
      expect((await sweep(121)).put).toBe(4);
    } finally {
      store.detach();
    }
  });

  it('a change event for a user that no longer exists in IAM is NOT_APPLICABLE', async () => {
    await account.iam.send(new DeleteUserCommand({ UserName: 'carol' }));
    const ci = userConfigurationItem({ resourceId: users.carol!.userId, resourceName: 'carol' });
    await ruleAt(new Date())(changeEvent(ci));
    expect(verdicts()).toEqual({ [users.carol!.userId]: 'NOT_APPLICABLE' });
  });
});
