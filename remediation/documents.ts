/**
 * keyage's two SSM Automation documents as the member stack deploys them: their names, the
 * step that invokes the remediation function, and how that step's payload is built from the
 * execution's parameters. The stack, the remediation Lambda (which verifies every invocation
 * against the execution that made it) and the tests share these.
 */
import type { Operation } from './parameters';

/** Runbook 1, the rule's remediation. */
export const DEACTIVATE_RUNBOOK_NAME = 'keyage-DeactivateStaleAccessKeys';
/** Runbook 2, run daily for every user. */
export const DELETE_RUNBOOK_NAME = 'keyage-DeleteDeactivatedAccessKeys';

/** Each document, the operation it asks for, and its aws:invokeLambdaFunction step. */
export const KEYAGE_DOCUMENTS: Readonly<Record<string, { readonly operation: Operation; readonly invokeStep: string; readonly payloadParameters: readonly string[] }>> = {
  [DEACTIVATE_RUNBOOK_NAME]: { operation: 'deactivate', invokeStep: 'DeactivateStaleKeys', payloadParameters: ['IAMResourceId', 'MaxAccessKeyAge', 'ExemptionTag', 'DryRun'] },
  [DELETE_RUNBOOK_NAME]: { operation: 'delete', invokeStep: 'DeleteDeactivatedKeys', payloadParameters: ['IAMUser', 'GracePeriodDays', 'ExemptionTag', 'DryRun'] },
};

/**
 * The payload the document's invoke step sends for these parameter values: `Operation`, each
 * parameter under its own name, and `AutomationExecutionId` (`{{ automation:EXECUTION_ID }}`).
 */
export function payloadFor(documentName: string, parameters: Readonly<Record<string, string>>, executionId: string): Record<string, string> {
  const doc = KEYAGE_DOCUMENTS[documentName];
  if (!doc) throw new TypeError(`documents: ${documentName} is not a keyage document`);
  const payload: Record<string, string> = { Operation: doc.operation };
  for (const name of doc.payloadParameters) {
    const value = parameters[name];
    if (value === undefined) throw new TypeError(`documents: no value for ${name}`);
    payload[name] = value;
  }
  payload.AutomationExecutionId = executionId;
  return payload;
}
