/**
 * Delivering evaluations to AWS Config: PutEvaluations in batches of at most 100, with
 * `TestMode` for the RDK `TESTMODE` token, and the evaluations Config returns as
 * `FailedEvaluations` sent again with backoff. Every batch is attempted before a failure is
 * raised, so what was decided is delivered even when part of it cannot be.
 */
import { type ConfigServiceClient, type Evaluation as SdkEvaluation, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import type { AwsCaller } from '../../lib/aws-call';
import { AwsAccessDeniedError, EvaluationDeliveryError, messageOf } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import type { RecordedEvaluations } from './cleanup';
import { DAY_MS, shortenAnnotation } from './policy';

export type EvaluationCompliance = 'COMPLIANT' | 'NON_COMPLIANT' | 'NOT_APPLICABLE';

export const USER_RESOURCE_TYPE = 'AWS::IAM::User';
/** PutEvaluations accepts at most 100 evaluations per call. */
export const MAX_EVALUATIONS_PER_CALL = 100;
/** The RDK convention: this result token means "test run, put with TestMode". */
export const TEST_MODE_TOKEN = 'TESTMODE';

export interface Evaluation {
  /** The user ID (AIDA…), never the user name: the console ties evaluations to resources by ID. */
  readonly resourceId: string;
  readonly resourceType: string;
  readonly compliance: EvaluationCompliance;
  readonly annotation: string;
  readonly orderingTimestamp: Date;
}

export interface DeliveryOptions {
  readonly log: Logger;
  /** Rounds of re-sending FailedEvaluations. @default 4 */
  readonly failedRetries?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * With nothing to put, still send one empty PutEvaluations for the result token (the sweep that
   * found nothing changed), so that Config hears back from the invocation. @default false
   */
  readonly answerWhenEmpty?: boolean;
}

export interface DeliveryResult {
  readonly calls: number;
  readonly delivered: number;
}

/** Send evaluations to Config. Throws `EvaluationDeliveryError` if any stay refused. */
export async function putEvaluations(
  config: ConfigServiceClient,
  caller: AwsCaller,
  resultToken: string,
  evaluations: readonly Evaluation[],
  options: DeliveryOptions,
): Promise<DeliveryResult> {
  assertUnique(evaluations);
  const testMode = resultToken === TEST_MODE_TOKEN;
  const rounds = options.failedRetries ?? 4;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let calls = 0;
  let delivered = 0;
  const refused: SdkEvaluation[] = [];
  let firstFailure: unknown;

  if (evaluations.length === 0 && options.answerWhenEmpty) {
    // Nothing to record (a sweep that found nothing changed): still answer the invocation's result
    // token with an empty PutEvaluations (0 to 100 evaluations are allowed), so that Config hears
    // back from every trigger. It records, and bills, no evaluation.
    await caller.call('config:PutEvaluations', () =>
      config.send(new PutEvaluationsCommand({ Evaluations: [], ResultToken: resultToken, ...(testMode ? { TestMode: true } : {}) })),
    );
    return { calls: 1, delivered: 0 };
  }
  for (let start = 0; start < evaluations.length; start += MAX_EVALUATIONS_PER_CALL) {
    let pending = evaluations.slice(start, start + MAX_EVALUATIONS_PER_CALL).map(toSdk);
    for (let round = 0; pending.length > 0; round++) {
      const batch = pending;
      calls++;
      let out;
      try {
        out = await caller.call('config:PutEvaluations', () =>
          config.send(new PutEvaluationsCommand({ Evaluations: batch, ResultToken: resultToken, ...(testMode ? { TestMode: true } : {}) })),
        );
      } catch (err) {
        // Denied once is denied for every batch; any other failure loses this batch only.
        if (err instanceof AwsAccessDeniedError) throw err;
        firstFailure ??= err;
        options.log.error('PutEvaluations failed past the retry budget; sending the other batches', { count: batch.length, error: messageOf(err) });
        break;
      }
      const failed = out.FailedEvaluations ?? [];
      delivered += batch.length - failed.length;
      if (failed.length === 0) break;
      const failedIds = new Set(failed.map((f) => f.ComplianceResourceId));
      pending = batch.filter((b) => failedIds.has(b.ComplianceResourceId));
      if (round >= rounds) {
        refused.push(...pending);
        options.log.error('AWS Config refused evaluations after retries', { count: pending.length, resourceIds: pending.map((p) => p.ComplianceResourceId).slice(0, 20) });
        break;
      }
      options.log.warn('AWS Config returned FailedEvaluations; sending them again', { count: pending.length, round: round + 1 });
      await sleep(Math.min(5000, 250 * 2 ** round));
    }
  }
  if (firstFailure !== undefined) throw firstFailure;
  if (refused.length > 0) {
    throw new EvaluationDeliveryError(refused.map((r) => ({ resourceId: r.ComplianceResourceId ?? '?', complianceType: r.ComplianceType ?? '?' })));
  }
  return { calls, delivered };
}

/** Why an evaluation is put although Config may already hold one for the user. */
export type PutReason = 'new' | 'changed' | 'refresh';

export interface PutSelection {
  /** What to put, in the order given. */
  readonly put: readonly Evaluation[];
  /** How many of `put` are for each reason. */
  readonly reasons: Readonly<Record<PutReason, number>>;
  /** Evaluations not put: Config holds the same verdict and annotation, recorded within the refresh window. */
  readonly unchanged: number;
}

export interface SelectionOptions {
  /** An unchanged evaluation recorded this many days before `asOf`, or earlier, is put again; 0 puts all. */
  readonly refreshDays: number;
  /** The instant ages are counted to: the sweep's trigger time, on Config's own clock like `ResultRecordedTime`. */
  readonly asOf: Date;
}

/**
 * Keep the evaluations Config does not already hold: a user with no evaluation yet (a new user,
 * or a new or re-created rule, which holds none at all), a verdict or an annotation that differs
 * from the one recorded, or one recorded `refreshDays` or more before `asOf` (or at a time Config
 * did not say). A user whose verdict changed is therefore always put, in this same run.
 */
export function selectEvaluationsToPut(evaluations: readonly Evaluation[], recorded: RecordedEvaluations, options: SelectionOptions): PutSelection {
  const reasons: Record<PutReason, number> = { new: 0, changed: 0, refresh: 0 };
  const put: Evaluation[] = [];
  const windowMs = options.refreshDays * DAY_MS;
  for (const e of evaluations) {
    const r = e.resourceType === USER_RESOURCE_TYPE ? recorded.get(e.resourceId) : undefined;
    let reason: PutReason | undefined;
    if (r === undefined) reason = 'new';
    else if (r.compliance !== e.compliance || r.annotation !== shortenAnnotation(e.annotation)) reason = 'changed';
    else if (r.recordedAt === undefined || options.asOf.getTime() - r.recordedAt.getTime() >= windowMs) reason = 'refresh';
    if (reason === undefined) continue;
    reasons[reason]++;
    put.push(e);
  }
  return { put, reasons, unchanged: evaluations.length - put.length };
}

function toSdk(e: Evaluation): SdkEvaluation {
  return {
    ComplianceResourceType: e.resourceType,
    ComplianceResourceId: e.resourceId,
    ComplianceType: e.compliance,
    Annotation: shortenAnnotation(e.annotation),
    OrderingTimestamp: e.orderingTimestamp,
  };
}

/** Two evaluations of one resource in one invocation would be a bug: refuse rather than let Config pick one. */
function assertUnique(evaluations: readonly Evaluation[]): void {
  const seen = new Set<string>();
  for (const e of evaluations) {
    const key = `${e.resourceType}/${e.resourceId}`;
    if (seen.has(key)) throw new Error(`internal error: two evaluations for ${key} in one invocation`);
    seen.add(key);
  }
}
