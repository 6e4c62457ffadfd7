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
  TagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GenerateMacCommand, VerifyMacCommand } from '@aws-sdk/client-kms';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DescribeDocumentCommand, GetAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createLogger } from '../../lib/log';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME } from '../../remediation/documents';
import { createHandler, MAX_ACTIONS_IN_RESULT, MAX_RESULT_BYTES, type RemediationDependencies } from '../../remediation/handler';
import { recordMessage } from '../../remediation/records';
import { AutomationFake } from '../harness/automation';
import { fakeContext } from '../harness/context';
import { FAKE_RECORD_KEY_ARN, kmsFake } from '../harness/kms-fake';
import { signedRecordTag } from '../harness/record-signer';

const iamMock = mockClient(IAMClient);
const configMock = mockClient(ConfigServiceClient);
const snsMock = mockClient(SNSClient);

const NOW = new Date('2026-11-25T12:00:00.000Z');
const USER_ID = 'AIDAALICE00000000001';
const USER = { Path: '/', UserName: 'alice', UserId: USER_ID, Arn: 'arn:aws:iam::123456789012:user/alice', CreateDate: new Date('2025-01-01T00:00:00Z') };
const OLD = 'AKIAOLD0000000000001';
const CREATED = new Date(NOW.getTime() - 120 * DAY_MS);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:keyage';

let ssm: AutomationFake;
let kms: ReturnType<typeof kmsFake>;

function build(lines: string[] = [], overrides: Partial<RemediationDependencies> = {}) {
  return createHandler({
    iam: new IAMClient({ region: 'us-east-1' }),
    config: new ConfigServiceClient({ region: 'us-east-1' }),
    ssm: ssm.client,
    kms: kms.client,
    sns: new SNSClient({ region: 'us-east-1' }),
    recordKeyArn: FAKE_RECORD_KEY_ARN,
    alertTopicArn: TOPIC,
    now: () => NOW,
    log: createLogger({ level: 'debug', sink: (l) => lines.push(l), clock: () => NOW }),
    sleep: async () => undefined,
    retry: { maxAttempts: 2 },
    ...overrides,
  });
}

/** Runbook 1 started for alice, as Config starts it: the payload its invoke step sends. */
function deactivation(supplied: Record<string, string> = {}) {
  return ssm.start(DEACTIVATE_RUNBOOK_NAME, { IAMResourceId: USER_ID, DryRun: 'false', ...supplied });
}

function givenAliceWithStaleKey(tags: { Key: string; Value: string }[] = []) {
  configMock.on(ListDiscoveredResourcesCommand).resolves({ resourceIdentifiers: [{ resourceType: 'AWS::IAM::User', resourceId: USER_ID, resourceName: 'alice' }] });
  iamMock.on(GetUserCommand, { UserName: 'alice' }).resolves({ User: USER });
  iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [{ UserName: 'alice', AccessKeyId: OLD, Status: 'Active', CreateDate: CREATED }] });
  const state = [...tags];
  iamMock.on(ListUserTagsCommand).callsFake(() => ({ Tags: [...state] }));
  iamMock.on(TagUserCommand).callsFake((input: { Tags: { Key: string; Value: string }[] }) => {
    state.push(...input.Tags);
    return {};
  });
  iamMock.on(GetAccessKeyLastUsedCommand).resolves({ AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });
}

beforeEach(() => {
  iamMock.reset();
  configMock.reset();
  snsMock.reset();
  ssm = new AutomationFake();
  kms = kmsFake();
});

describe('remediation handler', () => {
  it('runbook 1\'s invocation is verified against its execution, then the stale key is deactivated with a signed record', async () => {
    givenAliceWithStaleKey();
    const { id, payload } = deactivation();
    const result = await build()(payload, fakeContext({ functionName: 'keyage-remediation' }));
    expect(ssm.mock).toHaveReceivedCommandWith(GetAutomationExecutionCommand, { AutomationExecutionId: id });
    expect(ssm.mock).toHaveReceivedCommandWith(DescribeDocumentCommand, { Name: DEACTIVATE_RUNBOOK_NAME, DocumentVersion: '3' });
    const subject = { accountId: '123456789012', userId: USER_ID, accessKeyId: OLD, keyCreatedAt: CREATED };
    expect(kms.mock).toHaveReceivedCommandWith(GenerateMacCommand, { KeyId: FAKE_RECORD_KEY_ARN, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from(recordMessage(subject, NOW)) });
    expect(iamMock).toHaveReceivedCommandWith(TagUserCommand, { UserName: 'alice', Tags: [signedRecordTag(subject, NOW)] });
    expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, { UserName: 'alice', AccessKeyId: OLD, Status: 'Inactive' });
    expect(result).toMatchObject({ status: 'Success', operation: 'deactivate', dryRun: false, automationExecutionId: id, actionsOmitted: 0, recordKey: FAKE_RECORD_KEY_ARN });
    expect(result.actions[0]).toMatchObject({ accessKeyId: OLD, action: 'deactivate', applied: true, record: 'verified' });
    // GetUser, ListAccessKeys, GetAccessKeyLastUsed, ListUserTags, TagUser, UpdateAccessKey, ListUserTags (the record is still there)
    expect(result.iamCalls).toBe(7);
  });

  it('DryRun "true" in the execution changes nothing', async () => {
    givenAliceWithStaleKey();
    const result = await build()(deactivation({ DryRun: 'true' }).payload);
    expect(iamMock).toHaveReceivedCommandTimes(TagUserCommand, 0);
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 0);
    expect(kms.mock).toHaveReceivedCommandTimes(GenerateMacCommand, 0);
    expect(result.summary.text).toMatch(/^DRY RUN, nothing changed: /);
  });

  it('the execution\'s parameters fall back to the deployed document\'s defaults: the deployment\'s exemption tag is honoured', async () => {
    ssm = new AutomationFake({ [DEACTIVATE_RUNBOOK_NAME]: { ExemptionTag: 'keyage-exempt' } });
    givenAliceWithStaleKey([{ Key: 'keyage-exempt', Value: 'break-glass' }]);
    const result = await build()(deactivation().payload);
    expect(result).toMatchObject({ exempt: true, actions: [expect.objectContaining({ action: 'keep' })] });
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 0);
  });

  it('logs every action with user, key ID, age and reason, and no secret', async () => {
    givenAliceWithStaleKey();
    const lines: string[] = [];
    const { id, payload } = deactivation();
    await build(lines)(payload);
    const action = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'key deactivate applied');
    expect(action).toMatchObject({ userName: 'alice', userId: USER_ID, accessKeyId: OLD, ageDays: 120, action: 'deactivate', applied: true, automationExecutionId: id });
    expect(String(action?.reason)).toContain('120 days old; limit 90');
    expect(lines.join('\n')).not.toMatch(/SecretAccessKey|SessionToken/i);
  });

  it('a bad parameter in the execution fails the invocation with a named error before any IAM call', async () => {
    const lines: string[] = [];
    await expect(build(lines)(deactivation({ MaxAccessKeyAge: '0' }).payload)).rejects.toMatchObject({ name: 'InvalidParameterError', code: 'InvalidParameterValue' });
    expect(iamMock.calls()).toHaveLength(0);
    expect(configMock.calls()).toHaveLength(0);
    expect(lines.some((l) => l.includes('"errorType":"InvalidParameterValue"'))).toBe(true);
  });

  it('a user ID that matches no user fails with NoSuchUser, the runbook\'s clear failure', async () => {
    configMock.on(ListDiscoveredResourcesCommand).resolves({ resourceIdentifiers: [] });
    iamMock.on(ListUsersCommand).resolves({ Users: [], IsTruncated: false });
    await expect(build()(deactivation().payload)).rejects.toMatchObject({ name: 'NoSuchUserError', message: `IAM user ${USER_ID} does not exist in this account.` });
  });

  it('runbook 2 for every user returns Incomplete when the Lambda is about to time out', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({
      UserDetailList: [{ ...USER, Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: NOW.toISOString() }] }],
      IsTruncated: false,
    });
    const { payload } = ssm.start(DELETE_RUNBOOK_NAME, { DryRun: 'false' });
    const result = await build()(payload, fakeContext({ remainingMs: 10_000 }));
    expect(result).toMatchObject({ status: 'Incomplete', operation: 'delete', scope: 'all-users', complete: false });
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
  });

  it('stops within the runbook step\'s 300 s even when the Lambda itself may run longer', async () => {
    let wall = 0;
    const handler = build([], { wallClock: () => wall });
    iamMock.on(GetAccountAuthorizationDetailsCommand).callsFake(() => {
      wall += 280_000; // the listing took most of the step's budget
      return { UserDetailList: [{ ...USER, Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: NOW.toISOString() }] }], IsTruncated: false };
    });
    const result = await handler(ssm.start(DELETE_RUNBOOK_NAME, { DryRun: 'false' }).payload, fakeContext({ remainingMs: 900_000, clock: () => wall }));
    expect(result.status).toBe('Incomplete');
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 0);
  });

  it(`returns at most ${MAX_ACTIONS_IN_RESULT} actions to the runbook and says how many it left out`, async () => {
    const users = Array.from({ length: 60 }, (_, i) => ({ ...USER, UserName: `u${i}`, UserId: `AIDAUSER${String(i).padStart(12, '0')}` }));
    const tags = [
      { Key: 'keyage:deactivated:AKIAGONE000000000001', Value: NOW.toISOString() },
      { Key: 'keyage:deactivated:AKIAGONE000000000002', Value: NOW.toISOString() },
    ];
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: users.map((u) => ({ ...u, Tags: tags })), IsTruncated: false });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    iamMock.on(ListUserTagsCommand).resolves({ Tags: tags });
    const result = await build()(ssm.start(DELETE_RUNBOOK_NAME, { DryRun: 'true' }).payload);
    expect(result.actions).toHaveLength(MAX_ACTIONS_IN_RESULT);
    expect(result.actionsOmitted).toBe(20);
    expect(result.summary.planned['clear-record']).toBe(120);
  });

  it(`keeps the result under ${MAX_RESULT_BYTES} bytes at 5,000 users, with counts of what it left out`, async () => {
    const users = Array.from({ length: 5000 }, (_, i) => ({ ...USER, UserName: `service-account-with-a-long-name-${i}`, UserId: `AIDAUSER${String(i).padStart(12, '0')}` }));
    const tags = [{ Key: 'keyage:deactivated:AKIAGONE000000000001', Value: NOW.toISOString() }];
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: users.map((u) => ({ ...u, Tags: tags })), IsTruncated: false });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    iamMock.on(ListUserTagsCommand).resolves({ Tags: tags });
    const result = await build()(ssm.start(DELETE_RUNBOOK_NAME, { DryRun: 'true' }).payload);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(result.actions.length + result.actionsOmitted).toBe(5000);
    if (result.operation !== 'delete') throw new Error('expected a deletion report');
    expect(result.users.length + result.usersOmitted).toBe(5000);
    expect(result.summary.text.length).toBeLessThan(500);
  });
});

describe('remediation handler: only keyage\'s own runbooks can make it act', () => {
  const handMade = { Operation: 'deactivate', IAMResourceId: USER_ID, MaxAccessKeyAge: '90', ExemptionTag: '', DryRun: 'false' };

  async function expectRefused(payload: unknown, message: RegExp, handler = build()) {
    givenAliceWithStaleKey();
    await expect(handler(payload)).rejects.toMatchObject({ name: 'UnverifiedInvocationError', code: 'UnverifiedInvocation', message: expect.stringMatching(message) });
    expect(iamMock.calls()).toHaveLength(0);
    expect(configMock.calls()).toHaveLength(0);
    expect(kms.mock.calls()).toHaveLength(0);
  }

  it('a hand-made payload naming no execution makes no IAM call', async () => {
    await expectRefused(handMade, /names no Automation execution \(AutomationExecutionId is missing\)/);
    expect(ssm.mock.calls()).toHaveLength(0);
  });

  it('a payload naming an execution that does not exist makes no IAM call', async () => {
    await expectRefused({ ...handMade, AutomationExecutionId: '0f0f0f0f-0000-4000-8000-000000000000' }, /there is no Automation execution 0f0f0f0f-/);
  });

  it('a payload naming an execution ID that is not one makes no SSM or IAM call', async () => {
    await expectRefused({ ...handMade, AutomationExecutionId: 'exec-1' }, /"exec-1" is not an execution ID/);
    expect(ssm.mock.calls()).toHaveLength(0);
  });

  it('a genuine execution of keyage\'s runbook cannot lend its ID to another payload: DryRun false against a dry-run execution is refused', async () => {
    const { payload } = deactivation({ DryRun: 'true' });
    await expectRefused({ ...payload, DryRun: 'false' }, /the payload's DryRun is "false", but execution .* sends "true"/);
  });

  it('a payload that drops the deployed exemption tag is refused', async () => {
    ssm = new AutomationFake({ [DEACTIVATE_RUNBOOK_NAME]: { ExemptionTag: 'keyage-exempt' } });
    const { payload } = deactivation();
    await expectRefused({ ...payload, ExemptionTag: '' }, /the payload's ExemptionTag is "", but execution .* sends "keyage-exempt"/);
  });

  it('a runbook 1 execution cannot be used for a delete payload', async () => {
    const { id } = deactivation();
    await expectRefused({ Operation: 'delete', IAMUser: '*', GracePeriodDays: '1', ExemptionTag: '', DryRun: 'false', AutomationExecutionId: id }, /the payload's /);
  });

  it('an execution of another document is refused', async () => {
    const { id, payload } = ssm.start('Attacker-Document', {});
    await expectRefused({ ...payload, ...handMade, AutomationExecutionId: id }, /runs "Attacker-Document", which is not one of keyage's documents/);
  });

  it('a finished execution is refused', async () => {
    const { id, payload } = deactivation();
    ssm.finish(id);
    await expectRefused(payload, /is Success, not running/);
  });

  it('without a record key the function refuses to act at all', async () => {
    givenAliceWithStaleKey();
    const handler = build([], { recordKeyArn: '' });
    await expect(handler(deactivation().payload)).rejects.toMatchObject({ name: 'ConfigurationError' });
    expect(iamMock.calls()).toHaveLength(0);
  });
});

describe('remediation handler: suspected forgeries reach the owners', () => {
  function givenForgedRecord() {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [{ ...USER, Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: '2000-01-01T00:00:00.000Z' }] }], IsTruncated: false });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [{ UserName: 'alice', AccessKeyId: OLD, Status: 'Inactive', CreateDate: CREATED }] });
    iamMock.on(ListUserTagsCommand).resolves({ Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: '2000-01-01T00:00:00.000Z' }] });
    iamMock.on(GetAccessKeyLastUsedCommand).resolves({ AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });
  }

  it('a forged record is reported in the result and published to the topic; nothing is deleted', async () => {
    givenForgedRecord();
    const { id, payload } = ssm.start(DELETE_RUNBOOK_NAME, { DryRun: 'false' });
    const result = await build()(payload);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
    if (result.operation !== 'delete') throw new Error('expected a deletion report');
    expect(result.alerts).toEqual([{ userName: 'alice', userId: USER_ID, accessKeyId: OLD, reason: expect.stringContaining('before the key was created') }]);
    expect(result.alertDelivery).toBe('sent');
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: 'keyage: suspected forged deactivation records',
      Message: expect.stringContaining(`- user alice (${USER_ID}), key ${OLD}: SUSPECTED FORGERY`),
    });
    expect(String(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message)).toContain(`Automation execution ${id}`);
    expect(kms.mock).toHaveReceivedCommandTimes(VerifyMacCommand, 0); // impossible date: refused before any MAC check
  });

  it('a topic that refuses the message is reported in the result, not hidden, and the run still returns', async () => {
    givenForgedRecord();
    snsMock.on(PublishCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AuthorizationErrorException' }));
    const result = await build()(ssm.start(DELETE_RUNBOOK_NAME, { DryRun: 'false' }).payload);
    expect(result.alertDelivery).toMatch(/^failed: /);
  });
});
