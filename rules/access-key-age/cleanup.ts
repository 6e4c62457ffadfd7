/**
 * What AWS Config holds for this rule, read once per sweep (GetComplianceDetailsByConfigRule,
 * paged to the end), and the two uses the sweep makes of it:
 *
 *   - clearing evaluations of users that no longer exist: Config keeps the last evaluation of a
 *     user deleted while the rule was not looking (a missed change event, a rule deployed after
 *     the deletion); periodic rules must answer NOT_APPLICABLE for them;
 *   - putting only what changed (`selectEvaluationsToPut` in evaluations.ts): an evaluation
 *     Config already holds, with the same verdict and annotation, is not recorded again — AWS
 *     Config bills every evaluation recorded — until it is older than the refresh window.
 *
 * The read asks for every ComplianceType an evaluation of this rule can have (COMPLIANT,
 * NON_COMPLIANT, NOT_APPLICABLE; Config refuses INSUFFICIENT_DATA as a filter and never stores it
 * from PutEvaluations), so that the comparison sees every current result. A read that fails, or
 * does not finish, is an error for the caller, who then puts everything: nothing is skipped on
 * a partial view.
 */
import { type ConfigServiceClient, GetComplianceDetailsByConfigRuleCommand } from '@aws-sdk/client-config-service';
import type { AwsCaller } from '../../lib/aws-call';
import { UnexpectedResponseError } from '../../lib/errors';
import { type Evaluation, type EvaluationCompliance, USER_RESOURCE_TYPE } from './evaluations';

/** Every ComplianceType a PutEvaluations can record, the filter of the read. */
export const RECORDED_COMPLIANCE_TYPES: readonly EvaluationCompliance[] = ['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE'];
/** GetComplianceDetailsByConfigRule returns at most 100 results a page. */
export const RECORDED_PAGE_SIZE = 100;
/**
 * A read that has not ended after this many pages (200,000 evaluations, forty times IAM's quota of
 * 5,000 users) is taken for a service that keeps answering NextToken, and fails.
 */
export const MAX_RECORDED_PAGES = 2000;

/** One evaluation of an IAM user as Config holds it for this rule. */
export interface RecordedEvaluation {
  readonly resourceId: string;
  /** Absent when Config returned none, or returned two different ones for the user. */
  readonly compliance?: string;
  readonly annotation?: string;
  /** `ResultRecordedTime`: when Config recorded it. */
  readonly recordedAt?: Date;
  /** `EvaluationResultIdentifier.OrderingTimestamp`. */
  readonly orderedAt?: Date;
}

/** The rule's current evaluations of IAM users, by user ID. */
export type RecordedEvaluations = ReadonlyMap<string, RecordedEvaluation>;

/**
 * Page the rule's evaluations to the end.
 * @throws the caller's error (AwsCallError, AwsAccessDeniedError) when a page cannot be read, or
 *   UnexpectedResponseError when the pages do not end; never returns a partial map.
 */
export async function readRecordedEvaluations(config: ConfigServiceClient, caller: AwsCaller, configRuleName: string): Promise<RecordedEvaluations> {
  const recorded = new Map<string, RecordedEvaluation>();
  const tokens = new Set<string>();
  let nextToken: string | undefined;
  let pages = 0;
  do {
    if (++pages > MAX_RECORDED_PAGES) {
      throw new UnexpectedResponseError('config:GetComplianceDetailsByConfigRule', `the results did not end after ${MAX_RECORDED_PAGES} pages`);
    }
    const token = nextToken;
    const page = await caller.call('config:GetComplianceDetailsByConfigRule', () =>
      config.send(
        new GetComplianceDetailsByConfigRuleCommand({
          ConfigRuleName: configRuleName,
          ComplianceTypes: [...RECORDED_COMPLIANCE_TYPES],
          Limit: RECORDED_PAGE_SIZE,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    for (const r of page.EvaluationResults ?? []) {
      const q = r.EvaluationResultIdentifier?.EvaluationResultQualifier;
      if (q?.ResourceType !== USER_RESOURCE_TYPE || !q.ResourceId) continue;
      const ordered = r.EvaluationResultIdentifier?.OrderingTimestamp;
      const entry: RecordedEvaluation = {
        resourceId: q.ResourceId,
        ...(r.ComplianceType ? { compliance: r.ComplianceType } : {}),
        ...(r.Annotation !== undefined ? { annotation: r.Annotation } : {}),
        ...(r.ResultRecordedTime ? { recordedAt: new Date(r.ResultRecordedTime) } : {}),
        ...(ordered ? { orderedAt: new Date(ordered) } : {}),
      };
      const seen = recorded.get(q.ResourceId);
      // Two results for one user that disagree: keep neither verdict, so the user is put again.
      recorded.set(q.ResourceId, seen && !sameResult(seen, entry) ? { resourceId: q.ResourceId, ...(entry.orderedAt ? { orderedAt: later(seen.orderedAt, entry.orderedAt) } : {}) } : entry);
    }
    nextToken = page.NextToken || undefined;
    if (nextToken !== undefined) {
      if (tokens.has(nextToken)) throw new UnexpectedResponseError('config:GetComplianceDetailsByConfigRule', 'a page returned the NextToken of an earlier page');
      tokens.add(nextToken);
    }
  } while (nextToken);
  return recorded;
}

/**
 * NOT_APPLICABLE for every user Config holds a verdict for that IAM no longer has.
 *
 * A user already NOT_APPLICABLE is left alone: that is the verdict a user that no longer exists
 * keeps, so putting it again would only be billed. Only evaluations ordered before this sweep's
 * trigger are cleared: a user created after ListUsers ran, and already evaluated by a change
 * event, has a later ordering timestamp and is not this sweep's to judge.
 */
export function clearEvaluationsOfMissingUsers(recorded: RecordedEvaluations, existingUserIds: ReadonlySet<string>, orderingTimestamp: Date): Evaluation[] {
  const stale: string[] = [];
  for (const r of recorded.values()) {
    if (existingUserIds.has(r.resourceId) || r.compliance === 'NOT_APPLICABLE') continue;
    if (r.orderedAt !== undefined && r.orderedAt.getTime() > orderingTimestamp.getTime()) continue;
    stale.push(r.resourceId);
  }
  return stale.map((resourceId) => ({
    resourceId,
    resourceType: USER_RESOURCE_TYPE,
    compliance: 'NOT_APPLICABLE' as const,
    annotation: 'The user no longer exists in IAM.',
    orderingTimestamp,
  }));
}

function sameResult(a: RecordedEvaluation, b: RecordedEvaluation): boolean {
  return a.compliance === b.compliance && a.annotation === b.annotation;
}

function later(a: Date | undefined, b: Date): Date {
  return a !== undefined && a.getTime() > b.getTime() ? a : b;
}
