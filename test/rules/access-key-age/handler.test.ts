/**
 * The rule Lambda, with the SDK v3 clients mocked by aws-sdk-client-mock: every verdict, every
 * message type, the sweep, delivery to Config and every failure path.
 */
import {
  ConfigServiceClient,
  GetComplianceDetailsByConfigRuleCommand,
  GetResourceConfigHistoryCommand,
  PutEvaluationsCommand,
} from '@aws-sdk/client-config-service';
import {
  GenerateCredentialReportCommand,
  GetAccountAuthorizationDetailsCommand,
  GetCredentialReportCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsAccessDeniedError, AwsCallError, DeadlineExceededError, EvaluationDeliveryError, InvalidEventError, InvalidParameterError } from '../../../lib/errors';
import { createLogger } from '../../../lib/log';
import { createHandler } from '../../../rules/access-key-age/handler';
import { DAY_MS } from '../../../rules/access-key-age/policy';
import { evaluationsSent, expectCustomerError, expectEvaluation, putEvaluationsCalls } from '../../harness/assertions';
import { fakeContext } from '../../harness/context';
import { credentialReportCsv } from '../../harness/credential-report';
import { changeEvent, oversizedEvent, scheduledEvent, userConfigurationItem, withInvokingEvent } from '../../harness/events';

const iamMock = mockClient(IAMClient);
const configMock = mockClient(ConfigServiceClient);

const NOW = new Date('2026-11-25T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY_MS);
const CAPTURE = new Date('2026-11-20T08:00:00.000Z');
const ALICE = { UserName: 'alice', UserId: 'AIDAEXAMPLEALICE00001', Arn: 'arn:aws:iam::123456789012:user/alice', CreateDate: daysAgo(400), Path: '/' };

let logLines: Record<string, unknown>[];

function handler(overrides: Parameters<typeof createHandler>[0] = {}) {
  return createHandler({
    iam: new IAMClient({ region: 'us-east-1' }),
    config: new ConfigServiceClient({ region: 'us-east-1' }),
    now: () => NOW,
    wallClock: () => NOW,
    sleep: async () => undefined,
    log: createLogger({ level: 'debug', sink: (l) => logLines.push(JSON.parse(l)) }),
    ...overrides,
  });
}

function keys(...specs: { id: string; status?: 'Active' | 'Inactive' | 'Expired'; age: number }[]) {
  return { AccessKeyMetadata: specs.map((s) => ({ UserName: 'alice', AccessKeyId: s.id, Status: s.status ?? 'Active', CreateDate: daysAgo(s.age) })) };
}

beforeEach(() => {
  iamMock.reset();
  configMock.reset();
  logLines = [];
  configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  iamMock.on(GetUserCommand, { UserName: 'alice' }).resolves({ User: { ...ALICE, Tags: [] } });
});

describe('change-triggered evaluation', () => {
  const event = (params?: Record<string, string>, opts = {}) => changeEvent(userConfigurationItem(), params, opts);

  it('an active key 91 days old makes the user NON_COMPLIANT, keyed by user ID, ordered by capture time', async () => {
    iamMock.on(ListAccessKeysCommand, { UserName: 'alice' }).resolves(keys({ id: 'AKIAOLDKEY0000000001', age: 91 }));
    const result = await handler()(event(), fakeContext());
    expect(iamMock).toHaveReceivedCommandWith(GetUserCommand, { UserName: 'alice' });
    expect(iamMock).toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'alice' });
    expect(iamMock.calls()).toHaveLength(2);
    expect(configMock).toHaveReceivedCommandTimes(PutEvaluationsCommand, 1);
    expect(configMock).toHaveReceivedCommandWith(PutEvaluationsCommand, { ResultToken: 'TESTMODE', TestMode: true });
    expectEvaluation(evaluationsSent(configMock), {
      resourceId: 'AIDAEXAMPLEALICE00001',
      compliance: 'NON_COMPLIANT',
      annotation: 'Active key AKIAOLDKEY0000000001 (key 1) created 2026-08-26, over the 90-day limit since 2026-11-25.',
      orderingTimestamp: CAPTURE,
    });
    expect(result).toMatchObject({ evaluations: 1, nonCompliant: 1, iamCalls: 2, configCalls: 1 });
  });

  it('an active key 90 days old leaves the user COMPLIANT and says when it falls due', async () => {
    iamMock.on(ListAccessKeysCommand).resolves(keys({ id: 'AKIAKEY9000000000001', age: 90 }));
    await handler()(event());
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'COMPLIANT', annotation: 'Oldest active key created 2026-08-27; due for rotation on 2026-11-26; limit 90.' });
  });

  it('a user with no keys is COMPLIANT', async () => {
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    await handler()(event());
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'COMPLIANT', annotation: 'No access keys.' });
  });

  it('an inactive key 300 days old beside a young active key leaves the user COMPLIANT', async () => {
    iamMock.on(ListAccessKeysCommand).resolves(keys({ id: 'AKIAOLDINACTIVE00001', status: 'Inactive', age: 300 }, { id: 'AKIANEWKEY0000000002', age: 3 }));
    await handler()(event());
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'COMPLIANT', annotation: 'Oldest active key created 2026-11-22; due for rotation on 2027-02-21; limit 90.' });
  });

  it('a stale second key makes the user NON_COMPLIANT even when the first is young', async () => {
    iamMock.on(ListAccessKeysCommand).resolves(keys({ id: 'AKIAYOUNG00000000001', age: 1 }, { id: 'AKIASTALE00000000002', age: 200 }));
    await handler()(event());
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'NON_COMPLIANT', annotation: 'Active key AKIASTALE00000000002 (key 1) created 2026-05-09, over the 90-day limit since 2026-08-08.' });
  });

  it('MaxAccessKeyAge from the rule parameters sets the limit', async () => {
    iamMock.on(ListAccessKeysCommand).resolves(keys({ id: 'AKIAKEY3100000000001', age: 31 }));
    await handler()(event({ MaxAccessKeyAge: '30' }));
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'NON_COMPLIANT', annotation: /created 2026-10-25, over the 30-day limit since 2026-11-25\./ });
  });

  it('a user carrying the exemption tag is NOT_APPLICABLE and its keys are not read', async () => {
    iamMock.on(GetUserCommand).resolves({ User: { ...ALICE, Tags: [{ Key: 'keyage-exempt', Value: 'break-glass' }] } });
    await handler()(event({ ExemptionTag: 'keyage-exempt' }));
    expect(iamMock).not.toHaveReceivedCommand(ListAccessKeysCommand);
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'NOT_APPLICABLE', annotation: 'Exempt: the user carries the exemption tag keyage-exempt.' });
  });

  it('an exemption tag with a value exempts only users whose tag has that value', async () => {
    iamMock.on(GetUserCommand).resolves({ User: { ...ALICE, Tags: [{ Key: 'keyage-exempt', Value: 'no' }] } });
    iamMock.on(ListAccessKeysCommand).resolves(keys({ id: 'AKIAOLDKEY0000000001', age: 120 }));
    await handler()(event({ ExemptionTag: 'keyage-exempt=yes' }));
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'NON_COMPLIANT' });
  });

  it.each(['ResourceDeleted', 'ResourceDeletedNotRecorded', 'ResourceNotRecorded'])('a %s item is NOT_APPLICABLE without any IAM call', async (status) => {
    await handler()(changeEvent(userConfigurationItem({ configurationItemStatus: status })));
    expect(iamMock.calls()).toHaveLength(0);
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'NOT_APPLICABLE', annotation: `The user is no longer recorded (${status}).` });
  });

  it('eventLeftScope: true is NOT_APPLICABLE without any IAM call', async () => {
    await handler()(event(undefined, { eventLeftScope: true }));
    expect(iamMock.calls()).toHaveLength(0);
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'NOT_APPLICABLE', annotation: /no longer in the scope/ });
  });

  it('a user deleted after the change was captured (NoSuchEntity) is NOT_APPLICABLE', async () => {
    iamMock.on(GetUserCommand).rejects(new NoSuchEntityException({ message: 'The user with name alice cannot be found.', $metadata: {} }));
    await handler()(event());
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'NOT_APPLICABLE', annotation: 'User alice no longer exists in IAM.' });
  });

  it('a name that now belongs to another user (deleted and re-created) is NOT_APPLICABLE for the old user ID', async () => {
    iamMock.on(GetUserCommand).resolves({ User: { ...ALICE, UserId: 'AIDANEWALICE00000002' } });
    await handler()(event());
    expect(iamMock).not.toHaveReceivedCommand(ListAccessKeysCommand);
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'NOT_APPLICABLE', annotation: /now belongs to AIDANEWALICE00000002/ });
  });

  it('a real result token is passed through without TestMode', async () => {
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    await handler()(event(undefined, { resultToken: 'token-abc' }));
    const input = putEvaluationsCalls(configMock)[0];
    expect(input?.ResultToken).toBe('token-abc');
    expect(input?.TestMode).toBeUndefined();
  });

  it('logs one debug line for the user and an info summary, and never a secret', async () => {
    iamMock.on(ListAccessKeysCommand).resolves(keys({ id: 'AKIAOLDKEY0000000001', age: 91 }));
    await handler()(event());
    const userLine = logLines.find((l) => l.message === 'user evaluated');
    expect(userLine).toMatchObject({ level: 'debug', userName: 'alice', compliance: 'NON_COMPLIANT', staleKeys: [{ accessKeyId: 'AKIAOLDKEY0000000001', ageDays: 91 }] });
    expect(logLines.find((l) => l.message === 'evaluations put')).toMatchObject({ level: 'info', evaluations: 1, nonCompliant: 1 });
    expect(JSON.stringify(logLines)).not.toMatch(/SecretAccessKey|secretAccessKey/);
  });
});

describe('oversized change notification', () => {
  it('fetches the item with GetResourceConfigHistory and evaluates it', async () => {
    configMock.on(GetResourceConfigHistoryCommand).resolves({
      configurationItems: [
        { resourceType: 'AWS::IAM::User', resourceId: ALICE.UserId, resourceName: 'alice', configurationItemStatus: 'OK', configurationItemCaptureTime: CAPTURE },
      ],
    });
    iamMock.on(ListAccessKeysCommand).resolves(keys({ id: 'AKIAOLDKEY0000000001', age: 100 }));
    await handler()(oversizedEvent());
    expect(configMock).toHaveReceivedCommandWith(GetResourceConfigHistoryCommand, {
      resourceType: 'AWS::IAM::User',
      resourceId: ALICE.UserId,
      laterTime: CAPTURE,
      limit: 1,
    });
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'NON_COMPLIANT', orderingTimestamp: CAPTURE });
  });

  it('a deleted user in the summary is NOT_APPLICABLE without fetching the item', async () => {
    await handler()(oversizedEvent({ configurationItemStatus: 'ResourceDeleted' }));
    expect(configMock).not.toHaveReceivedCommand(GetResourceConfigHistoryCommand);
    expectEvaluation(evaluationsSent(configMock), { resourceId: ALICE.UserId, compliance: 'NOT_APPLICABLE' });
  });

  it('fails with a named error, and puts nothing, when Config has no item for the summary', async () => {
    configMock.on(GetResourceConfigHistoryCommand).resolves({ configurationItems: [] });
    await expectCustomerError(handler()(oversizedEvent()), InvalidEventError, /GetResourceConfigHistory returned no item/, configMock);
  });
});

describe('scheduled sweep', () => {
  const users = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => {
      const k = i + from;
      return { UserName: `user${k}`, UserId: `AIDAUSER${String(k).padStart(12, '0')}`, Arn: `arn:aws:iam::123456789012:user/user${k}`, CreateDate: daysAgo(500), Path: '/' };
    });

  function reportFor(list: ReturnType<typeof users>, keyAge: (i: number) => number | undefined) {
    const csv = credentialReportCsv(
      list.map((u, i) => {
        const age = keyAge(i);
        return { user: u.UserName, created: u.CreateDate, keys: age === undefined ? [] : [{ active: true, lastRotated: daysAgo(age) }] };
      }),
    );
    iamMock.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iamMock.on(GetCredentialReportCommand).resolves({ Content: Buffer.from(csv), GeneratedTime: new Date(NOW.getTime() - 3_600_000), ReportFormat: 'text/csv' });
  }

  it('pages ListUsers to the end and evaluates every user on every page', async () => {
    const all = users(5);
    iamMock.on(ListUsersCommand, { MaxItems: 1000 }).resolves({ Users: all.slice(0, 2), IsTruncated: true, Marker: 'page2' });
    iamMock.on(ListUsersCommand, { MaxItems: 1000, Marker: 'page2' }).resolves({ Users: all.slice(2, 4), IsTruncated: true, Marker: 'page3' });
    iamMock.on(ListUsersCommand, { MaxItems: 1000, Marker: 'page3' }).resolves({ Users: all.slice(4), IsTruncated: false });
    reportFor(all, () => 10);
    await handler()(scheduledEvent());
    expect(iamMock).toHaveReceivedCommandTimes(ListUsersCommand, 3);
    const sent = evaluationsSent(configMock);
    expect(sent.map((e) => e.ComplianceResourceId).sort()).toEqual(all.map((u) => u.UserId).sort());
    for (const e of sent) expect(e.OrderingTimestamp).toEqual(new Date('2026-11-25T12:00:00.000Z'));
  });

  it('decides young users from the credential report and confirms only over-limit ones with ListAccessKeys', async () => {
    const all = users(4);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    reportFor(all, (i) => (i === 2 ? 120 : i === 3 ? undefined : 30));
    iamMock.on(ListAccessKeysCommand, { UserName: 'user2' }).resolves({ AccessKeyMetadata: [{ UserName: 'user2', AccessKeyId: 'AKIAUSER2KEY00000001', Status: 'Active', CreateDate: daysAgo(120) }] });
    const result = await handler()(scheduledEvent());
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 1);
    expect(iamMock).toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'user2' });
    const sent = evaluationsSent(configMock);
    expectEvaluation(sent, { resourceId: all[0]!.UserId, compliance: 'COMPLIANT', annotation: 'Oldest active key created 2026-10-26; due for rotation on 2027-01-25; limit 90.' });
    expectEvaluation(sent, { resourceId: all[2]!.UserId, compliance: 'NON_COMPLIANT', annotation: 'Active key AKIAUSER2KEY00000001 (key 1) created 2026-07-28, over the 90-day limit since 2026-10-27.' });
    expectEvaluation(sent, { resourceId: all[3]!.UserId, compliance: 'COMPLIANT', annotation: 'No access keys.' });
    expect(result).toMatchObject({ evaluations: 4, compliant: 3, nonCompliant: 1 });
  });

  it('an over-limit key the report shows but a person has since deleted is confirmed gone: COMPLIANT', async () => {
    const all = users(1);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    reportFor(all, () => 200);
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    await handler()(scheduledEvent());
    expectEvaluation(evaluationsSent(configMock), { resourceId: all[0]!.UserId, compliance: 'COMPLIANT', annotation: 'No access keys.' });
  });

  it('an inactive over-limit key in the report is confirmed live, so a key re-activated since is caught', async () => {
    const all = users(1);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    const csv = credentialReportCsv([{ user: 'user0', created: all[0]!.CreateDate, keys: [{ active: false, lastRotated: daysAgo(150) }] }]);
    iamMock.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iamMock.on(GetCredentialReportCommand).resolves({ Content: Buffer.from(csv), GeneratedTime: NOW });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [{ UserName: 'user0', AccessKeyId: 'AKIAREACTIVATED00001', Status: 'Active', CreateDate: daysAgo(150) }] });
    await handler()(scheduledEvent());
    expectEvaluation(evaluationsSent(configMock), { resourceId: all[0]!.UserId, compliance: 'NON_COMPLIANT' });
  });

  it('a user missing from the report, or re-created under the same name since, is read live', async () => {
    const all = users(2);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    const csv = credentialReportCsv([{ user: 'user1', created: daysAgo(900), keys: [{ active: true, lastRotated: daysAgo(10) }] }]);
    iamMock.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iamMock.on(GetCredentialReportCommand).resolves({ Content: Buffer.from(csv), GeneratedTime: NOW });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    await handler()(scheduledEvent());
    expect(iamMock).toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'user0' });
    expect(iamMock).toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'user1' });
  });

  it.each([
    ['the report is older than 4 hours', { GeneratedTime: new Date(NOW.getTime() - 5 * 3_600_000) }],
    ['the report does not parse', { Content: Buffer.from('not,a,report\n1,2,3\n') }],
  ])('falls back to ListAccessKeys for every user when %s', async (_why, patch) => {
    const all = users(3);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    iamMock.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iamMock.on(GetCredentialReportCommand).resolves({ Content: Buffer.from(credentialReportCsv([])), GeneratedTime: NOW, ...patch });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    await handler()(scheduledEvent());
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 3);
    expect(logLines.find((l) => l.message === 'credential report not used; reading every user live')).toBeDefined();
    expect(evaluationsSent(configMock)).toHaveLength(3);
  });

  it('falls back to ListAccessKeys when the role may not read the credential report', async () => {
    const all = users(2);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    iamMock.on(GenerateCredentialReportCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    await handler()(scheduledEvent());
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 2);
    expect(evaluationsSent(configMock)).toHaveLength(2);
  });

  it('waits for a report that is still being generated', async () => {
    const all = users(1);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    iamMock.on(GenerateCredentialReportCommand).resolvesOnce({ State: 'STARTED' }).resolvesOnce({ State: 'INPROGRESS' }).resolves({ State: 'COMPLETE' });
    iamMock.on(GetCredentialReportCommand).resolves({ Content: Buffer.from(credentialReportCsv([{ user: 'user0', created: all[0]!.CreateDate }])), GeneratedTime: NOW });
    await handler()(scheduledEvent());
    expect(iamMock).toHaveReceivedCommandTimes(GenerateCredentialReportCommand, 3);
    expect(iamMock).not.toHaveReceivedCommand(ListAccessKeysCommand);
    expectEvaluation(evaluationsSent(configMock), { resourceId: all[0]!.UserId, compliance: 'COMPLIANT' });
  });

  it('gives up waiting for a report that never completes, within a bounded number of polls, and reads users live', async () => {
    const all = users(1);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    iamMock.on(GenerateCredentialReportCommand).resolves({ State: 'INPROGRESS' });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    const sleeps: number[] = [];
    await handler({ sleep: async (ms) => void sleeps.push(ms) })(scheduledEvent());
    expect(iamMock).not.toHaveReceivedCommand(GetCredentialReportCommand);
    expect(sleeps).toEqual([500, 1000, 2000, 4000, 4000, 4000, 4000]); // 19.5 s of waiting, within the 20 s bound
    expect(iamMock).toHaveReceivedCommandTimes(GenerateCredentialReportCommand, 8);
    expect(iamMock).toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'user0' });
  });

  it('250 users are put in 3 PutEvaluations calls of at most 100', async () => {
    const all = users(250);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    reportFor(all, () => 5);
    await handler()(scheduledEvent());
    const calls = putEvaluationsCalls(configMock);
    expect(calls.map((c) => c.Evaluations?.length)).toEqual([100, 100, 50]);
    expect(new Set(calls.flatMap((c) => c.Evaluations ?? []).map((e) => e.ComplianceResourceId)).size).toBe(250);
  });

  it('sends FailedEvaluations again until Config accepts them', async () => {
    const all = users(3);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    reportFor(all, () => 5);
    configMock
      .on(PutEvaluationsCommand)
      .resolvesOnce({ FailedEvaluations: [{ ComplianceResourceId: all[1]!.UserId, ComplianceResourceType: 'AWS::IAM::User', ComplianceType: 'COMPLIANT', OrderingTimestamp: NOW }] })
      .resolves({ FailedEvaluations: [] });
    await handler()(scheduledEvent());
    const calls = putEvaluationsCalls(configMock);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.Evaluations?.map((e) => e.ComplianceResourceId)).toEqual([all[1]!.UserId]);
  });

  it('fails with EvaluationDeliveryError when Config keeps refusing an evaluation', async () => {
    const all = users(2);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    reportFor(all, () => 5);
    configMock.on(PutEvaluationsCommand).callsFake((input: { Evaluations: { ComplianceResourceId: string }[] }) => ({
      FailedEvaluations: input.Evaluations.filter((e) => e.ComplianceResourceId === all[0]!.UserId),
    }));
    await expect(handler()(scheduledEvent())).rejects.toThrow(EvaluationDeliveryError);
    // the other user's evaluation was delivered in the first call
    expect(putEvaluationsCalls(configMock)[0]?.Evaluations).toHaveLength(2);
    expect(putEvaluationsCalls(configMock).slice(1).every((c) => c.Evaluations?.length === 1)).toBe(true);
  });

  it('retries IAM throttling ("Rate exceeded") with backoff and still evaluates everyone', async () => {
    const all = users(2);
    const throttle = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    iamMock.on(ListUsersCommand).rejectsOnce(throttle).rejectsOnce(throttle).resolves({ Users: all });
    reportFor(all, () => 5);
    const sleeps: number[] = [];
    const result = await handler({ sleep: async (ms) => void sleeps.push(ms) })(scheduledEvent());
    expect(iamMock).toHaveReceivedCommandTimes(ListUsersCommand, 3);
    expect(sleeps.length).toBeGreaterThanOrEqual(2);
    expect(result.evaluations).toBe(2);
    expect(logLines.filter((l) => l.message === 'AWS call retried' && l.reason === 'throttled')).toHaveLength(2);
  });

  it('fails with AwsCallError, putting nothing, when IAM keeps throttling past the retry budget', async () => {
    iamMock.on(ListUsersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expectCustomerError(handler({ retry: { maxAttempts: 3 } })(scheduledEvent()), AwsCallError, /iam:ListUsers failed after 3 attempts: Rate exceeded/, configMock);
  });

  it('AccessDenied on ListAccessKeys fails the invocation with a named error and puts nothing', async () => {
    const all = users(1);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    iamMock.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iamMock.on(GetCredentialReportCommand).resolves({ Content: Buffer.from(credentialReportCsv([])), GeneratedTime: NOW });
    iamMock.on(ListAccessKeysCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }));
    await expectCustomerError(handler()(scheduledEvent()), AwsAccessDeniedError, /Access denied for iam:ListAccessKeys/, configMock);
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 1); // never retried
  });

  it('an IAM read failing past the retry budget mid-sweep: puts the verdicts reached, none for the failed user, then fails with the named error', async () => {
    const all = users(8);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    iamMock.on(GenerateCredentialReportCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    iamMock.on(ListAccessKeysCommand, { UserName: 'user1' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const err = await handler({ retry: { maxAttempts: 3 } })(scheduledEvent()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as Error).message).toBe('iam:ListAccessKeys failed after 3 attempts: Rate exceeded');
    expect(iamMock).toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'user1' });
    const sent = evaluationsSent(configMock);
    const ids = sent.map((e) => e.ComplianceResourceId);
    expect(ids).not.toContain(all[1]!.UserId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain(all[0]!.UserId);
    expect(sent.every((e) => e.ComplianceType === 'COMPLIANT')).toBe(true);
    expect(logLines.find((l) => l.message === 'sweep incomplete; putting the verdicts reached before the failure')).toBeDefined();
  });

  it('a user deleted between ListUsers and ListAccessKeys is NOT_APPLICABLE, not an error', async () => {
    const all = users(2);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    iamMock.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iamMock.on(GetCredentialReportCommand).resolves({ Content: Buffer.from(credentialReportCsv([])), GeneratedTime: NOW });
    iamMock.on(ListAccessKeysCommand, { UserName: 'user0' }).rejects(new NoSuchEntityException({ message: 'gone', $metadata: {} }));
    iamMock.on(ListAccessKeysCommand, { UserName: 'user1' }).resolves({ AccessKeyMetadata: [] });
    await handler()(scheduledEvent());
    const sent = evaluationsSent(configMock);
    expectEvaluation(sent, { resourceId: all[0]!.UserId, compliance: 'NOT_APPLICABLE', annotation: 'User user0 was deleted during the evaluation.' });
    expectEvaluation(sent, { resourceId: all[1]!.UserId, compliance: 'COMPLIANT' });
  });

  it('a user deleted mid-sweep, with a real result token: one NOT_APPLICABLE for it (cleanup adds none) and the other users are still put', async () => {
    const all = users(2);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    iamMock.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iamMock.on(GetCredentialReportCommand).resolves({ Content: Buffer.from(credentialReportCsv([])), GeneratedTime: NOW });
    iamMock.on(ListAccessKeysCommand, { UserName: 'user0' }).rejects(new NoSuchEntityException({ message: 'gone', $metadata: {} }));
    iamMock.on(ListAccessKeysCommand, { UserName: 'user1' }).resolves({ AccessKeyMetadata: [{ UserName: 'user1', AccessKeyId: 'AKIAUSER1KEY00000001', Status: 'Active', CreateDate: daysAgo(695) }] });
    const result = (id: string) => ({ EvaluationResultIdentifier: { OrderingTimestamp: daysAgo(1), EvaluationResultQualifier: { ConfigRuleName: 'keyage-access-key-age', ResourceType: 'AWS::IAM::User', ResourceId: id } } });
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [result(all[0]!.UserId), result(all[1]!.UserId)] });
    await handler()(scheduledEvent(undefined, { resultToken: 'real-token' }));
    const sent = evaluationsSent(configMock);
    expect(sent).toHaveLength(2);
    expectEvaluation(sent, { resourceId: all[0]!.UserId, compliance: 'NOT_APPLICABLE', annotation: 'User user0 was deleted during the evaluation.' });
    expectEvaluation(sent, { resourceId: all[1]!.UserId, compliance: 'NON_COMPLIANT' });
  });

  it('cleanup leaves alone an evaluation ordered after the sweep was triggered (a user created and evaluated since)', async () => {
    const all = users(1);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    reportFor(all, () => 5);
    const trigger = new Date('2026-11-25T12:00:00.000Z');
    const result = (id: string, at: Date) => ({ EvaluationResultIdentifier: { OrderingTimestamp: at, EvaluationResultQualifier: { ConfigRuleName: 'keyage-access-key-age', ResourceType: 'AWS::IAM::User', ResourceId: id } } });
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({
      EvaluationResults: [result('AIDANEWUSER000000001', new Date(trigger.getTime() + 60_000)), result('AIDAGONE000000000001', new Date(trigger.getTime() - DAY_MS))],
    });
    await handler()(scheduledEvent(undefined, { resultToken: 'real-token', notificationCreationTime: trigger.toISOString() }));
    const ids = evaluationsSent(configMock).map((e) => e.ComplianceResourceId);
    expect(ids).toContain('AIDAGONE000000000001');
    expect(ids).not.toContain('AIDANEWUSER000000001');
  });

  it('with ExemptionTag, reads users with their tags in pages of GetAccountAuthorizationDetails and exempts tagged users', async () => {
    const all = users(3);
    iamMock.on(GetAccountAuthorizationDetailsCommand, { Filter: ['User'], MaxItems: 1000 }).resolves({
      UserDetailList: [{ ...all[0]!, Tags: [{ Key: 'Keyage-Exempt', Value: 'true' }] }, all[1]!],
      IsTruncated: true,
      Marker: 'm2',
    });
    iamMock.on(GetAccountAuthorizationDetailsCommand, { Filter: ['User'], MaxItems: 1000, Marker: 'm2' }).resolves({ UserDetailList: [all[2]!], IsTruncated: false });
    reportFor(all, () => 200);
    iamMock.on(ListAccessKeysCommand).callsFake((input: { UserName: string }) => ({
      AccessKeyMetadata: [{ UserName: input.UserName, AccessKeyId: `AKIA${input.UserName.toUpperCase()}000000000`.slice(0, 20), Status: 'Active', CreateDate: daysAgo(200) }],
    }));
    await handler()(scheduledEvent({ ExemptionTag: 'keyage-exempt' }));
    expect(iamMock).not.toHaveReceivedCommand(ListUsersCommand);
    expect(iamMock).not.toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'user0' });
    const sent = evaluationsSent(configMock);
    expectEvaluation(sent, { resourceId: all[0]!.UserId, compliance: 'NOT_APPLICABLE', annotation: /exemption tag keyage-exempt/ });
    expectEvaluation(sent, { resourceId: all[1]!.UserId, compliance: 'NON_COMPLIANT' });
    expectEvaluation(sent, { resourceId: all[2]!.UserId, compliance: 'NON_COMPLIANT' });
  });

  it('clears evaluations of users that no longer exist with NOT_APPLICABLE (real result token)', async () => {
    const all = users(1);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    reportFor(all, () => 5);
    const result = (id: string) => ({ EvaluationResultIdentifier: { EvaluationResultQualifier: { ConfigRuleName: 'keyage-access-key-age', ResourceType: 'AWS::IAM::User', ResourceId: id } } });
    configMock.on(GetComplianceDetailsByConfigRuleCommand, { NextToken: undefined }).resolves({ EvaluationResults: [result(all[0]!.UserId), result('AIDAGONE000000000001')], NextToken: 't2' });
    configMock.on(GetComplianceDetailsByConfigRuleCommand, { NextToken: 't2' }).resolves({ EvaluationResults: [result('AIDAGONE000000000002')] });
    await handler()(scheduledEvent(undefined, { resultToken: 'real-token' }));
    expect(configMock).toHaveReceivedCommandWith(GetComplianceDetailsByConfigRuleCommand, {
      ConfigRuleName: 'keyage-access-key-age',
      ComplianceTypes: ['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE'],
      Limit: 100,
    });
    expect(configMock).toHaveReceivedCommandTimes(GetComplianceDetailsByConfigRuleCommand, 2);
    const sent = evaluationsSent(configMock);
    expect(sent).toHaveLength(3);
    expectEvaluation(sent, { resourceId: 'AIDAGONE000000000001', compliance: 'NOT_APPLICABLE', annotation: 'The user no longer exists in IAM.' });
    expectEvaluation(sent, { resourceId: 'AIDAGONE000000000002', compliance: 'NOT_APPLICABLE' });
    expectEvaluation(sent, { resourceId: all[0]!.UserId, compliance: 'COMPLIANT' });
  });

  it('stops before the Lambda timeout, puts what it decided, and fails with DeadlineExceededError', async () => {
    const all = users(6);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    iamMock.on(GenerateCredentialReportCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    let t = 0;
    iamMock.on(ListAccessKeysCommand).callsFake(() => {
      t += 10_000; // each read "takes" 10 s of Lambda time
      return { AccessKeyMetadata: [] };
    });
    const context = fakeContext({ remainingMs: 55_000, clock: () => t });
    const err = await handler({ safetyMarginMs: 30_000 })(scheduledEvent(), context).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect((err as Error).message).toMatch(/3 user\(s\) evaluated and put, 3 not evaluated/);
    expect(evaluationsSent(configMock).map((e) => e.ComplianceResourceId)).toEqual(all.slice(0, 3).map((u) => u.UserId));
    expect(logLines.find((l) => l.message === 'stopping the sweep before the Lambda timeout')).toBeDefined();
  });
});

describe('scheduled sweep: recording only what changed', () => {
  const users = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ UserName: `user${i}`, UserId: `AIDAUSER${String(i).padStart(12, '0')}`, Arn: `arn:aws:iam::123456789012:user/user${i}`, CreateDate: daysAgo(500), Path: '/' }));
  const YOUNG = 'Oldest active key created 2026-11-15; due for rotation on 2027-02-14; limit 90.';
  const TRIGGER = new Date('2026-11-25T12:00:00.000Z');
  const event = (params?: Record<string, string>) => scheduledEvent(params, { resultToken: 'real-token', notificationCreationTime: TRIGGER.toISOString() });
  const recorded = (id: string, compliance: string, annotation: string | undefined, recordedDaysAgo: number) => ({
    EvaluationResultIdentifier: { OrderingTimestamp: new Date(TRIGGER.getTime() - recordedDaysAgo * DAY_MS - 5_000), EvaluationResultQualifier: { ConfigRuleName: 'keyage-access-key-age', ResourceType: 'AWS::IAM::User', ResourceId: id, EvaluationMode: 'DETECTIVE' as const } },
    ComplianceType: compliance as 'COMPLIANT',
    ...(annotation !== undefined ? { Annotation: annotation } : {}),
    ResultRecordedTime: new Date(TRIGGER.getTime() - recordedDaysAgo * DAY_MS),
    ConfigRuleInvokedTime: new Date(TRIGGER.getTime() - recordedDaysAgo * DAY_MS - 2_000),
  });

  function accountOf(n: number) {
    const all = users(n);
    iamMock.on(ListUsersCommand).resolves({ Users: all });
    const csv = credentialReportCsv(all.map((u) => ({ user: u.UserName, created: u.CreateDate, keys: [{ active: true, lastRotated: daysAgo(10) }] })));
    iamMock.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iamMock.on(GetCredentialReportCommand).resolves({ Content: Buffer.from(csv), GeneratedTime: new Date(NOW.getTime() - 3_600_000), ReportFormat: 'text/csv' });
    return all;
  }

  it('asks Config for every current result, of every ComplianceType, 100 a page', async () => {
    accountOf(1);
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
    await handler()(event());
    expect(configMock).toHaveReceivedCommandTimes(GetComplianceDetailsByConfigRuleCommand, 1);
    expect(configMock).toHaveReceivedCommandWith(GetComplianceDetailsByConfigRuleCommand, {
      ConfigRuleName: 'keyage-access-key-age',
      ComplianceTypes: ['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE'],
      Limit: 100,
    });
  });

  it('puts the users Config holds no evaluation for, those whose verdict or annotation changed, and those recorded 30 days ago or more — and no other', async () => {
    const all = accountOf(5);
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({
      EvaluationResults: [
        recorded(all[0]!.UserId, 'COMPLIANT', YOUNG, 29), // unchanged, recorded 29 days ago: not put
        recorded(all[1]!.UserId, 'COMPLIANT', 'Oldest active key 1 is 9 days old; due for rotation on 2027-02-14 (in 81 days); limit 90.', 1), // annotation changed
        recorded(all[2]!.UserId, 'NON_COMPLIANT', YOUNG, 1), // verdict changed
        recorded(all[3]!.UserId, 'COMPLIANT', YOUNG, 30), // unchanged, 30 days old: refreshed
        // user4: none yet
      ],
    });
    const result = await handler()(event());
    const sent = evaluationsSent(configMock);
    expect(sent.map((e) => e.ComplianceResourceId)).toEqual([all[1]!.UserId, all[2]!.UserId, all[3]!.UserId, all[4]!.UserId]);
    for (const e of sent) expect(e).toMatchObject({ ComplianceType: 'COMPLIANT', Annotation: YOUNG, OrderingTimestamp: TRIGGER, ComplianceResourceType: 'AWS::IAM::User' });
    expect(configMock).toHaveReceivedCommandWith(PutEvaluationsCommand, { ResultToken: 'real-token' });
    expect(result).toMatchObject({ evaluations: 4, unchanged: 1, putReasons: { new: 1, changed: 2, refresh: 1 } });
  });

  it('EvaluationRefreshDays sets the refresh window', async () => {
    const all = accountOf(2);
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [recorded(all[0]!.UserId, 'COMPLIANT', YOUNG, 7), recorded(all[1]!.UserId, 'COMPLIANT', YOUNG, 6)] });
    const result = await handler()(event({ EvaluationRefreshDays: '7' }));
    expect(evaluationsSent(configMock).map((e) => e.ComplianceResourceId)).toEqual([all[0]!.UserId]);
    expect(result).toMatchObject({ evaluations: 1, unchanged: 1, putReasons: { new: 0, changed: 0, refresh: 1 } });
  });

  it('EvaluationRefreshDays 0 puts every verdict on every sweep, unchanged or not', async () => {
    const all = accountOf(3);
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: all.map((u) => recorded(u.UserId, 'COMPLIANT', YOUNG, 0)) });
    const result = await handler()(event({ EvaluationRefreshDays: '0' }));
    expect(evaluationsSent(configMock).map((e) => e.ComplianceResourceId)).toEqual(all.map((u) => u.UserId));
    expect(result).toMatchObject({ evaluations: 3, unchanged: 0, putReasons: { refresh: 3 } });
  });

  it('a rule with no evaluations yet (new, or deleted and re-created) gets every verdict', async () => {
    const all = accountOf(250);
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
    const result = await handler()(event());
    expect(evaluationsSent(configMock)).toHaveLength(250);
    expect(putEvaluationsCalls(configMock)).toHaveLength(3);
    expect(new Set(evaluationsSent(configMock).map((e) => e.ComplianceResourceId))).toEqual(new Set(all.map((u) => u.UserId)));
    expect(result).toMatchObject({ evaluations: 250, unchanged: 0, putReasons: { new: 250, changed: 0, refresh: 0 } });
  });

  it('with nothing changed, records nothing: one empty PutEvaluations answers the result token', async () => {
    const all = accountOf(3);
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: all.map((u) => recorded(u.UserId, 'COMPLIANT', YOUNG, 2)) });
    const result = await handler()(event());
    expect(putEvaluationsCalls(configMock)).toEqual([{ Evaluations: [], ResultToken: 'real-token' }]);
    expect(result).toMatchObject({ evaluations: 0, unchanged: 3 });
  });

  it('an exempt user Config already holds as NOT_APPLICABLE, with the same annotation, is not put again', async () => {
    const all = users(2);
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [{ ...all[0]!, Tags: [{ Key: 'keyage-exempt', Value: 'true' }] }, { ...all[1]!, Tags: [] }], IsTruncated: false });
    iamMock.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iamMock.on(GetCredentialReportCommand).resolves({ Content: Buffer.from(credentialReportCsv([{ user: 'user1', created: all[1]!.CreateDate, keys: [{ active: true, lastRotated: daysAgo(10) }] }])), GeneratedTime: NOW });
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({
      EvaluationResults: [recorded(all[0]!.UserId, 'NOT_APPLICABLE', 'Exempt: the user carries the exemption tag keyage-exempt.', 3), recorded(all[1]!.UserId, 'COMPLIANT', YOUNG, 3)],
    });
    const result = await handler()(event({ ExemptionTag: 'keyage-exempt' }));
    expect(putEvaluationsCalls(configMock)).toEqual([{ Evaluations: [], ResultToken: 'real-token' }]);
    expect(result).toMatchObject({ evaluations: 0, unchanged: 2 });
  });

  it('a user no longer in IAM is cleared once: not again when Config already holds it NOT_APPLICABLE', async () => {
    const all = accountOf(1);
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({
      EvaluationResults: [recorded(all[0]!.UserId, 'COMPLIANT', YOUNG, 1), recorded('AIDAGONE000000000001', 'NON_COMPLIANT', 'x', 3), recorded('AIDAGONE000000000002', 'NOT_APPLICABLE', 'The user no longer exists in IAM.', 40)],
    });
    await handler()(event());
    expect(evaluationsSent(configMock)).toEqual([
      { ComplianceResourceType: 'AWS::IAM::User', ComplianceResourceId: 'AIDAGONE000000000001', ComplianceType: 'NOT_APPLICABLE', Annotation: 'The user no longer exists in IAM.', OrderingTimestamp: TRIGGER },
    ]);
  });

  it('two results for one user that disagree are taken for no result: the user is put', async () => {
    const all = accountOf(1);
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [recorded(all[0]!.UserId, 'COMPLIANT', YOUNG, 1), recorded(all[0]!.UserId, 'NON_COMPLIANT', 'old', 2)] });
    await handler()(event());
    expect(evaluationsSent(configMock).map((e) => e.ComplianceResourceId)).toEqual([all[0]!.UserId]);
  });

  it('AccessDenied on the read: every verdict is put, nothing is cleared, then the invocation fails with the named error', async () => {
    const all = accountOf(3);
    configMock.on(GetComplianceDetailsByConfigRuleCommand).rejects(Object.assign(new Error('not authorized to perform config:GetComplianceDetailsByConfigRule'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    const err = await handler()(event()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsAccessDeniedError);
    expect(evaluationsSent(configMock).map((e) => e.ComplianceResourceId)).toEqual(all.map((u) => u.UserId));
    expect(logLines.find((l) => l.message === "could not read the rule's current evaluations; putting every verdict, clearing none")).toBeDefined();
  });

  it('a read that fails on its second page (throttled past the retry budget) puts every verdict, then fails', async () => {
    const all = accountOf(2);
    configMock.on(GetComplianceDetailsByConfigRuleCommand, { NextToken: undefined }).resolves({ EvaluationResults: all.map((u) => recorded(u.UserId, 'COMPLIANT', YOUNG, 1)), NextToken: 'p2' });
    configMock.on(GetComplianceDetailsByConfigRuleCommand, { NextToken: 'p2' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const err = await handler({ retry: { maxAttempts: 3 } })(event()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect(configMock).toHaveReceivedCommandTimes(GetComplianceDetailsByConfigRuleCommand, 4);
    expect(evaluationsSent(configMock).map((e) => e.ComplianceResourceId)).toEqual(all.map((u) => u.UserId));
  });

  it('pages that never end (a NextToken seen before) are an error: every verdict is put, then the invocation fails', async () => {
    const all = accountOf(1);
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [recorded(all[0]!.UserId, 'COMPLIANT', YOUNG, 1)], NextToken: 'again' });
    const err = await handler()(event()).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/GetComplianceDetailsByConfigRule: a page returned the NextToken of an earlier page/);
    expect(configMock).toHaveReceivedCommandTimes(GetComplianceDetailsByConfigRuleCommand, 2);
    expect(evaluationsSent(configMock).map((e) => e.ComplianceResourceId)).toEqual([all[0]!.UserId]);
  });

  it('with too little Lambda time left to read Config, puts every verdict and clears nothing', async () => {
    const all = accountOf(2);
    const context = fakeContext({ remainingMs: 20_000, clock: () => 0 });
    const result = await handler({ safetyMarginMs: 30_000 })(event(), context).catch((e: unknown) => e);
    expect(configMock).not.toHaveReceivedCommand(GetComplianceDetailsByConfigRuleCommand);
    expect(evaluationsSent(configMock).map((e) => e.ComplianceResourceId)).toEqual(all.map((u) => u.UserId));
    expect(result).toMatchObject({ evaluations: 2, fullPut: 'no-time-to-read' });
  });
});

describe('rule parameters', () => {
  it.each([
    [{ MaxAccessKeyAge: 'abc' }, /MaxAccessKeyAge: "abc". Allowed: a whole number of days from 1 to 3650/],
    [{ MaxAccessKeyAge: '0' }, /MaxAccessKeyAge: "0"/],
    [{ MaxAccessKeyAge: '-5' }, /MaxAccessKeyAge: "-5"/],
    [{ MaxAccessKeyAge: '1.5' }, /MaxAccessKeyAge: "1.5"/],
    [{ maxAccessKeyAge: '90' }, /parameter maxAccessKeyAge: "90". Allowed: the rule's parameters are MaxAccessKeyAge, ExemptionTag and EvaluationRefreshDays \(did you mean MaxAccessKeyAge\?\)/],
    [{ EvaluationRefreshDays: '61' }, /EvaluationRefreshDays: "61". Allowed: a whole number of days from 0 to 60/],
    [{ Bogus: 'x' }, /parameter Bogus/],
    [{ ExemptionTag: 'aws:reserved' }, /ExemptionTag: "aws:reserved"/],
  ])('rejects %j with a message naming the parameter, and makes no call', async (params, message) => {
    await expectCustomerError(handler()(changeEvent(userConfigurationItem(), params as Record<string, string>)), InvalidParameterError, message, configMock);
    expect(iamMock.calls()).toHaveLength(0);
  });

  it('rejects ruleParameters that are not a JSON object', async () => {
    await expectCustomerError(handler()(changeEvent(userConfigurationItem(), '[1,2]')), InvalidEventError, /ruleParameters must be a JSON object/, configMock);
  });
});

describe('malformed events', () => {
  const good = () => changeEvent(userConfigurationItem());
  it.each<[string, () => unknown, RegExp]>([
    ['null', () => null, /the event must be a JSON object, got null/],
    ['an array', () => [], /the event must be a JSON object, got an array/],
    ['no invokingEvent', () => ({ ...good(), invokingEvent: undefined }), /invokingEvent must be a JSON string, got nothing/],
    ['invokingEvent not JSON', () => ({ ...good(), invokingEvent: '{nope' }), /invokingEvent is not valid JSON/],
    ['an unknown messageType', () => withInvokingEvent(good(), (i) => ({ ...i, messageType: 'Surprise' })), /messageType is "Surprise"; expected one of ConfigurationItemChangeNotification/],
    ['no configurationItem', () => withInvokingEvent(good(), (i) => ({ ...i, configurationItem: undefined })), /configurationItem must be an object, got nothing/],
    ['a bad item status', () => changeEvent(userConfigurationItem({ configurationItemStatus: 'Gone' })), /configurationItemStatus is "Gone"/],
    ['a bad capture time', () => changeEvent(userConfigurationItem({ configurationItemCaptureTime: 'yesterday' })), /configurationItemCaptureTime must be an ISO 8601 date-time/],
    [
      'an impossible capture time',
      () => changeEvent(userConfigurationItem({ configurationItemCaptureTime: '2026-02-30T08:00:00.000Z' })),
      /configurationItemCaptureTime must be a real date and time: there is no February 30, 2026 \(February 2026 has 28 days\)/,
    ],
    ['a capture time without a zone', () => changeEvent(userConfigurationItem({ configurationItemCaptureTime: '2026-11-20T08:00:00.000' })), /configurationItemCaptureTime must be an ISO 8601 date-time with a zone/],
    [
      'an impossible notification time',
      () => scheduledEvent(undefined, { notificationCreationTime: '2025-02-29T12:00:00.000Z' }),
      /notificationCreationTime must be a real date and time: there is no February 29, 2025 \(2025 is not a leap year\)/,
    ],
    ['no resourceId', () => changeEvent(userConfigurationItem({ resourceId: '' })), /resourceId must be a non-empty string/],
    ['no resultToken', () => ({ ...good(), resultToken: undefined }), /resultToken must be a non-empty string/],
    ['eventLeftScope not boolean', () => ({ ...good(), eventLeftScope: 'yes' }), /eventLeftScope must be true or false/],
    ['a scheduled event without rule name', () => ({ ...scheduledEvent(), configRuleName: undefined }), /configRuleName is required/],
    ['a user item without resourceName', () => changeEvent(userConfigurationItem({ resourceName: undefined })), /resourceName is required/],
  ])('%s is an InvalidEventError and puts nothing', async (_name, build, message) => {
    await expectCustomerError(handler()(build()), InvalidEventError, message, configMock);
  });

  it('a non-user resource in a change event is NOT_APPLICABLE for that resource', async () => {
    await handler()(changeEvent(userConfigurationItem({ resourceType: 'AWS::IAM::Role', resourceId: 'AROAEXAMPLE', resourceName: 'r' })));
    expect(iamMock.calls()).toHaveLength(0);
    const [e] = evaluationsSent(configMock);
    expect(e).toMatchObject({ ComplianceResourceType: 'AWS::IAM::Role', ComplianceResourceId: 'AROAEXAMPLE', ComplianceType: 'NOT_APPLICABLE' });
  });
});
