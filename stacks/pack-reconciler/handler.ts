/**
 * The pack reconciler's Lambda handler: a CloudFormation custom resource (stack create,
 * update and delete) and an hourly / recorder-started EventBridge target, in one function.
 *
 * Every run logs one CloudWatch embedded-metric line (namespace `keyage`, dimension
 * `Component=pack-reconciler`) with three 0/1 metrics the member stack's alarms watch:
 * RecorderNotRecording, IamUsersNotRecorded and PackNotDeployed.
 *
 * Configuration comes from the environment, which CloudFormation resolves:
 *   PACK_NAME, CONFIG_RULE_NAME, AUTOMATION_ROLE_ARN   the pack and its literal values
 *   PACK_INPUT_PARAMETERS                              JSON object: every other pack parameter
 *   PACK_TAGS                                          JSON object: tags of the pack
 */
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { AwsCaller } from '../../lib/aws-call';
import { createConfigClient } from '../../lib/clients';
import { messageOf } from '../../lib/errors';
import { createLogger, type Logger, parseLogLevel } from '../../lib/log';
import { type CloudFormationCustomResourceEvent, type CustomResourceAnswer, isCustomResourceEvent, sendCustomResourceAnswer } from './cfn-response';
import { deletePack, type PackDesiredState, PackRejectedError, reconcilePack, type ReconcileReport, type ReconcilerContext } from './reconcile';

/** Namespace, dimension and names of the metrics the reconciler publishes. */
export const RECONCILER_METRICS = {
  namespace: 'keyage',
  dimension: { Component: 'pack-reconciler' },
  recorderNotRecording: 'RecorderNotRecording',
  iamUsersNotRecorded: 'IamUsersNotRecorded',
  packNotDeployed: 'PackNotDeployed',
} as const;

/** The physical ID of the custom resource: one pack per account and Region, never replaced. */
export function physicalIdOf(packName: string): string {
  return `keyage-conformance-pack-${packName}`;
}

/** The Lambda context fields the handler reads. */
export interface ReconcilerLambdaContext {
  readonly invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

/** What the handler is built from; everything but the template has a production default. */
export interface ReconcilerHandlerOptions {
  /** `conformance-pack.yaml`, as bundled. */
  readonly template: string;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default a Config client for AWS_REGION */
  readonly config?: ConfigServiceClient;
  readonly caller?: AwsCaller;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where log lines go. @default standard output */
  readonly sink?: (line: string) => void;
  /** Answers CloudFormation. @default an https PUT to the ResponseURL */
  readonly answer?: (event: CloudFormationCustomResourceEvent, answer: CustomResourceAnswer) => Promise<void>;
}

/** What a scheduled run returns (and logs). */
export interface ScheduledResult {
  readonly action: ReconcileReport['action'];
  readonly packState: ReconcileReport['packState'];
  readonly problem?: string;
}

/** Build the handler. */
export function createReconcilerHandler(options: ReconcilerHandlerOptions): (event: unknown, context: ReconcilerLambdaContext) => Promise<ScheduledResult | undefined> {
  const env = options.env ?? process.env;
  const answer = options.answer ?? sendCustomResourceAnswer;
  return async (event, context) => {
    const log = createLogger({ level: parseLogLevel(env.LOG_LEVEL), ...(options.sink ? { sink: options.sink } : {}) });
    const setUp = (): { desired: PackDesiredState; ctx: ReconcilerContext } => {
      const desired = desiredStateFrom(env, options.template, context.invokedFunctionArn);
      const ctx: ReconcilerContext = {
        config: options.config ?? createConfigClient({ region: desired.region }),
        caller: options.caller ?? new AwsCaller({ onRetry: (info) => log.info('retrying AWS call', { ...info }) }),
        log,
        ...(options.sleep ? { sleep: options.sleep } : {}),
        remainingMs: () => context.getRemainingTimeInMillis(),
      };
      return { desired, ctx };
    };
    if (isCustomResourceEvent(event)) {
      // CloudFormation waits for an answer: every request gets one, whatever fails.
      let reply: CustomResourceAnswer;
      try {
        const { desired, ctx } = setUp();
        reply = await answerCloudFormation(ctx, desired, event);
      } catch (err) {
        log.error('the pack reconciler failed before it could act', { error: messageOf(err) });
        reply = { status: 'FAILED', physicalResourceId: event.PhysicalResourceId ?? physicalIdOf(env.PACK_NAME ?? 'keyage'), reason: `keyage pack reconciler: ${messageOf(err)}` };
      }
      await answer(event, reply);
      return undefined;
    }
    const { desired, ctx } = setUp();
    // Scheduled, or a recorder started: a failure fails the invocation (the Errors alarm).
    const report = await reconcilePack(ctx, desired, 'scheduled');
    publishCoverage(log, report);
    return { action: report.action, packState: report.packState, ...(report.problem ? { problem: report.problem } : {}) };
  };
}

async function answerCloudFormation(ctx: ReconcilerContext, desired: PackDesiredState, event: CloudFormationCustomResourceEvent): Promise<CustomResourceAnswer> {
  const physicalResourceId = event.PhysicalResourceId ?? physicalIdOf(desired.packName);
  ctx.log.info('CloudFormation request', { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId });
  if (event.RequestType === 'Delete') {
    try {
      await deletePack(ctx, desired.packName);
      return { status: 'SUCCESS', physicalResourceId };
    } catch (err) {
      ctx.log.error('could not delete the conformance pack', { error: messageOf(err) });
      return { status: 'FAILED', physicalResourceId, reason: `keyage could not delete conformance pack ${desired.packName}: ${messageOf(err)}` };
    }
  }
  try {
    const report = await reconcilePack(ctx, desired, 'deploy');
    publishCoverage(ctx.log, report);
    return { status: 'SUCCESS', physicalResourceId, data: { Coverage: report.action, Problem: (report.problem ?? 'none').slice(0, 1000) } };
  } catch (err) {
    if (err instanceof PackRejectedError) {
      // A template or parameter defect: retrying will not help, and the stack should say so.
      ctx.log.error('AWS Config refused the conformance pack', { error: err.message });
      return { status: 'FAILED', physicalResourceId, reason: err.message };
    }
    // Access denied, a pack stuck in progress, Config unavailable: the rest of the stack is
    // still useful, so it stays; the alarm reports the account and the hourly run retries.
    const problem = `keyage could not deploy conformance pack ${desired.packName} in account ${desired.accountId}, Region ${desired.region}: ${messageOf(err)}. The hourly reconcile retries it`;
    ctx.log.error('conformance pack not deployed; deferred to the hourly reconcile', { problem });
    publishMetrics(ctx.log, { recorderNotRecording: 0, iamUsersNotRecorded: 0, packNotDeployed: 1 });
    return { status: 'SUCCESS', physicalResourceId, data: { Coverage: 'DEFERRED', Problem: problem.slice(0, 1000) } };
  }
}

/** Log the coverage of this account as embedded metrics. */
function publishCoverage(log: Logger, report: ReconcileReport): void {
  publishMetrics(log, {
    recorderNotRecording: report.recording.recording ? 0 : 1,
    iamUsersNotRecorded: report.recording.recording && !report.recording.iamUsersRecorded ? 1 : 0,
    packNotDeployed: report.packFailure ? 1 : 0,
  });
  log.info('coverage', { action: report.action, packState: report.packState, ...(report.problem ? { problem: report.problem } : {}) });
}

function publishMetrics(log: Logger, values: { recorderNotRecording: number; iamUsersNotRecorded: number; packNotDeployed: number }): void {
  const m = RECONCILER_METRICS;
  log.info('coverage metrics', {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: m.namespace,
          Dimensions: [Object.keys(m.dimension)],
          Metrics: [m.recorderNotRecording, m.iamUsersNotRecorded, m.packNotDeployed].map((Name) => ({ Name, Unit: 'Count' })),
        },
      ],
    },
    ...m.dimension,
    [m.recorderNotRecording]: values.recorderNotRecording,
    [m.iamUsersNotRecorded]: values.iamUsersNotRecorded,
    [m.packNotDeployed]: values.packNotDeployed,
  });
}

/** Read the desired state from the environment; the account and Region from the function's ARN. */
export function desiredStateFrom(env: Readonly<Record<string, string | undefined>>, template: string, functionArn: string): PackDesiredState {
  const [, , , region, accountId] = functionArn.split(':');
  if (!region || !accountId) throw new Error(`keyage: cannot read the account and Region from the function ARN ${functionArn}`);
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`keyage: the pack reconciler needs the environment variable ${name}`);
    return value;
  };
  const json = (name: string): Record<string, string> => {
    const raw = env[name];
    if (!raw) return {};
    const value = JSON.parse(raw) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
      throw new Error(`keyage: ${name} must be a JSON object of strings`);
    }
    return value as Record<string, string>;
  };
  return {
    packName: required('PACK_NAME'),
    template,
    literals: { ConfigRuleName: required('CONFIG_RULE_NAME'), AutomationAssumeRole: required('AUTOMATION_ROLE_ARN') },
    inputParameters: json('PACK_INPUT_PARAMETERS'),
    tags: json('PACK_TAGS'),
    accountId,
    region,
  };
}
