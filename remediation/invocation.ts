/**
 * Who may make the remediation Lambda act: only a genuine, running SSM Automation execution of
 * one of keyage's two documents, and only with that execution's own parameters.
 *
 * The Lambda's role can deactivate and delete any access key of the account, and anyone with
 * `lambda:InvokeFunction` on it (PowerUserAccess has it; it has no IAM rights) could otherwise
 * send it any payload. So, before any IAM call:
 *
 *   1. the payload must name an execution (`AutomationExecutionId`, `{{ automation:EXECUTION_ID }}`);
 *   2. `ssm:GetAutomationExecution` must show that execution running one of keyage's documents
 *      (by name, in this account and Region), with the document's invoke step in progress;
 *   3. the parameters are the execution's (GetAutomationExecution `Parameters`), completed with
 *      the defaults of the very document version it runs (`ssm:DescribeDocument`);
 *   4. the payload must be exactly the one that step sends for those parameters.
 *
 * Anything else is an `UnverifiedInvocationError`. The request acted on is built from the
 * execution, never from the payload. Whoever may start keyage's documents (ssm:StartAutomationExecution
 * on them) may remediate: that permission is the authority, as it is for any runbook.
 */
import { DescribeDocumentCommand, GetAutomationExecutionCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { type AwsCaller, awsErrorCode } from '../lib/aws-call';
import { UnverifiedInvocationError } from '../lib/errors';
import { KEYAGE_DOCUMENTS, payloadFor } from './documents';
import { parseRemediationPayload, type RemediationPayload } from './parameters';

/** What verifying an invocation needs. */
export interface InvocationVerifier {
  readonly ssm: SSMClient;
  readonly caller: AwsCaller;
}

/** The execution an invocation was verified against. */
export interface VerifiedExecution {
  readonly automationExecutionId: string;
  readonly documentName: string;
  readonly documentVersion: string | null;
  /** The ARN of whoever started the execution, as SSM records it. */
  readonly executedBy: string | null;
}

/** SSM's execution IDs are UUIDs. */
const EXECUTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Verify an invocation and return the request to act on, built from the execution.
 * @throws UnverifiedInvocationError for anything but a genuine invocation by a running keyage execution.
 * @throws AwsAccessDeniedError / AwsCallError when SSM cannot be asked (nothing is done then either).
 */
export async function verifyInvocation(event: unknown, v: InvocationVerifier): Promise<{ payload: RemediationPayload; execution: VerifiedExecution }> {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new UnverifiedInvocationError('the payload is not a JSON object');
  }
  const given = event as Record<string, unknown>;
  const id = given.AutomationExecutionId;
  if (typeof id !== 'string' || !EXECUTION_ID.test(id)) {
    throw new UnverifiedInvocationError(`the payload names no Automation execution (AutomationExecutionId ${id === undefined ? 'is missing' : `${JSON.stringify(id).slice(0, 60)} is not an execution ID`})`);
  }
  let execution;
  try {
    execution = (await v.caller.call('ssm:GetAutomationExecution', () => v.ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: id })))).AutomationExecution;
  } catch (err) {
    if (awsErrorCode(err) === 'AutomationExecutionNotFoundException') throw new UnverifiedInvocationError(`there is no Automation execution ${id} in this account and Region`);
    throw err;
  }
  if (!execution) throw new UnverifiedInvocationError(`SSM returned nothing for execution ${id}`);
  const documentName = execution.DocumentName ?? '';
  const doc = KEYAGE_DOCUMENTS[documentName];
  if (!doc) throw new UnverifiedInvocationError(`execution ${id} runs ${JSON.stringify(documentName).slice(0, 140)}, which is not one of keyage's documents (${Object.keys(KEYAGE_DOCUMENTS).join(', ')})`);
  if (execution.AutomationExecutionStatus !== 'InProgress') {
    throw new UnverifiedInvocationError(`execution ${id} is ${execution.AutomationExecutionStatus ?? 'in no known state'}, not running`);
  }
  const step = (execution.StepExecutions ?? []).find((s) => s.StepName === doc.invokeStep);
  const stepRunning = step ? step.StepStatus === 'InProgress' : execution.StepExecutionsTruncated === true && execution.CurrentStepName === doc.invokeStep;
  if (!stepRunning || (execution.CurrentStepName !== undefined && execution.CurrentStepName !== doc.invokeStep)) {
    throw new UnverifiedInvocationError(`execution ${id} is not running its step ${doc.invokeStep} (current step: ${execution.CurrentStepName ?? 'none'})`);
  }

  const described = await v.caller.call('ssm:DescribeDocument', () =>
    v.ssm.send(new DescribeDocumentCommand({ Name: documentName, ...(execution.DocumentVersion ? { DocumentVersion: execution.DocumentVersion } : {}) })),
  );
  const defaults = new Map((described.Document?.Parameters ?? []).map((p) => [p.Name ?? '', p.DefaultValue]));
  const parameters: Record<string, string> = {};
  for (const name of doc.payloadParameters) {
    const supplied = execution.Parameters?.[name];
    const value = supplied && supplied.length > 0 ? supplied.join(',') : defaults.get(name);
    if (value === undefined) throw new UnverifiedInvocationError(`execution ${id} has no value for ${name}, and its document declares no default`);
    parameters[name] = value;
  }
  const expected = payloadFor(documentName, parameters, id);
  const names = new Set([...Object.keys(expected), ...Object.keys(given)]);
  for (const name of names) {
    if (given[name] !== expected[name]) {
      throw new UnverifiedInvocationError(
        `the payload's ${name.slice(0, 40)} is ${JSON.stringify(given[name])?.slice(0, 80) ?? 'missing'}, but execution ${id} sends ${JSON.stringify(expected[name])?.slice(0, 80) ?? 'no such field'}`,
      );
    }
  }
  return {
    payload: parseRemediationPayload(expected),
    execution: {
      automationExecutionId: id,
      documentName,
      documentVersion: execution.DocumentVersion ?? null,
      executedBy: execution.ExecutedBy ?? null,
    },
  };
}
