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
import { mockClient } from 'aws-sdk-client-mock';
import { createLogger } from '../../lib/log';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { createHandler, MAX_ACTIONS_IN_RESULT } from '../../remediation/handler';
import { fakeContext } from '../harness/context';

const iamMock = mockClient(IAMClient);
const configMock = mockClient(ConfigServiceClient);

const NOW = new Date('2026-11-25T12:00:00.000Z');
const USER_ID = 'AIDAALICE00000000001';
const USER = { Path: '/', UserName: 'alice', UserId: USER_ID, Arn: 'arn:aws:iam::123456789012:user/alice', CreateDate: new Date('2025-01-01T00:00:00Z') };
const OLD = 'AKIAOLD0000000000001';

const deactivatePayload = (overrides: Record<string, unknown> = {}) => ({
  Operation: 'deactivate',
  IAMResourceId: USER_ID,
  MaxAccessKeyAge: '90',
  ExemptionTag: '',
  DryRun: 'false',
  AutomationExecutionId: 'exec-1',
  ...overrides,
});

function build(lines: string[] = []) {
  return createHandler({
    iam: new IAMClient({ region: 'us-east-1' }),
    config: new ConfigServiceClient({ region: 'us-east-1' }),
    now: () => NOW,
    log: createLogger({ level: 'debug', sink: (l) => lines.push(l), clock: () => NOW }),
    sleep: async () => undefined,
    retry: { maxAttempts: 2 },
  });
}

function givenAliceWithStaleKey() {
  configMock.on(ListDiscoveredResourcesCommand).resolves({ resourceIdentifiers: [{ resourceType: 'AWS::IAM::User', resourceId: USER_ID, resourceName: 'alice' }] });
  iamMock.on(GetUserCommand, { UserName: 'alice' }).resolves({ User: USER });
  iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [{ UserName: 'alice', AccessKeyId: OLD, Status: 'Active', CreateDate: new Date(NOW.getTime() - 120 * DAY_MS) }] });
  iamMock.on(ListUserTagsCommand).resolves({ Tags: [] });
  iamMock.on(GetAccessKeyLastUsedCommand).resolves({ AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });
}

beforeEach(() => {
  iamMock.reset();
  configMock.reset();
});

describe('remediation handler', () => {
  it('runbook 1\'s payload deactivates the stale key and returns a Success report for the runbook', async () => {
    givenAliceWithStaleKey();
    const result = await build()(deactivatePayload(), fakeContext({ functionName: 'keyage-remediation' }));
    expect(iamMock).toHaveReceivedCommandWith(TagUserCommand, { UserName: 'alice', Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: NOW.toISOString() }] });
    expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, { UserName: 'alice', AccessKeyId: OLD, Status: 'Inactive' });
    expect(result).toMatchObject({ status: 'Success', operation: 'deactivate', dryRun: false, automationExecutionId: 'exec-1', actionsOmitted: 0 });
    expect(result.actions[0]).toMatchObject({ accessKeyId: OLD, action: 'deactivate', applied: true });
    expect(result.iamCalls).toBe(6);
  });

  it('DryRun "true" changes nothing', async () => {
    givenAliceWithStaleKey();
    const result = await build()(deactivatePayload({ DryRun: 'true' }));
    expect(iamMock).toHaveReceivedCommandTimes(TagUserCommand, 0);
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 0);
    expect(result.summary.text).toMatch(/^DRY RUN, nothing changed: /);
  });

  it('logs every action with user, key ID, age and reason, and no secret', async () => {
    givenAliceWithStaleKey();
    const lines: string[] = [];
    await build(lines)(deactivatePayload());
    const action = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'key deactivate applied');
    expect(action).toMatchObject({ userName: 'alice', userId: USER_ID, accessKeyId: OLD, ageDays: 120, action: 'deactivate', applied: true, automationExecutionId: 'exec-1' });
    expect(String(action?.reason)).toContain('120 days old; limit 90');
    expect(lines.join('\n')).not.toMatch(/SecretAccessKey|SessionToken/i);
  });

  it('a bad parameter fails the invocation with a named error before any AWS call', async () => {
    const lines: string[] = [];
    await expect(build(lines)(deactivatePayload({ MaxAccessKeyAge: '0' }))).rejects.toMatchObject({ name: 'InvalidParameterError', code: 'InvalidParameterValue' });
    expect(iamMock.calls()).toHaveLength(0);
    expect(configMock.calls()).toHaveLength(0);
    expect(lines.some((l) => l.includes('"errorType":"InvalidParameterValue"'))).toBe(true);
  });

  it('a user ID that matches no user fails with NoSuchUser, the runbook\'s clear failure', async () => {
    configMock.on(ListDiscoveredResourcesCommand).resolves({ resourceIdentifiers: [] });
    iamMock.on(ListUsersCommand).resolves({ Users: [], IsTruncated: false });
    await expect(build()(deactivatePayload())).rejects.toMatchObject({ name: 'NoSuchUserError', message: `IAM user ${USER_ID} does not exist in this account.` });
  });

  it('runbook 2\'s payload for every user returns Incomplete when the Lambda is about to time out', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({
      UserDetailList: [{ ...USER, Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: NOW.toISOString() }] }],
      IsTruncated: false,
    });
    const result = await build()(
      { Operation: 'delete', IAMUser: '*', GracePeriodDays: '14', ExemptionTag: '', DryRun: 'false', AutomationExecutionId: 'exec-2' },
      fakeContext({ remainingMs: 10_000 }),
    );
    expect(result).toMatchObject({ status: 'Incomplete', operation: 'delete', scope: 'all-users', complete: false });
    expect(iamMock).toHaveReceivedCommandTimes(DeleteAccessKeyCommand, 0);
  });

  it('stops within the runbook step\'s 300 s even when the Lambda itself may run longer', async () => {
    let wall = 0;
    const handler = createHandler({
      iam: new IAMClient({ region: 'us-east-1' }),
      config: new ConfigServiceClient({ region: 'us-east-1' }),
      now: () => NOW,
      sleep: async () => undefined,
      wallClock: () => wall,
    });
    iamMock.on(GetAccountAuthorizationDetailsCommand).callsFake(() => {
      wall += 280_000; // the listing took most of the step's budget
      return { UserDetailList: [{ ...USER, Tags: [{ Key: `keyage:deactivated:${OLD}`, Value: NOW.toISOString() }] }], IsTruncated: false };
    });
    const result = await handler({ Operation: 'delete', IAMUser: '*', DryRun: 'false' }, fakeContext({ remainingMs: 900_000, clock: () => wall }));
    expect(result.status).toBe('Incomplete');
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 0);
  });

  it(`returns at most ${MAX_ACTIONS_IN_RESULT} actions to the runbook and says how many it left out`, async () => {
    const users = Array.from({ length: 60 }, (_, i) => ({ ...USER, UserName: `u${i}`, UserId: `AIDAUSER${String(i).padStart(12, '0')}` }));
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({
      UserDetailList: users.map((u) => ({ ...u, Tags: [{ Key: 'keyage:deactivated:AKIAGONE1', Value: NOW.toISOString() }, { Key: 'keyage:deactivated:AKIAGONE2', Value: NOW.toISOString() }] })),
      IsTruncated: false,
    });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    iamMock.on(ListUserTagsCommand).resolves({ Tags: [{ Key: 'keyage:deactivated:AKIAGONE1', Value: NOW.toISOString() }, { Key: 'keyage:deactivated:AKIAGONE2', Value: NOW.toISOString() }] });
    const result = await build()({ Operation: 'delete', IAMUser: '*', GracePeriodDays: '14', DryRun: 'true' });
    expect(result.actions).toHaveLength(MAX_ACTIONS_IN_RESULT);
    expect(result.actionsOmitted).toBe(20);
    expect(result.summary.planned['clear-record']).toBe(120);
  });
});
