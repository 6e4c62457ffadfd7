/**
 * The remediation Lambda, invoked by the runbooks' `aws:invokeLambdaFunction` steps with the
 * payload described in `parameters.ts` (`Operation` "deactivate" for runbook 1, "delete" for
 * runbook 2).
 *
 * Before any IAM call it verifies the invocation (`invocation.ts`): it acts only for a running
 * execution of keyage's own documents, with that execution's parameters. It signs and verifies
 * deactivation records with the record key (`KEYAGE_RECORD_KEY_ARN`), continues runbook 2's
 * every-user run where the last one stopped (`KEYAGE_DELETE_CURSOR_PARAMETER`), and tells the
 * notification topic (`KEYAGE_ALERT_TOPIC_ARN`) about suspected forged records.
 *
 * It returns the report as a flat JSON object whose `status` is `Success` or `Incomplete`,
 * kept under {@link MAX_RESULT_BYTES}; the runbook's next step reads it and fails the execution
 * on anything else. Any failure is thrown as a named error (the Lambda's `errorType`), never
 * turned into a result.
 */
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { AwsCaller, type RetryPolicy } from '../lib/aws-call';
import { createConfigClient, createIamClient } from '../lib/clients';
import { ConfigurationError, KeyageError, messageOf } from '../lib/errors';
import { createLogger, type Logger } from '../lib/log';
import { type DeactivationReport, deactivateStaleKeys, deleteDeactivatedKeys, type DeletionReport, type RecordAlert, type RemediationAction, type RemediationContext } from './core';
import { ssmDeleteCursor } from './cursor';
import { verifyInvocation } from './invocation';
import { kmsRecordSigner } from './records';

export interface RemediationDependencies {
  iam: IAMClient;
  config: ConfigServiceClient;
  ssm: SSMClient;
  kms: KMSClient;
  sns: SNSClient;
  /** The record key's ARN. @default process.env.KEYAGE_RECORD_KEY_ARN (required) */
  recordKeyArn: string;
  /** The SSM parameter holding runbook 2's cursor. @default process.env.KEYAGE_DELETE_CURSOR_PARAMETER (none: every run starts from the first user) */
  cursorParameter: string;
  /** The SNS topic told about suspected forged records. @default process.env.KEYAGE_ALERT_TOPIC_ARN (none: alerts are in the result and the logs only) */
  alertTopicArn: string;
  /** The decision clock; also the time written in deactivation records. @default () => new Date() */
  now: () => Date;
  log: Logger;
  retry: Partial<RetryPolicy>;
  sleep: (ms: number) => Promise<void>;
  /** Stop examining more users when fewer ms than this remain before the Lambda timeout or the step budget. @default 30_000 */
  safetyMarginMs: number;
  /**
   * How long the runbook's aws:invokeLambdaFunction step waits for the function: at most
   * 300 s in Automation, whatever the Lambda's own timeout. @default 300_000
   */
  stepBudgetMs: number;
  /** Real time in ms, for the budget. @default Date.now */
  wallClock: () => number;
}

/** Automation waits at most this long for an aws:invokeLambdaFunction step. */
export const STEP_BUDGET_MS = 300_000;

/** At most this many actions are returned to the runbook (all are logged). */
export const MAX_ACTIONS_IN_RESULT = 100;

/** At most this many users, users not processed and alerts are listed in the result (all are counted and logged). */
export const MAX_LISTED_IN_RESULT = 100;

/**
 * The result stays under this many bytes of JSON, whatever the number of users: it becomes the
 * step's `Payload` output, the CheckResult step's input and the execution's outputs.
 */
export const MAX_RESULT_BYTES = 32_768;

/** What the Lambda returns to the runbook. */
export type RemediationResult = (DeactivationReport | DeletionReport) & {
  /** `Incomplete`: runbook 2 stopped before its deadline; the next run continues. */
  readonly status: 'Success' | 'Incomplete';
  readonly automationExecutionId: string;
  /** Actions left out of `actions` to keep the result small (they are in the logs). */
  readonly actionsOmitted: number;
  /** Entries left out of `users`, `notProcessed` and `alerts` (runbook 2), to keep the result small. */
  readonly usersOmitted: number;
  readonly notProcessedOmitted: number;
  readonly alertsOmitted: number;
  /** Whether the suspected forgeries were sent to the notification topic. */
  readonly alertDelivery: 'none' | 'sent' | 'no topic' | `failed: ${string}`;
  readonly iamCalls: number;
};

/** Build a handler with injected clients and clocks (tests); `handler` is the default one. */
export function createHandler(deps: Partial<RemediationDependencies> = {}) {
  let iam = deps.iam;
  let config = deps.config;
  let ssm = deps.ssm;
  let kms = deps.kms;
  let sns = deps.sns;
  const baseLog = deps.log ?? createLogger();

  return async function remediation(event: unknown, context?: Partial<Context>): Promise<RemediationResult> {
    const started = (deps.wallClock ?? Date.now)();
    let log = baseLog.child(context?.awsRequestId ? { requestId: context.awsRequestId } : {});
    const caller = new AwsCaller({
      ...(deps.retry ? { retry: deps.retry } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      pacing: true,
      onRetry: (r) => log.warn('AWS call retried', r),
    });
    try {
      const recordKeyArn = deps.recordKeyArn ?? process.env.KEYAGE_RECORD_KEY_ARN;
      if (!recordKeyArn) {
        throw new ConfigurationError('The remediation function has no record key (KEYAGE_RECORD_KEY_ARN): it will not write deactivation records it could never verify.');
      }
      ssm ??= new SSMClient({ region: process.env.AWS_REGION ?? 'us-east-1', maxAttempts: 1 });
      const { payload, execution } = await verifyInvocation(event, { ssm, caller });
      log = log.child({ operation: payload.operation, dryRun: payload.dryRun, automationExecutionId: execution.automationExecutionId, executedBy: execution.executedBy });
      iam ??= createIamClient();
      config ??= createConfigClient();
      kms ??= new KMSClient({ region: process.env.AWS_REGION ?? 'us-east-1', maxAttempts: 1 });
      const ctx: RemediationContext = { iam, config, caller, log, signer: kmsRecordSigner(kms, recordKeyArn, caller) };
      const now = (deps.now ?? (() => new Date()))();
      let report: DeactivationReport | DeletionReport;
      if (payload.operation === 'deactivate') {
        report = await deactivateStaleKeys(ctx, {
          userId: payload.userId,
          maxAccessKeyAgeDays: payload.maxAccessKeyAgeDays,
          ...(payload.exemptionTag ? { exemptionTag: payload.exemptionTag } : {}),
          dryRun: payload.dryRun,
          now,
        });
      } else {
        const remaining = context?.getRemainingTimeInMillis?.bind(context);
        const margin = deps.safetyMarginMs ?? 30_000;
        const wallClock = deps.wallClock ?? Date.now;
        const stepEnds = started + (deps.stepBudgetMs ?? STEP_BUDGET_MS);
        const cursorParameter = deps.cursorParameter ?? process.env.KEYAGE_DELETE_CURSOR_PARAMETER;
        report = await deleteDeactivatedKeys(ctx, {
          ...payload.target,
          graceDays: payload.graceDays,
          ...(payload.exemptionTag ? { exemptionTag: payload.exemptionTag } : {}),
          dryRun: payload.dryRun,
          now,
          shouldStop: () => stepEnds - wallClock() < margin || (remaining !== undefined && remaining() < margin),
          ...('allUsers' in payload.target && cursorParameter ? { cursor: ssmDeleteCursor(ssm, cursorParameter, caller) } : {}),
        });
      }
      const alerts = report.operation === 'delete' ? report.alerts : [];
      const alertDelivery = await deliverAlerts(alerts, execution.automationExecutionId, deps.alertTopicArn ?? process.env.KEYAGE_ALERT_TOPIC_ARN, () => (sns ??= new SNSClient({ region: process.env.AWS_REGION ?? 'us-east-1', maxAttempts: 1 })), caller, log);
      const complete = report.operation === 'deactivate' || report.complete;
      const result = boundResult({
        ...report,
        status: complete ? 'Success' : 'Incomplete',
        automationExecutionId: execution.automationExecutionId,
        actionsOmitted: 0,
        usersOmitted: 0,
        notProcessedOmitted: 0,
        alertsOmitted: 0,
        alertDelivery,
        iamCalls: caller.count('iam'),
      });
      log.info('remediation finished', { status: result.status, summary: report.summary.text, iamCalls: result.iamCalls, configCalls: caller.count('config'), kmsCalls: caller.count('kms') });
      return result;
    } catch (err) {
      log.error('remediation failed', {
        errorType: err instanceof KeyageError ? err.code : err instanceof Error ? err.name : 'unknown',
        error: messageOf(err),
        iamCalls: caller.count('iam'),
      });
      throw err;
    }
  };
}

/**
 * Tell the notification topic about suspected forged records: one message per run, naming each
 * user and key and why. A failure to publish is logged and reported in the result, never hidden.
 */
async function deliverAlerts(
  alerts: readonly RecordAlert[],
  executionId: string,
  topicArn: string | undefined,
  client: () => SNSClient,
  caller: AwsCaller,
  log: Logger,
): Promise<RemediationResult['alertDelivery']> {
  if (alerts.length === 0) return 'none';
  if (!topicArn) return 'no topic';
  const lines = alerts.slice(0, 50).map((a) => `- user ${a.userName} (${a.userId}), key ${a.accessKeyId}: ${a.reason}`);
  const message = [
    `keyage found ${alerts.length} suspected forged deactivation record${alerts.length === 1 ? '' : 's'} (Automation execution ${executionId}).`,
    'keyage deleted nothing on the strength of these records and left the tags in place.',
    'Someone who can tag IAM users wrote or changed them: look for TagUser events on these users in CloudTrail.',
    '',
    ...lines,
    ...(alerts.length > lines.length ? [`… and ${alerts.length - lines.length} more (see the execution's output and the function's logs).`] : []),
  ].join('\n');
  try {
    const sns = client();
    await caller.call('sns:Publish', () => sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 'keyage: suspected forged deactivation records', Message: message })));
    return 'sent';
  } catch (err) {
    log.error('could not publish the suspected forgeries to the notification topic', { error: messageOf(err), alerts: alerts.length });
    return `failed: ${messageOf(err).slice(0, 200)}`;
  }
}

/**
 * Keep the result under {@link MAX_RESULT_BYTES}, cutting the least telling entries first: the
 * users examined, then the keys left as they are, then changes, suspected forgeries last.
 * Counts (`…Omitted`) say what was cut; every entry is in the function's logs.
 */
export function boundResult(result: RemediationResult): RemediationResult {
  const rank = (a: RemediationAction) => (a.record === 'suspect' ? 0 : a.action !== 'keep' ? 1 : 2);
  const ordered = [...result.actions].map((a, i) => ({ a, i })).sort((x, y) => rank(x.a) - rank(y.a) || x.i - y.i);
  const limits = { users: MAX_LISTED_IN_RESULT, actions: Math.min(MAX_ACTIONS_IN_RESULT, ordered.length), alerts: MAX_LISTED_IN_RESULT };
  const build = (): RemediationResult => {
    const actions = ordered.slice(0, limits.actions).sort((x, y) => x.i - y.i).map((x) => x.a);
    const base = { ...result, actions, actionsOmitted: result.actions.length - actions.length };
    if (base.operation !== 'delete') return base;
    const del = result as RemediationResult & DeletionReport;
    return {
      ...base,
      users: del.users.slice(0, limits.users),
      usersOmitted: Math.max(0, del.users.length - limits.users),
      notProcessed: del.notProcessed.slice(0, limits.users),
      notProcessedOmitted: Math.max(0, del.notProcessed.length - limits.users),
      alerts: del.alerts.slice(0, limits.alerts),
      alertsOmitted: Math.max(0, del.alerts.length - limits.alerts),
    } as RemediationResult;
  };
  let out = build();
  for (const knob of ['users', 'actions', 'alerts'] as const) {
    while (Buffer.byteLength(JSON.stringify(out)) > MAX_RESULT_BYTES && limits[knob] > 0) {
      limits[knob] = Math.floor(limits[knob] / 2);
      out = build();
    }
  }
  return out;
}

/** The Lambda entry point the runbooks invoke. */
export const handler = createHandler();
