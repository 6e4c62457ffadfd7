/**
 * The rule against moto_server: the real SDK v3 clients over HTTP, users and keys created in
 * IAM, evaluations put to Config in TestMode. moto cannot backdate a key, so `now` moves
 * forward instead (the keys are created "today" and judged 91 days later).
 */
import { DeleteUserCommand, GetCredentialReportCommand } from '@aws-sdk/client-iam';
import { createLogger } from '../../../lib/log';
import { createHandler } from '../../../rules/access-key-age/handler';
import { DAY_MS } from '../../../rules/access-key-age/policy';
import { changeEvent, scheduledEvent, userConfigurationItem } from '../../harness/events';
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

  it('a change event for a user that no longer exists in IAM is NOT_APPLICABLE', async () => {
    await account.iam.send(new DeleteUserCommand({ UserName: 'carol' }));
    const ci = userConfigurationItem({ resourceId: users.carol!.userId, resourceName: 'carol' });
    await ruleAt(new Date())(changeEvent(ci));
    expect(verdicts()).toEqual({ [users.carol!.userId]: 'NOT_APPLICABLE' });
  });
});
