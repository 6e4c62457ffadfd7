/**
 * The AWS Config custom rule Lambda: is every IAM user's every active access key younger than
 * `MaxAccessKeyAge` days?
 *
 * In the shape of rdklib's evaluator: parse the event, read the parameters, route on
 * `messageType` — a change (or an oversized change: fetch the item), or the schedule (sweep the
 * whole account) — decide with the pure policy, put the evaluations. Any failure fails the
 * invocation with a named error; it never becomes a verdict.
 */
import { type ConfigServiceClient, GetResourceConfigHistoryCommand } from '@aws-sdk/client-config-service';
import { GetUserCommand, type IAMClient, type Tag } from '@aws-sdk/client-iam';
import type { Context } from 'aws-lambda';
import { AwsCaller, isNoSuchEntity, type PacingPolicy, type RetryPolicy } from '../../lib/aws-call';
import { createConfigClient, createIamClient } from '../../lib/clients';
import { DeadlineExceededError, InvalidEventError, KeyageError, messageOf, NoSuchUserError } from '../../lib/errors';
import { createLogger, type Logger } from '../../lib/log';
import { clearEvaluationsOfMissingUsers, readRecordedEvaluations, type RecordedEvaluations } from './cleanup';
import { GONE_STATUSES, type ItemRef, parseItem, parseRuleEvent, type RuleEvent } from './event';
import { type Evaluation, type PutReason, putEvaluations, selectEvaluationsToPut, TEST_MODE_TOKEN, USER_RESOURCE_TYPE } from './evaluations';
import { type IamReader, readUserKeys } from './iam';
import { DEFAULT_EVALUATION_REFRESH_DAYS, isExempt, parseRuleParameters, type RuleParameters } from './parameters';
import { evaluateAccessKeys } from './policy';
import { exemptAnnotation, SweepIncompleteError, type SweepResult, sweepAccount } from './sweep';

export interface RuleDependencies {
  iam: IAMClient;
  config: ConfigServiceClient;
  /** The decision clock. @default () => new Date() */
  now: () => Date;
  /** The real clock (credential report freshness). @default () => new Date() */
  wallClock: () => Date;
  log: Logger;
  retry: Partial<RetryPolicy>;
  sleep: (ms: number) => Promise<void>;
  /** @default 4 hours */
  maxReportAgeMs: number;
  /** Stop the sweep when fewer ms than this remain before the Lambda timeout. @default 30_000 */
  safetyMarginMs: number;
  /** Client-side pacing once a service throttles (see `PacingPolicy`). @default true */
  pacing: Partial<PacingPolicy> | boolean;
}

export interface RuleInvocationResult {
  readonly messageType: RuleEvent['messageType'];
  readonly evaluations: number;
  readonly compliant: number;
  readonly nonCompliant: number;
  readonly notApplicable: number;
  /** Sweep verdicts not put because Config already holds them, unchanged and within the refresh window. */
  readonly unchanged: number;
  /** Why the sweep's evaluations were put, when it compared them with what Config holds. */
  readonly putReasons?: Readonly<Record<PutReason, number>>;
  /** Why a sweep put every verdict without comparing (besides test mode and a deadline). */
  readonly fullPut?: 'read-failed' | 'no-time-to-read';
  readonly iamCalls: number;
  readonly configCalls: number;
}

/** Build a handler with injected clients and clocks (tests, benchmark); `handler` is the default one. */
export function createHandler(deps: Partial<RuleDependencies> = {}) {
  let iam = deps.iam;
  let config = deps.config;
  const baseLog = deps.log ?? createLogger();

  return async function accessKeyAgeRule(event: unknown, context?: Partial<Context>): Promise<RuleInvocationResult> {
    iam ??= createIamClient();
    config ??= createConfigClient();
    let log = baseLog.child(context?.awsRequestId ? { requestId: context.awsRequestId } : {});
    const caller = new AwsCaller({
      ...(deps.retry ? { retry: deps.retry } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      // learn IAM's unpublished rate: after a throttle, space calls instead of retrying in bursts
      pacing: deps.pacing ?? true,
      onRetry: (r) => log.warn('AWS call retried', r),
    });
    try {
      const parsed = parseRuleEvent(event);
      log = log.child({ messageType: parsed.messageType, configRuleName: parsed.configRuleName, accountId: parsed.accountId });
      const params = parseRuleParameters(parsed.ruleParameters);
      const reader: IamReader = { iam, caller, log };
      const now = (deps.now ?? (() => new Date()))();
      const evaluations: Evaluation[] = [];
      let deadline: DeadlineExceededError | undefined;
      let readFailure: unknown;
      let unchanged = 0;
      let reasons: RuleInvocationResult['putReasons'];
      let fullPut: RuleInvocationResult['fullPut'];

      if (parsed.messageType === 'ScheduledNotification') {
        const remaining = context?.getRemainingTimeInMillis?.bind(context);
        const margin = deps.safetyMarginMs ?? 30_000;
        const toEvaluations = (users: SweepResult['users']): Evaluation[] =>
          users.map((u) => ({ resourceId: u.userId, resourceType: USER_RESOURCE_TYPE, compliance: u.compliance, annotation: u.annotation, orderingTimestamp: parsed.notificationCreationTime }));
        let sweep: SweepResult;
        try {
          sweep = await sweepAccount(reader, params, {
            now,
            wallClock: deps.wallClock ?? (() => new Date()),
            ...(deps.maxReportAgeMs !== undefined ? { maxReportAgeMs: deps.maxReportAgeMs } : {}),
            ...(remaining ? { remainingMs: remaining } : {}),
            safetyMarginMs: margin,
            ...(deps.sleep ? { sleep: deps.sleep } : {}),
          });
        } catch (err) {
          if (!(err instanceof SweepIncompleteError)) throw err;
          // Deliver the verdicts that were reached, then fail: the rest get no verdict, not a guess.
          log.error('sweep incomplete; putting the verdicts reached before the failure', { decided: err.partial.users.length, notEvaluated: err.partial.notEvaluated.length });
          await putEvaluations(config, caller, parsed.resultToken, toEvaluations(err.partial.users), { log, ...(deps.sleep ? { sleep: deps.sleep } : {}) });
          throw err.cause;
        }
        log.info('sweep decided', { users: sweep.users.length, readLive: sweep.readLive, credentialReport: sweep.report.used, credentialReportReason: sweep.report.reason });
        const decided = toEvaluations(sweep.users);
        if (sweep.notEvaluated.length > 0) {
          // No time left to read what Config holds: put every verdict reached, clear nothing.
          deadline = new DeadlineExceededError(sweep.users.length, sweep.notEvaluated.length);
          evaluations.push(...decided);
        } else if (parsed.resultToken === TEST_MODE_TOKEN) {
          log.debug('test mode: evaluations are not stored, so every one is put and none is cleared');
          evaluations.push(...decided);
        } else if (remaining && remaining() < margin) {
          log.warn('too little time left to read the rule\'s evaluations; putting every verdict and clearing none this time', { remainingMs: remaining() });
          evaluations.push(...decided);
          fullPut = 'no-time-to-read';
        } else {
          const configRuleName = parsed.configRuleName as string;
          let recorded: RecordedEvaluations | undefined;
          try {
            recorded = await readRecordedEvaluations(config, caller, configRuleName);
          } catch (err) {
            // Never skip a put on doubt: without the full picture every verdict is put, then the
            // invocation fails so that the missed cleanup is seen (and done by the next sweep).
            readFailure = err;
            log.error('could not read the rule\'s current evaluations; putting every verdict, clearing none', { error: messageOf(err) });
          }
          if (recorded === undefined) {
            evaluations.push(...decided);
            fullPut = 'read-failed';
          } else {
            const selection = selectEvaluationsToPut(decided, recorded, { refreshDays: params.evaluationRefreshDays ?? DEFAULT_EVALUATION_REFRESH_DAYS, asOf: parsed.notificationCreationTime });
            evaluations.push(...selection.put, ...clearEvaluationsOfMissingUsers(recorded, sweep.allUserIds, parsed.notificationCreationTime));
            unchanged = selection.unchanged;
            reasons = selection.reasons;
            log.info('compared with the rule\'s evaluations', { recorded: recorded.size, ...selection.reasons, unchanged: selection.unchanged, refreshDays: params.evaluationRefreshDays });
          }
        }
      } else {
        // An oversized summary is enough when it already says the verdict is NOT_APPLICABLE.
        const item =
          parsed.messageType === 'ConfigurationItemChangeNotification' || !needsFullItem(parsed.summary, parsed.eventLeftScope)
            ? parsed.messageType === 'ConfigurationItemChangeNotification'
              ? parsed.item
              : parsed.summary
            : await fetchOversizedItem(config, caller, parsed.summary);
        evaluations.push(await evaluateItem(reader, item, parsed.eventLeftScope, params, now));
      }

      await putEvaluations(config, caller, parsed.resultToken, evaluations, { log, answerWhenEmpty: true, ...(deps.sleep ? { sleep: deps.sleep } : {}) });
      const result: RuleInvocationResult = {
        messageType: parsed.messageType,
        evaluations: evaluations.length,
        compliant: evaluations.filter((e) => e.compliance === 'COMPLIANT').length,
        nonCompliant: evaluations.filter((e) => e.compliance === 'NON_COMPLIANT').length,
        notApplicable: evaluations.filter((e) => e.compliance === 'NOT_APPLICABLE').length,
        unchanged,
        ...(reasons ? { putReasons: reasons } : {}),
        ...(fullPut ? { fullPut } : {}),
        iamCalls: caller.count('iam'),
        configCalls: caller.count('config'),
      };
      if (deadline) throw deadline;
      if (readFailure !== undefined) throw readFailure;
      log.info('evaluations put', { ...result, throttledRetries: caller.stats.throttledRetries, transientRetries: caller.stats.transientRetries });
      return result;
    } catch (err) {
      log.error('evaluation failed; no verdict was put for what could not be decided', {
        errorType: err instanceof KeyageError ? err.code : err instanceof Error ? err.name : 'unknown',
        error: messageOf(err),
        iamCalls: caller.count('iam'),
        configCalls: caller.count('config'),
      });
      throw err;
    }
  };
}

/** The Lambda entry point AWS Config invokes. */
export const handler = createHandler();

/**
 * The verdict for one configuration item. Keys and tags come from IAM, never from the item:
 * GetUser confirms the name still belongs to this user ID and returns the tags; ListAccessKeys
 * returns the keys. Two IAM calls.
 */
export async function evaluateItem(reader: IamReader, item: ItemRef, eventLeftScope: boolean, params: RuleParameters, now: Date): Promise<Evaluation> {
  const out = (compliance: Evaluation['compliance'], annotation: string): Evaluation => ({
    resourceId: item.resourceId,
    resourceType: item.resourceType,
    compliance,
    annotation,
    orderingTimestamp: item.captureTime,
  });
  if (item.resourceType !== USER_RESOURCE_TYPE) return out('NOT_APPLICABLE', `keyage evaluates ${USER_RESOURCE_TYPE} only; this is ${item.resourceType}.`);
  if (eventLeftScope) return out('NOT_APPLICABLE', 'The user is no longer in the scope of this rule.');
  if (GONE_STATUSES.includes(item.status)) return out('NOT_APPLICABLE', `The user is no longer recorded (${item.status}).`);
  const userName = item.resourceName;
  if (!userName) throw new InvalidEventError('configurationItem.resourceName', 'is required for an AWS::IAM::User that exists');

  let tags: Tag[];
  try {
    const got = await reader.caller.call('iam:GetUser', () => reader.iam.send(new GetUserCommand({ UserName: userName })));
    if (got.User?.UserId !== item.resourceId) {
      return out('NOT_APPLICABLE', `User ${item.resourceId} no longer exists; the name ${userName} now belongs to ${got.User?.UserId ?? 'another user'}.`);
    }
    tags = got.User.Tags ?? [];
  } catch (err) {
    if (isNoSuchEntity(err)) return out('NOT_APPLICABLE', `User ${userName} no longer exists in IAM.`);
    throw err;
  }
  if (params.exemptionTag && isExempt(tags, params.exemptionTag)) return out('NOT_APPLICABLE', exemptAnnotation(params));

  let verdict;
  try {
    verdict = evaluateAccessKeys(await readUserKeys(reader, userName), now, params);
  } catch (err) {
    if (err instanceof NoSuchUserError) return out('NOT_APPLICABLE', `User ${userName} no longer exists in IAM.`);
    throw err;
  }
  reader.log.debug('user evaluated', {
    userName,
    userId: item.resourceId,
    compliance: verdict.compliance,
    staleKeys: verdict.staleKeys.map((k) => ({ accessKeyId: k.key.accessKeyId, slot: k.key.slot, ageDays: k.ageDays })),
  });
  return out(verdict.compliance, verdict.annotation);
}

function needsFullItem(summary: ItemRef, eventLeftScope: boolean): boolean {
  return summary.resourceType === USER_RESOURCE_TYPE && !eventLeftScope && !GONE_STATUSES.includes(summary.status);
}

/** An oversized notification carries only a summary: fetch the item it names. */
async function fetchOversizedItem(config: ConfigServiceClient, caller: AwsCaller, summary: ItemRef): Promise<ItemRef> {
  const got = await caller.call('config:GetResourceConfigHistory', () =>
    config.send(
      new GetResourceConfigHistoryCommand({
        resourceType: summary.resourceType as never,
        resourceId: summary.resourceId,
        laterTime: summary.captureTime,
        limit: 1,
      }),
    ),
  );
  const item = got.configurationItems?.[0];
  if (!item) {
    throw new InvalidEventError('configurationItemSummary', `names ${summary.resourceType} ${summary.resourceId}, but GetResourceConfigHistory returned no item for it`);
  }
  return parseItem(item, 'GetResourceConfigHistory.configurationItems[0]');
}
