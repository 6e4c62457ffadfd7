/**
 * The naive baseline: ListUsers paged to the end, ListAccessKeys for every user, one
 * PutEvaluations per user — asserted command by command with aws-sdk-client-mock.
 */
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { IAMClient, ListAccessKeysCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { BaselineFailedError, runBaseline } from '../../bench/baseline';
import { DAY_MS } from '../../rules/access-key-age/policy';

const iamMock = mockClient(IAMClient);
const configMock = mockClient(ConfigServiceClient);
const NOW = new Date('2026-11-25T12:00:00.000Z');
const TRIGGER = new Date('2026-11-25T12:00:05.000Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY_MS);
const user = (name: string) => ({ UserName: name, UserId: `AIDA${name.toUpperCase()}`, Arn: `arn:aws:iam::123456789012:user/${name}`, Path: '/', CreateDate: daysAgo(400) });

describe('runBaseline', () => {
  beforeEach(() => {
    iamMock.reset();
    configMock.reset();
    iamMock.on(ListUsersCommand, {}).resolves({ Users: [user('alice'), user('bob')], IsTruncated: true, Marker: 'page-2' });
    iamMock.on(ListUsersCommand, { Marker: 'page-2' }).resolves({ Users: [user('carol')], IsTruncated: false });
    iamMock.on(ListAccessKeysCommand, { UserName: 'alice' }).resolves({ AccessKeyMetadata: [{ AccessKeyId: 'AKIAALICE1', Status: 'Active', CreateDate: daysAgo(91), UserName: 'alice' }] });
    iamMock.on(ListAccessKeysCommand, { UserName: 'bob' }).resolves({ AccessKeyMetadata: [{ AccessKeyId: 'AKIABOB1', Status: 'Active', CreateDate: daysAgo(90), UserName: 'bob' }] });
    iamMock.on(ListAccessKeysCommand, { UserName: 'carol' }).resolves({ AccessKeyMetadata: [] });
    configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  });

  const run = () =>
    runBaseline({ iam: new IAMClient({ region: 'us-east-1' }), config: new ConfigServiceClient({ region: 'us-east-1' }), now: NOW, maxAccessKeyAgeDays: 90, resultToken: 'TESTMODE', orderingTimestamp: TRIGGER });

  it('pages ListUsers without a page size and reads every user’s keys live', async () => {
    await run();
    expect(iamMock).toHaveReceivedCommandTimes(ListUsersCommand, 2);
    expect(iamMock.commandCalls(ListUsersCommand).map((c) => c.args[0].input)).toEqual([{}, { Marker: 'page-2' }]);
    expect(iamMock.commandCalls(ListAccessKeysCommand).map((c) => c.args[0].input)).toEqual([{ UserName: 'alice' }, { UserName: 'bob' }, { UserName: 'carol' }]);
  });

  it('puts one evaluation per PutEvaluations call, by user ID, in TestMode for the TESTMODE token', async () => {
    const result = await run();
    expect(configMock).toHaveReceivedCommandTimes(PutEvaluationsCommand, 3);
    expect(configMock.commandCalls(PutEvaluationsCommand).map((c) => c.args[0].input)).toEqual([
      {
        Evaluations: [{ ComplianceResourceType: 'AWS::IAM::User', ComplianceResourceId: 'AIDAALICE', ComplianceType: 'NON_COMPLIANT', Annotation: expect.stringContaining('AKIAALICE1'), OrderingTimestamp: TRIGGER }],
        ResultToken: 'TESTMODE',
        TestMode: true,
      },
      {
        Evaluations: [{ ComplianceResourceType: 'AWS::IAM::User', ComplianceResourceId: 'AIDABOB', ComplianceType: 'COMPLIANT', Annotation: expect.any(String), OrderingTimestamp: TRIGGER }],
        ResultToken: 'TESTMODE',
        TestMode: true,
      },
      {
        Evaluations: [{ ComplianceResourceType: 'AWS::IAM::User', ComplianceResourceId: 'AIDACAROL', ComplianceType: 'COMPLIANT', Annotation: expect.any(String), OrderingTimestamp: TRIGGER }],
        ResultToken: 'TESTMODE',
        TestMode: true,
      },
    ]);
    expect(result).toEqual({ users: 3, evaluations: 3, iamAttempts: 5, configAttempts: 3, retries: 0 });
  });

  it('an active key 91 days old makes the user NON_COMPLIANT and one 90 days old does not (the shared policy decides)', async () => {
    await run();
    const verdicts = configMock.commandCalls(PutEvaluationsCommand).map((c) => c.args[0].input.Evaluations?.[0]?.ComplianceType);
    expect(verdicts).toEqual(['NON_COMPLIANT', 'COMPLIANT', 'COMPLIANT']);
  });

  it('counts the SDK’s attempts from $metadata, retries included', async () => {
    iamMock.on(ListAccessKeysCommand, { UserName: 'bob' }).resolves({ AccessKeyMetadata: [], $metadata: { attempts: 3 } });
    const result = await run();
    expect(result).toMatchObject({ iamAttempts: 7, retries: 2 });
  });

  it('a failure part-way stops the baseline with what it had done, and puts nothing for the users after it', async () => {
    iamMock.on(ListAccessKeysCommand, { UserName: 'bob' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { attempts: 3 } }));
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BaselineFailedError);
    expect((err as BaselineFailedError).message).toBe('the baseline stopped after 1 user(s): Throttling: Rate exceeded');
    expect((err as BaselineFailedError).partial).toEqual({ users: 1, evaluations: 1, iamAttempts: 5, configAttempts: 1, retries: 2 });
    expect(configMock).toHaveReceivedCommandTimes(PutEvaluationsCommand, 1);
    expect(iamMock).not.toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'carol' });
  });
});
