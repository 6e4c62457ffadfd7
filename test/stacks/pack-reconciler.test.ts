/**
 * The pack reconciler: what it sends AWS Config in each state of the recorder and the pack,
 * what it answers CloudFormation, and the coverage metrics the alarms watch. The SDK is mocked
 * (moto has no conformance packs); every command and its input is asserted. Recorder reading
 * against moto is in pack-reconciler.moto.test.ts.
 */
import { readFileSync } from 'node:fs';
import {
  ConfigServiceClient,
  ConformancePackTemplateValidationException,
  DeleteConformancePackCommand,
  DescribeConfigurationRecordersCommand,
  DescribeConfigurationRecorderStatusCommand,
  DescribeConformancePacksCommand,
  DescribeConformancePackStatusCommand,
  NoSuchConformancePackException,
  PutConformancePackCommand,
  ResourceInUseException,
} from '@aws-sdk/client-config-service';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AwsCaller } from '../../lib/aws-call';
import { createLogger } from '../../lib/log';
import { parseCfnYaml } from '../../stacks/cfn-yaml';
import type { CloudFormationCustomResourceEvent, CustomResourceAnswer } from '../../stacks/pack-reconciler/cfn-response';
import { createReconcilerHandler, desiredStateFrom, RECONCILER_METRICS } from '../../stacks/pack-reconciler/handler';
import {
  deletePack,
  PACK_POLL_INTERVAL_MS,
  PackBusyError,
  type PackDesiredState,
  PackRejectedError,
  reconcilePack,
  type ReconcilerContext,
  renderedBody,
} from '../../stacks/pack-reconciler/reconcile';
import { literalPlaceViolations } from '../../stacks/pack-render';
import { CONFORMANCE_PACK_FILE } from '../../stacks/project';

const configMock = mockClient(ConfigServiceClient);
const TEMPLATE = readFileSync(CONFORMANCE_PACK_FILE, 'utf8');
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/keyage-automation-${REGION}`;
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:keyage-pack-reconciler`;
const INPUTS = { RuleFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:keyage-access-key-age`, MaxAccessKeyAge: '90', AutomaticRemediation: 'false' };
const DESIRED: PackDesiredState = {
  packName: 'keyage',
  template: TEMPLATE,
  literals: { ConfigRuleName: 'keyage-access-key-age', AutomationAssumeRole: ROLE },
  inputParameters: INPUTS,
  tags: { 'keyage:version': '0.1.0' },
  accountId: ACCOUNT,
  region: REGION,
};
const ENV = {
  PACK_NAME: 'keyage',
  CONFIG_RULE_NAME: 'keyage-access-key-age',
  AUTOMATION_ROLE_ARN: ROLE,
  PACK_INPUT_PARAMETERS: JSON.stringify(INPUTS),
  PACK_TAGS: JSON.stringify({ 'keyage:version': '0.1.0' }),
};

const sdkError = <T>(Type: new (opts: { message: string; $metadata: object }) => T, message: string): T => new Type({ message, $metadata: {} });
const accessDenied = () => Object.assign(new Error('User is not authorized to perform config:PutConformancePack'), { name: 'AccessDeniedException' });

interface Recorded {
  readonly lines: Record<string, unknown>[];
  readonly sleeps: number[];
}

function context(options: { remainingMs?: () => number } = {}): { ctx: ReconcilerContext; recorded: Recorded } {
  const recorded: Recorded = { lines: [], sleeps: [] };
  const ctx: ReconcilerContext = {
    config: new ConfigServiceClient({ region: REGION }),
    caller: new AwsCaller({ retry: { maxAttempts: 1 } }),
    log: createLogger({ level: 'debug', sink: (line) => recorded.lines.push(JSON.parse(line) as Record<string, unknown>) }),
    sleep: async (ms) => {
      recorded.sleeps.push(ms);
    },
    ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
  };
  return { ctx, recorded };
}

/** Config records (every type, global ones included) unless told otherwise. */
function recorder(state: { recording: boolean; iam?: boolean } = { recording: true }): void {
  configMock.on(DescribeConfigurationRecorderStatusCommand).resolves({ ConfigurationRecordersStatus: [{ name: 'default', recording: state.recording, lastStatus: 'Success' }] });
  configMock
    .on(DescribeConfigurationRecordersCommand)
    .resolves({ ConfigurationRecorders: [{ name: 'default', roleARN: 'arn:aws:iam::111122223333:role/config', recordingGroup: { allSupported: true, includeGlobalResourceTypes: state.iam ?? true } }] });
}

function packState(...states: Array<string | 'ABSENT'>): void {
  const mock = configMock.on(DescribeConformancePackStatusCommand, { ConformancePackNames: ['keyage'] });
  let chain = mock;
  for (const state of states) {
    chain =
      state === 'ABSENT'
        ? chain.rejectsOnce(sdkError(NoSuchConformancePackException, 'no pack keyage'))
        : chain.resolvesOnce({
            ConformancePackStatusDetails: [
              {
                ConformancePackName: 'keyage',
                ConformancePackId: 'conformance-pack-abc',
                ConformancePackArn: `arn:aws:config:${REGION}:${ACCOUNT}:conformance-pack/keyage/conformance-pack-abc`,
                ConformancePackState: state as never,
                StackArn: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/awsconfigconforms-keyage/1',
                LastUpdateRequestedTime: new Date('2026-11-25T12:00:00Z'),
                ...(state === 'CREATE_FAILED' ? { ConformancePackStatusReason: 'Rule function cannot be invoked' } : {}),
              },
            ],
          });
  }
}

function deployedWith(parameters: Record<string, string>): void {
  configMock.on(DescribeConformancePacksCommand, { ConformancePackNames: ['keyage'] }).resolves({
    ConformancePackDetails: [
      {
        ConformancePackName: 'keyage',
        ConformancePackArn: `arn:aws:config:${REGION}:${ACCOUNT}:conformance-pack/keyage/conformance-pack-abc`,
        ConformancePackId: 'conformance-pack-abc',
        ConformancePackInputParameters: Object.entries(parameters).map(([ParameterName, ParameterValue]) => ({ ParameterName, ParameterValue })),
      },
    ],
  });
}

/** The exact PutConformancePack input the reconciler must send for DESIRED. */
function expectedPut() {
  return {
    ConformancePackName: 'keyage',
    TemplateBody: renderedBody(DESIRED),
    ConformancePackInputParameters: Object.entries(INPUTS).map(([ParameterName, ParameterValue]) => ({ ParameterName, ParameterValue })),
    Tags: [{ Key: 'keyage:version', Value: '0.1.0' }],
  };
}

beforeEach(() => {
  configMock.reset();
});

describe('the pack reconciler', () => {
  describe('the body it sends', () => {
    it('is conformance-pack.yaml with the literal rule name and role ARN, and no intrinsic function where Config forbids one', () => {
      const body = renderedBody(DESIRED);
      expect(literalPlaceViolations(body)).toEqual([]);
      const resources = Object.values(parseCfnYaml(body).Resources);
      const remediation = resources.find((r) => r.Type === 'AWS::Config::RemediationConfiguration');
      expect((remediation?.Properties?.Parameters as Record<string, unknown>).AutomationAssumeRole).toEqual({ StaticValue: { Values: [ROLE] } });
      expect(resources.map((r) => r.Properties?.ConfigRuleName)).toEqual(['keyage-access-key-age', 'keyage-access-key-age']);
      expect(body.startsWith(`# keyage conformance pack for account ${ACCOUNT}, Region ${REGION}.`)).toBe(true);
    });
  });

  describe('when AWS Config does not record', () => {
    it('creates nothing, and says which account and Region and what to enable', async () => {
      recorder({ recording: false });
      const { ctx } = context();
      const report = await reconcilePack(ctx, DESIRED, 'scheduled');
      expect(report).toMatchObject({ action: 'WAITING_FOR_RECORDER', packState: 'ABSENT', recording: { recording: false } });
      expect(report.problem).toMatch(/AWS Config is not recording in account 111122223333, Region eu-west-1.*Create and start a configuration recorder .*AWS::IAM::User/);
      expect(configMock).not.toHaveReceivedCommand(PutConformancePackCommand);
      expect(configMock).not.toHaveReceivedCommand(DescribeConformancePackStatusCommand);
    });

    it('does the same at a stack deployment: the stack is not failed for it', async () => {
      recorder({ recording: false });
      const report = await reconcilePack(context().ctx, DESIRED, 'deploy');
      expect(report.action).toBe('WAITING_FOR_RECORDER');
      expect(configMock).not.toHaveReceivedCommand(PutConformancePackCommand);
    });
  });

  describe('on its scheduled run, once Config records', () => {
    it('creates an absent pack with the rendered body, the input parameters and the tags', async () => {
      recorder();
      packState('ABSENT');
      configMock.on(PutConformancePackCommand).resolves({ ConformancePackArn: 'arn:aws:config:eu-west-1:111122223333:conformance-pack/keyage/x' });
      const report = await reconcilePack(context().ctx, DESIRED, 'scheduled');
      expect(report).toEqual({ recording: { recording: true, iamUsersRecorded: true, recorderName: 'default' }, packState: 'ABSENT', action: 'PUT' });
      expect(configMock).toHaveReceivedCommandTimes(PutConformancePackCommand, 1);
      expect(configMock).toHaveReceivedCommandWith(PutConformancePackCommand, expectedPut());
    });

    it('leaves a deployed pack with the deployed parameters alone', async () => {
      recorder();
      packState('CREATE_COMPLETE');
      deployedWith(INPUTS);
      const report = await reconcilePack(context().ctx, DESIRED, 'scheduled');
      expect(report.action).toBe('NONE');
      expect(report.problem).toBeUndefined();
      expect(configMock).not.toHaveReceivedCommand(PutConformancePackCommand);
    });

    it('puts a deployed pack again when its parameters differ from the deployed settings', async () => {
      recorder();
      packState('CREATE_COMPLETE');
      deployedWith({ ...INPUTS, MaxAccessKeyAge: '120' });
      configMock.on(PutConformancePackCommand).resolves({});
      expect((await reconcilePack(context().ctx, DESIRED, 'scheduled')).action).toBe('PUT');
      expect(configMock).toHaveReceivedCommandWith(PutConformancePackCommand, expectedPut());
    });

    it('puts a failed pack again, and reports the failure with Config\'s reason', async () => {
      recorder();
      packState('CREATE_FAILED');
      configMock.on(PutConformancePackCommand).resolves({});
      const report = await reconcilePack(context().ctx, DESIRED, 'scheduled');
      expect(report.action).toBe('PUT');
      expect(report.packFailure).toBe('conformance pack keyage is CREATE_FAILED in account 111122223333, Region eu-west-1: Rule function cannot be invoked');
      expect(configMock).toHaveReceivedCommandTimes(PutConformancePackCommand, 1);
    });

    it('waits while Config is deploying the pack, and while another run has just started a deployment', async () => {
      recorder();
      packState('CREATE_IN_PROGRESS');
      expect((await reconcilePack(context().ctx, DESIRED, 'scheduled')).action).toBe('WAITING_FOR_PACK');
      expect(configMock).not.toHaveReceivedCommand(PutConformancePackCommand);
      configMock.reset();
      recorder();
      packState('ABSENT');
      configMock.on(PutConformancePackCommand).rejects(sdkError(ResourceInUseException, 'The conformance pack is being created'));
      expect((await reconcilePack(context().ctx, DESIRED, 'scheduled')).action).toBe('WAITING_FOR_PACK');
    });

    it('creates the pack when Config records but not IAM users, and says the change triggers are missing', async () => {
      recorder({ recording: true, iam: false });
      packState('ABSENT');
      configMock.on(PutConformancePackCommand).resolves({});
      const report = await reconcilePack(context().ctx, DESIRED, 'scheduled');
      expect(report.action).toBe('PUT');
      expect(report.recording.iamUsersRecorded).toBe(false);
      expect(report.problem).toMatch(/does not record AWS::IAM::User .*periodic sweep only.*Add AWS::IAM::User to the recording group/);
    });
  });

  describe('at a stack deployment', () => {
    it('waits for a deployment in progress, then puts the pack', async () => {
      recorder();
      packState('CREATE_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'CREATE_COMPLETE');
      configMock.on(PutConformancePackCommand).resolves({});
      const { ctx, recorded } = context({ remainingMs: () => 300_000 });
      const report = await reconcilePack(ctx, DESIRED, 'deploy');
      expect(report.action).toBe('PUT');
      expect(recorded.sleeps).toEqual([PACK_POLL_INTERVAL_MS, PACK_POLL_INTERVAL_MS]);
      expect(configMock).toHaveReceivedCommandTimes(DescribeConformancePackStatusCommand, 3);
      expect(configMock).toHaveReceivedCommandWith(PutConformancePackCommand, expectedPut());
    });

    it('gives up with PackBusyError when the deployment in progress outlasts the invocation', async () => {
      recorder();
      packState('CREATE_IN_PROGRESS');
      await expect(reconcilePack(context({ remainingMs: () => 40_000 }).ctx, DESIRED, 'deploy')).rejects.toThrow(PackBusyError);
      expect(configMock).not.toHaveReceivedCommand(PutConformancePackCommand);
    });

    it('turns a template Config refuses into PackRejectedError, with Config\'s message', async () => {
      recorder();
      packState('ABSENT');
      configMock.on(PutConformancePackCommand).rejects(sdkError(ConformancePackTemplateValidationException, 'Template format error: unsupported property'));
      await expect(reconcilePack(context().ctx, DESIRED, 'deploy')).rejects.toThrow(new PackRejectedError('Template format error: unsupported property', { cause: undefined }).message);
    });
  });

  describe('deleting the pack', () => {
    it('deletes an existing pack, and does nothing for an absent one', async () => {
      packState('CREATE_COMPLETE');
      configMock.on(DeleteConformancePackCommand).resolves({});
      await deletePack(context().ctx, 'keyage');
      expect(configMock).toHaveReceivedCommandWith(DeleteConformancePackCommand, { ConformancePackName: 'keyage' });
      configMock.reset();
      packState('ABSENT');
      await deletePack(context().ctx, 'keyage');
      expect(configMock).not.toHaveReceivedCommand(DeleteConformancePackCommand);
    });
  });
});

describe('the pack reconciler handler', () => {
  const cfnEvent = (RequestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent => ({
    RequestType,
    ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x',
    StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/keyage/1`,
    RequestId: 'request-1',
    LogicalResourceId: 'KeyageConformancePack',
    ResourceType: 'Custom::KeyageConformancePack',
    ...(RequestType === 'Create' ? {} : { PhysicalResourceId: 'keyage-conformance-pack-keyage' }),
    ResourceProperties: {},
  });
  const lambdaContext = { invokedFunctionArn: FUNCTION_ARN, getRemainingTimeInMillis: () => 600_000 };

  function handler(env: Record<string, string> = ENV) {
    const answers: Array<{ event: CloudFormationCustomResourceEvent; answer: CustomResourceAnswer }> = [];
    const lines: Record<string, unknown>[] = [];
    const run = createReconcilerHandler({
      template: TEMPLATE,
      env,
      config: new ConfigServiceClient({ region: REGION }),
      caller: new AwsCaller({ retry: { maxAttempts: 1 } }),
      sleep: async () => undefined,
      sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
      answer: async (event, answer) => {
        answers.push({ event, answer });
      },
    });
    const metrics = () => lines.filter((l) => '_aws' in l);
    return { run, answers, metrics };
  }

  it('answers a stack creation in an account that does not record with SUCCESS, and reports it on the RecorderNotRecording metric', async () => {
    recorder({ recording: false });
    const h = handler();
    await h.run(cfnEvent('Create'), lambdaContext);
    expect(h.answers).toEqual([
      {
        event: expect.objectContaining({ RequestId: 'request-1' }),
        answer: {
          status: 'SUCCESS',
          physicalResourceId: 'keyage-conformance-pack-keyage',
          data: { Coverage: 'WAITING_FOR_RECORDER', Problem: expect.stringMatching(/^AWS Config is not recording in account 111122223333, Region eu-west-1/) },
        },
      },
    ]);
    expect(h.metrics()).toEqual([
      expect.objectContaining({
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            {
              Namespace: 'keyage',
              Dimensions: [['Component']],
              Metrics: [
                { Name: 'RecorderNotRecording', Unit: 'Count' },
                { Name: 'IamUsersNotRecorded', Unit: 'Count' },
                { Name: 'PackNotDeployed', Unit: 'Count' },
              ],
            },
          ],
        }),
        Component: 'pack-reconciler',
        RecorderNotRecording: 1,
        IamUsersNotRecorded: 0,
        PackNotDeployed: 0,
      }),
    ]);
  });

  it('creates the pack at a stack creation when Config records, and answers SUCCESS with the coverage', async () => {
    recorder();
    packState('ABSENT');
    configMock.on(PutConformancePackCommand).resolves({});
    const h = handler();
    await h.run(cfnEvent('Create'), lambdaContext);
    expect(configMock).toHaveReceivedCommandWith(PutConformancePackCommand, expectedPut());
    expect(h.answers[0]?.answer).toEqual({ status: 'SUCCESS', physicalResourceId: 'keyage-conformance-pack-keyage', data: { Coverage: 'PUT', Problem: 'none' } });
    expect(h.metrics()[0]).toMatchObject({ [RECONCILER_METRICS.recorderNotRecording]: 0, [RECONCILER_METRICS.packNotDeployed]: 0 });
  });

  it('keeps the stack when the pack cannot be put (access denied): SUCCESS, DEFERRED, and PackNotDeployed 1', async () => {
    recorder();
    packState('ABSENT');
    configMock.on(PutConformancePackCommand).rejects(accessDenied());
    const h = handler();
    await h.run(cfnEvent('Update'), lambdaContext);
    expect(h.answers[0]?.answer).toEqual({
      status: 'SUCCESS',
      physicalResourceId: 'keyage-conformance-pack-keyage',
      data: { Coverage: 'DEFERRED', Problem: expect.stringMatching(/could not deploy conformance pack keyage in account 111122223333, Region eu-west-1: Access denied for config:PutConformancePack/) },
    });
    expect(h.metrics()).toEqual([expect.objectContaining({ PackNotDeployed: 1 })]);
  });

  it('fails the stack when Config refuses the template itself, with Config\'s reason', async () => {
    recorder();
    packState('ABSENT');
    configMock.on(PutConformancePackCommand).rejects(sdkError(ConformancePackTemplateValidationException, 'Template format error'));
    const h = handler();
    await h.run(cfnEvent('Create'), lambdaContext);
    expect(h.answers[0]?.answer).toEqual({ status: 'FAILED', physicalResourceId: 'keyage-conformance-pack-keyage', reason: "AWS Config refused keyage's conformance pack: Template format error" });
  });

  it('deletes the pack at a stack deletion, keeping the physical ID', async () => {
    packState('CREATE_COMPLETE');
    configMock.on(DeleteConformancePackCommand).resolves({});
    const h = handler();
    await h.run(cfnEvent('Delete'), lambdaContext);
    expect(configMock).toHaveReceivedCommandWith(DeleteConformancePackCommand, { ConformancePackName: 'keyage' });
    expect(h.answers[0]?.answer).toEqual({ status: 'SUCCESS', physicalResourceId: 'keyage-conformance-pack-keyage' });
  });

  it('answers FAILED, never nothing, when its own configuration is broken', async () => {
    const h = handler({ ...ENV, AUTOMATION_ROLE_ARN: '' });
    await h.run(cfnEvent('Create'), lambdaContext);
    expect(h.answers[0]?.answer).toEqual({
      status: 'FAILED',
      physicalResourceId: 'keyage-conformance-pack-keyage',
      reason: 'keyage pack reconciler: keyage: the pack reconciler needs the environment variable AUTOMATION_ROLE_ARN',
    });
    expect(configMock).not.toHaveReceivedAnyCommand();
  });

  it('fails a scheduled run whose AWS calls fail (the errors alarm sees it), and publishes no coverage then', async () => {
    configMock.on(DescribeConfigurationRecorderStatusCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    configMock.on(DescribeConfigurationRecordersCommand).resolves({ ConfigurationRecorders: [] });
    const h = handler();
    await expect(h.run({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, lambdaContext)).rejects.toThrow(/Access denied for config:DescribeConfigurationRecorderStatus/);
    expect(h.metrics()).toEqual([]);
    expect(h.answers).toEqual([]);
  });

  it('returns what a scheduled run did', async () => {
    recorder();
    packState('CREATE_COMPLETE');
    deployedWith(INPUTS);
    const h = handler();
    expect(await h.run({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, lambdaContext)).toEqual({ action: 'NONE', packState: 'CREATE_COMPLETE' });
  });

  it('reads its account and Region from its own ARN, and the parameters from the environment', () => {
    expect(desiredStateFrom(ENV, TEMPLATE, FUNCTION_ARN)).toEqual(DESIRED);
    expect(() => desiredStateFrom({ ...ENV, PACK_INPUT_PARAMETERS: '{"MaxAccessKeyAge":90}' }, TEMPLATE, FUNCTION_ARN)).toThrow(/PACK_INPUT_PARAMETERS must be a JSON object of strings/);
  });
});
