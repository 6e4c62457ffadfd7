/**
 * The pack reconciler: creates keyage's conformance pack in this account and Region once AWS
 * Config records, keeps it at the deployed settings, and says clearly when it cannot.
 *
 * Why this exists: a conformance pack can only be created while a configuration recorder is
 * recording (AWS Config, "Prerequisites for conformance packs"). New accounts often receive
 * their StackSet instance before their Config baseline (Control Tower, an organization-wide
 * Config stack); as a CloudFormation resource the pack would then fail the whole member stack,
 * rule and remediation functions included. So the member stack deploys everything else, and
 * this function creates the pack — at deployment when Config already records, otherwise on
 * its hourly run (or as soon as the recorder is started, when CloudTrail delivers that call to
 * EventBridge). An account that does not record is reported by a CloudWatch alarm, never by a
 * failed stack.
 *
 * The body Config receives is `conformance-pack.yaml` rendered with the literal rule name and
 * Automation role ARN (see `../pack-render.ts`); the other settings are input parameters.
 */
import {
  type ConfigServiceClient,
  DeleteConformancePackCommand,
  DescribeConfigurationRecordersCommand,
  DescribeConfigurationRecorderStatusCommand,
  DescribeConformancePacksCommand,
  DescribeConformancePackStatusCommand,
  PutConformancePackCommand,
  type ConformancePackState,
  type RecordingGroup,
} from '@aws-sdk/client-config-service';
import { type AwsCaller, awsErrorCode } from '../../lib/aws-call';
import { KeyageError, messageOf } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import { type PackLiterals, renderConformancePack } from '../pack-render';

/** The resource type keyage's rule evaluates: the recorder should record it. */
export const IAM_USER_RESOURCE_TYPE = 'AWS::IAM::User';

/** What the reconciler deploys. */
export interface PackDesiredState {
  /** The conformance pack's name. */
  readonly packName: string;
  /** `conformance-pack.yaml` as it is in the repository. */
  readonly template: string;
  /** The values Config needs literally in the body (rule name, Automation role ARN). */
  readonly literals: PackLiterals;
  /** Every other pack parameter, as ConformancePackInputParameters. */
  readonly inputParameters: Readonly<Record<string, string>>;
  /** Tags given to the pack when it is created. */
  readonly tags: Readonly<Record<string, string>>;
  /** This account and Region, for messages. */
  readonly accountId: string;
  readonly region: string;
}

/** What the reconciler needs to talk to AWS. */
export interface ReconcilerContext {
  readonly config: ConfigServiceClient;
  readonly caller: AwsCaller;
  readonly log: Logger;
  /** @default real setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds left before the invocation must answer. @default unlimited */
  readonly remainingMs?: () => number;
}

/** The state of AWS Config recording in this account and Region. */
export interface RecordingState {
  /** A customer-managed configuration recorder is recording. */
  readonly recording: boolean;
  /** ...and its recording group includes AWS::IAM::User. */
  readonly iamUsersRecorded: boolean;
  /** The recorder's name, when there is one. */
  readonly recorderName?: string;
}

/** What a reconcile found and did. */
export interface ReconcileReport {
  readonly recording: RecordingState;
  /** The pack's deployment state when it was read; ABSENT when there is no pack. */
  readonly packState: ConformancePackState | 'ABSENT';
  /** PUT: the pack was created or updated; NONE: it is as deployed; WAITING_*: nothing could be done yet. */
  readonly action: 'PUT' | 'NONE' | 'WAITING_FOR_RECORDER' | 'WAITING_FOR_PACK';
  /** Why this account is not (or not fully) covered, in words a person can act on. Absent when covered. */
  readonly problem?: string;
  /** The pack exists but failed to deploy (its status reason, as Config gives it). */
  readonly packFailure?: string;
}

/** The states in which Config is still working on the pack. */
const IN_PROGRESS: ReadonlySet<string> = new Set(['CREATE_IN_PROGRESS', 'DELETE_IN_PROGRESS']);
/** The states in which the pack did not deploy. */
export const FAILED_PACK_STATES: ReadonlySet<string> = new Set(['CREATE_FAILED', 'DELETE_FAILED']);

/** PutConformancePack refused the template or its parameters: a defect, not a state to wait out. */
export class PackRejectedError extends KeyageError {
  constructor(
    public readonly reason: string,
    options: { cause: unknown },
  ) {
    super('PackRejected', `AWS Config refused keyage's conformance pack: ${reason}`, options);
  }
}

/** The pack stayed in progress for as long as the invocation could wait. */
export class PackBusyError extends KeyageError {
  constructor(packName: string, state: string) {
    super('PackBusy', `The conformance pack ${packName} is still ${state}; it could not be changed before the deadline. Try again in a few minutes.`);
  }
}

/**
 * Whether Config records in this account and Region, and whether it records IAM users.
 * Service-linked recorders (recorders other services create for themselves) do not count: a
 * conformance pack needs the customer-managed recorder.
 */
export async function readRecordingState(ctx: ReconcilerContext): Promise<RecordingState> {
  const [statuses, recorders] = await Promise.all([
    ctx.caller.call('config:DescribeConfigurationRecorderStatus', () => ctx.config.send(new DescribeConfigurationRecorderStatusCommand({}))),
    ctx.caller.call('config:DescribeConfigurationRecorders', () => ctx.config.send(new DescribeConfigurationRecordersCommand({}))),
  ]);
  const recording = (statuses.ConfigurationRecordersStatus ?? []).filter((s) => !s.servicePrincipal && s.recording === true);
  const first = recording[0];
  if (!first) return { recording: false, iamUsersRecorded: false };
  const recorder = (recorders.ConfigurationRecorders ?? []).find((r) => r.name === first.name);
  return { recording: true, iamUsersRecorded: recordsIamUsers(recorder?.recordingGroup), ...(first.name ? { recorderName: first.name } : {}) };
}

/**
 * Whether a recording group includes AWS::IAM::User. With "all supported types", IAM (global)
 * types are recorded only with includeGlobalResourceTypes; with an inclusion list, when it is
 * listed; with an exclusion list, unless it is excluded.
 */
export function recordsIamUsers(group: RecordingGroup | undefined): boolean {
  if (!group) return false;
  const strategy = group.recordingStrategy?.useOnly ?? (group.allSupported ? 'ALL_SUPPORTED_RESOURCE_TYPES' : 'INCLUSION_BY_RESOURCE_TYPES');
  switch (strategy) {
    case 'ALL_SUPPORTED_RESOURCE_TYPES':
      return group.includeGlobalResourceTypes === true;
    case 'EXCLUSION_BY_RESOURCE_TYPES':
      return !(group.exclusionByResourceTypes?.resourceTypes ?? []).includes(IAM_USER_RESOURCE_TYPE);
    default:
      return (group.resourceTypes ?? []).includes(IAM_USER_RESOURCE_TYPE);
  }
}

/** The pack's deployment state, ABSENT when it does not exist. */
export async function readPackStatus(ctx: ReconcilerContext, packName: string): Promise<{ state: ConformancePackState | 'ABSENT'; reason?: string }> {
  try {
    const out = await ctx.caller.call('config:DescribeConformancePackStatus', () =>
      ctx.config.send(new DescribeConformancePackStatusCommand({ ConformancePackNames: [packName] })),
    );
    const detail = (out.ConformancePackStatusDetails ?? []).find((d) => d.ConformancePackName === packName);
    if (!detail?.ConformancePackState) return { state: 'ABSENT' };
    return { state: detail.ConformancePackState, ...(detail.ConformancePackStatusReason ? { reason: detail.ConformancePackStatusReason } : {}) };
  } catch (err) {
    if (codeOf(err) === 'NoSuchConformancePackException') return { state: 'ABSENT' };
    throw err;
  }
}

/**
 * Bring the pack to the desired state.
 *
 * - `deploy` (a stack create or update): when Config records, wait for any deployment in
 *   progress to end, then put the pack (an update always re-applies body and parameters).
 * - `scheduled` (the hourly run, or a recorder start): put the pack when it is absent, failed,
 *   or deployed with other parameters; leave it alone while Config works on it.
 *
 * Never throws because Config does not record: that is reported in the result.
 */
export async function reconcilePack(ctx: ReconcilerContext, desired: PackDesiredState, mode: 'deploy' | 'scheduled'): Promise<ReconcileReport> {
  const recording = await readRecordingState(ctx);
  const where = `account ${desired.accountId}, Region ${desired.region}`;
  const iamProblem = recording.iamUsersRecorded
    ? undefined
    : `AWS Config in ${where} does not record ${IAM_USER_RESOURCE_TYPE} (recorder ${recording.recorderName ?? '?'}): keyage evaluates users on its periodic sweep only, not on each change. Add ${IAM_USER_RESOURCE_TYPE} to the recording group, in this one Region`;
  if (!recording.recording) {
    const problem = `AWS Config is not recording in ${where}, so keyage's conformance pack cannot be created there yet. Create and start a configuration recorder (with a delivery channel) that records ${IAM_USER_RESOURCE_TYPE}; keyage creates the pack within the hour after recording starts`;
    ctx.log.warn('waiting for AWS Config to record', { account: desired.accountId, region: desired.region, problem });
    return { recording, packState: 'ABSENT', action: 'WAITING_FOR_RECORDER', problem };
  }
  let status = await readPackStatus(ctx, desired.packName);
  if (mode === 'deploy') {
    status = await waitWhileInProgress(ctx, desired.packName, status);
    await putPack(ctx, desired);
    return { recording, packState: status.state, action: 'PUT', ...(iamProblem ? { problem: iamProblem } : {}) };
  }
  if (IN_PROGRESS.has(status.state)) {
    return { recording, packState: status.state, action: 'WAITING_FOR_PACK', ...(iamProblem ? { problem: iamProblem } : {}) };
  }
  const failed = FAILED_PACK_STATES.has(status.state);
  const failure = failed ? `conformance pack ${desired.packName} is ${status.state} in ${where}: ${status.reason ?? 'Config gave no reason'}` : undefined;
  if (failure) ctx.log.error('the conformance pack failed to deploy; putting it again', { failure });
  const needsPut = status.state === 'ABSENT' || failed || !(await parametersMatch(ctx, desired));
  if (needsPut) {
    try {
      await putPack(ctx, desired);
    } catch (err) {
      // Another run (a stack update) started a deployment meanwhile: the next run looks again.
      if (codeOf(err) !== 'ResourceInUseException') throw err;
      return { recording, packState: status.state, action: 'WAITING_FOR_PACK', ...(iamProblem ? { problem: iamProblem } : {}) };
    }
  }
  const problem = failure ?? iamProblem;
  return {
    recording,
    packState: status.state,
    action: needsPut ? 'PUT' : 'NONE',
    ...(problem ? { problem } : {}),
    ...(failure ? { packFailure: failure } : {}),
  };
}

/** Delete the pack (for a stack delete). Absent already is done; in progress is waited out. */
export async function deletePack(ctx: ReconcilerContext, packName: string): Promise<void> {
  let status = await readPackStatus(ctx, packName);
  if (status.state === 'ABSENT') return;
  status = await waitWhileInProgress(ctx, packName, status);
  if (status.state === 'ABSENT') return;
  try {
    await ctx.caller.call('config:DeleteConformancePack', () => ctx.config.send(new DeleteConformancePackCommand({ ConformancePackName: packName })));
  } catch (err) {
    if (codeOf(err) === 'NoSuchConformancePackException') return;
    throw err;
  }
  ctx.log.info('conformance pack deleted', { packName });
}

/** The body Config receives: the template with the literal values, checked. */
export function renderedBody(desired: PackDesiredState): string {
  return renderConformancePack(desired.template, desired.literals, {
    header: [
      `keyage conformance pack for account ${desired.accountId}, Region ${desired.region}.`,
      'Rendered from conformance-pack.yaml by the keyage pack reconciler: ConfigRuleName and the',
      "remediation's AutomationAssumeRole are literal values, as AWS Config requires.",
    ],
  });
}

async function putPack(ctx: ReconcilerContext, desired: PackDesiredState): Promise<void> {
  const body = renderedBody(desired);
  try {
    await ctx.caller.call('config:PutConformancePack', () =>
      ctx.config.send(
        new PutConformancePackCommand({
          ConformancePackName: desired.packName,
          TemplateBody: body,
          ConformancePackInputParameters: Object.entries(desired.inputParameters).map(([ParameterName, ParameterValue]) => ({ ParameterName, ParameterValue })),
          ...(Object.keys(desired.tags).length > 0 ? { Tags: Object.entries(desired.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
        }),
      ),
    );
  } catch (err) {
    const code = codeOf(err);
    if (code === 'ConformancePackTemplateValidationException' || code === 'InvalidParameterValueException') {
      throw new PackRejectedError(messageOf((err as { cause?: unknown }).cause ?? err), { cause: err });
    }
    throw err;
  }
  ctx.log.info('conformance pack put', { packName: desired.packName, bytes: Buffer.byteLength(body, 'utf8') });
}

async function parametersMatch(ctx: ReconcilerContext, desired: PackDesiredState): Promise<boolean> {
  const out = await ctx.caller.call('config:DescribeConformancePacks', () =>
    ctx.config.send(new DescribeConformancePacksCommand({ ConformancePackNames: [desired.packName] })),
  );
  const detail = (out.ConformancePackDetails ?? []).find((d) => d.ConformancePackName === desired.packName);
  if (!detail) return false;
  const actual = Object.fromEntries((detail.ConformancePackInputParameters ?? []).map((p) => [p.ParameterName ?? '', p.ParameterValue ?? '']));
  const wanted = desired.inputParameters;
  return Object.keys(actual).length === Object.keys(wanted).length && Object.entries(wanted).every(([k, v]) => actual[k] === v);
}

/** How long to wait between two reads of a pack in progress. */
export const PACK_POLL_INTERVAL_MS = 15_000;
/** Time kept for answering CloudFormation after the last poll. */
const ANSWER_MARGIN_MS = 30_000;

async function waitWhileInProgress(
  ctx: ReconcilerContext,
  packName: string,
  status: { state: ConformancePackState | 'ABSENT'; reason?: string },
): Promise<{ state: ConformancePackState | 'ABSENT'; reason?: string }> {
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const remaining = ctx.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  let current = status;
  while (IN_PROGRESS.has(current.state)) {
    if (remaining() < PACK_POLL_INTERVAL_MS + ANSWER_MARGIN_MS) throw new PackBusyError(packName, current.state);
    ctx.log.info('waiting for the conformance pack deployment in progress', { packName, state: current.state });
    await sleep(PACK_POLL_INTERVAL_MS);
    current = await readPackStatus(ctx, packName);
  }
  return current;
}

/** The AWS error code of an SDK error, or of the SDK error an AwsCaller error wraps. */
export function codeOf(err: unknown): string | undefined {
  return awsErrorCode(err) ?? awsErrorCode((err as { cause?: unknown } | undefined)?.cause);
}
