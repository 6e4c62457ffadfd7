/**
 * Periodic rules must clear evaluations of resources that no longer exist: Config keeps the
 * last evaluation of a user deleted while the rule was not looking (a missed change event, a
 * rule deployed after the deletion). Page GetComplianceDetailsByConfigRule to the end and
 * answer NOT_APPLICABLE for every evaluated user ID that IAM no longer has.
 *
 * Only evaluations ordered before this sweep's trigger are cleared: a user created after
 * ListUsers ran, and already evaluated by a change event, has a later ordering timestamp and
 * is not this sweep's to judge.
 */
import { type ConfigServiceClient, GetComplianceDetailsByConfigRuleCommand } from '@aws-sdk/client-config-service';
import type { AwsCaller } from '../../lib/aws-call';
import { type Evaluation, USER_RESOURCE_TYPE } from './evaluations';

export async function clearEvaluationsOfMissingUsers(
  config: ConfigServiceClient,
  caller: AwsCaller,
  configRuleName: string,
  existingUserIds: ReadonlySet<string>,
  orderingTimestamp: Date,
): Promise<Evaluation[]> {
  const stale = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await caller.call('config:GetComplianceDetailsByConfigRule', () =>
      config.send(
        new GetComplianceDetailsByConfigRuleCommand({
          ConfigRuleName: configRuleName,
          ComplianceTypes: ['COMPLIANT', 'NON_COMPLIANT'],
          Limit: 100,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      ),
    );
    for (const r of page.EvaluationResults ?? []) {
      const q = r.EvaluationResultIdentifier?.EvaluationResultQualifier;
      const ordered = r.EvaluationResultIdentifier?.OrderingTimestamp;
      const newer = ordered !== undefined && new Date(ordered).getTime() > orderingTimestamp.getTime();
      if (q?.ResourceType === USER_RESOURCE_TYPE && q.ResourceId && !existingUserIds.has(q.ResourceId) && !newer) stale.add(q.ResourceId);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return [...stale].map((resourceId) => ({
    resourceId,
    resourceType: USER_RESOURCE_TYPE,
    compliance: 'NOT_APPLICABLE' as const,
    annotation: 'The user no longer exists in IAM.',
    orderingTimestamp,
  }));
}
