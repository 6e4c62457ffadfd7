/**
 * SSM Automation for tests that call the remediation Lambda directly: moto has no Automation
 * executions, so an SSM client instance is mocked (aws-sdk-client-mock) to answer
 * GetAutomationExecution and DescribeDocument in the documented shapes, for executions of
 * keyage's real documents (their YAML files, defaults included) that the test "starts".
 *
 * `start()` returns the execution ID and the exact payload the document's invoke step would
 * send, so a test invokes the Lambda as Automation would; anything else is a hand-made payload.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DescribeDocumentCommand, GetAutomationExecutionCommand, type ServiceInputTypes, type ServiceOutputTypes, SSMClient, type SSMClientResolvedConfig } from '@aws-sdk/client-ssm';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME, KEYAGE_DOCUMENTS, payloadFor } from '../../remediation/documents';
import { loadRunbook } from './ssm-runner';

const FILES: Record<string, string> = {
  [DEACTIVATE_RUNBOOK_NAME]: join(__dirname, '../../remediation/runbooks/deactivate-stale-access-keys.yaml'),
  [DELETE_RUNBOOK_NAME]: join(__dirname, '../../remediation/runbooks/delete-deactivated-access-keys.yaml'),
};

interface FakeExecution {
  documentName: string;
  parameters: Record<string, string>;
  status: 'InProgress' | 'Success' | 'Failed';
  currentStep: string | undefined;
}

/** A fake of SSM Automation's read side for keyage's documents. */
export class AutomationFake {
  public readonly client: SSMClient;
  public readonly mock: AwsStub<ServiceInputTypes, ServiceOutputTypes, SSMClientResolvedConfig>;
  private readonly executions = new Map<string, FakeExecution>();

  /** @param defaults document defaults as a deployment sets them (by document name), over the files' own. */
  constructor(private readonly defaults: Record<string, Record<string, string>> = {}) {
    this.client = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    this.mock = mockClient(this.client);
    this.mock.on(GetAutomationExecutionCommand).callsFake((input: { AutomationExecutionId: string }) => {
      const e = this.executions.get(input.AutomationExecutionId);
      if (!e) throw Object.assign(new Error(`Execution ${input.AutomationExecutionId} not found`), { name: 'AutomationExecutionNotFoundException', $metadata: {} });
      const step = KEYAGE_DOCUMENTS[e.documentName]?.invokeStep;
      return {
        AutomationExecution: {
          AutomationExecutionId: input.AutomationExecutionId,
          DocumentName: e.documentName,
          DocumentVersion: '3',
          AutomationExecutionStatus: e.status,
          Mode: 'Auto',
          ExecutedBy: 'arn:aws:sts::123456789012:assumed-role/keyage-test/fake',
          Parameters: Object.fromEntries(Object.entries(e.parameters).map(([k, v]) => [k, [v]])),
          StepExecutionsTruncated: false,
          ...(e.currentStep ? { CurrentStepName: e.currentStep, CurrentAction: 'aws:invokeLambdaFunction' } : {}),
          StepExecutions: step ? [{ StepName: step, Action: 'aws:invokeLambdaFunction', StepStatus: e.currentStep === step ? 'InProgress' : e.status === 'InProgress' ? 'Pending' : e.status }] : [],
        },
      };
    });
    this.mock.on(DescribeDocumentCommand).callsFake((input: { Name: string; DocumentVersion?: string }) => ({
      Document: {
        Name: input.Name,
        DocumentVersion: input.DocumentVersion ?? '3',
        DocumentType: 'Automation',
        Status: 'Active',
        Parameters: Object.entries(this.documentDefaults(input.Name)).map(([Name, DefaultValue]) => ({ Name, Type: 'String', DefaultValue })),
      },
    }));
  }

  /** The defaults the deployed document declares. */
  documentDefaults(documentName: string): Record<string, string> {
    const file = FILES[documentName];
    const fromFile: Record<string, string> = {};
    if (file) {
      for (const [name, spec] of Object.entries(loadRunbook(file).parameters ?? {})) if (spec.default !== undefined) fromFile[name] = String(spec.default);
    }
    return { ...fromFile, ...(this.defaults[documentName] ?? {}) };
  }

  /**
   * Start an execution of a keyage document with the parameters a caller supplies; it is
   * running its invoke step. Returns its ID and the payload that step sends.
   */
  start(documentName: string, supplied: Record<string, string>): { id: string; payload: Record<string, string> } {
    const id = randomUUID();
    this.executions.set(id, { documentName, parameters: supplied, status: 'InProgress', currentStep: KEYAGE_DOCUMENTS[documentName]?.invokeStep });
    const effective = { ...this.documentDefaults(documentName), ...supplied };
    // Another document (an attacker's): its "payload" is whatever it was given.
    return { id, payload: KEYAGE_DOCUMENTS[documentName] ? payloadFor(documentName, effective, id) : { ...effective, AutomationExecutionId: id } };
  }

  /** Move an execution on: its invoke step is over. */
  finish(id: string, status: 'Success' | 'Failed' = 'Success'): void {
    const e = this.executions.get(id);
    if (e) Object.assign(e, { status, currentStep: undefined });
  }
}
