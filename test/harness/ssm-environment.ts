/**
 * The environment keyage's runbooks run in, for `runAutomation`: the remediation Lambda is the
 * local handler (real SDK clients, against moto_server in integration tests), aws:executeAwsApi
 * steps go to the real SDK clients, aws:executeScript steps to a local python3.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as configModule from '@aws-sdk/client-config-service';
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import * as iamModule from '@aws-sdk/client-iam';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import { DescribeDocumentCommand, GetAutomationExecutionCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { silentLogger } from '../../lib/log';
import { DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME } from '../../remediation/documents';
import { createHandler } from '../../remediation/handler';
import { type AutomationDocument, type ExecutionView, loadRunbook, type RunnerEnvironment } from './ssm-runner';

export const RUNBOOK_DIR = join(__dirname, '..', '..', 'remediation', 'runbooks');
export const DEACTIVATE_RUNBOOK = 'deactivate-stale-access-keys.yaml';
export const DELETE_RUNBOOK = 'delete-deactivated-access-keys.yaml';

/** The name the member stack gives each runbook file's document. */
export const DOCUMENT_NAMES: Readonly<Record<string, string>> = { [DEACTIVATE_RUNBOOK]: DEACTIVATE_RUNBOOK_NAME, [DELETE_RUNBOOK]: DELETE_RUNBOOK_NAME };

/** The function name the runbooks call by default. */
export const DEFAULT_FUNCTION_NAME = 'keyage-remediation';

export function loadKeyageRunbook(file: string): AutomationDocument {
  return loadRunbook(join(RUNBOOK_DIR, file));
}

/** Why python3 cannot run runbook scripts here, or undefined when it can. */
export const pythonUnavailable: string | undefined = (() => {
  const run = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (run.error) return `python3 could not be started: ${run.error.message}`;
  if (run.status !== 0) return `python3 --version exited with ${run.status}`;
  return undefined;
})();

/** `describe` when python3 is present; a clear skip locally, a failure under CI=true. */
export const describeWithPython: (name: string, fn: () => void) => void = (() => {
  if (!pythonUnavailable) return describe;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    return (name: string) =>
      describe(name, () => {
        it('needs python3 to run the runbooks\' aws:executeScript steps', () => {
          throw new Error(`${pythonUnavailable}; install Python 3`);
        });
      });
  }
  return (name: string, fn: () => void) => describe.skip(`${name} [SKIPPED: ${pythonUnavailable}]`, fn);
})();

export interface RemediationEnvironmentOptions {
  iam: IAMClient;
  config: ConfigServiceClient;
  /** The KMS client that holds the record key. */
  kms: KMSClient;
  /** The record key's ARN (`createRecordKey`). */
  recordKeyArn: string;
  /** The runbook file being run: its document name is what the execution reports. */
  runbook: string;
  /** The remediation's decision clock. */
  now: () => Date;
  lambdaErrorFailsStep?: boolean;
  /** Called with every payload the runbook sends the Lambda. */
  onInvoke?: (payload: unknown) => void;
}

/**
 * An SSM client that answers GetAutomationExecution and DescribeDocument from the runner's view
 * of the execution being run (moto has no Automation executions).
 */
export function ssmServing(view: ExecutionView): SSMClient {
  const client = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(client);
  mock.on(GetAutomationExecutionCommand).callsFake((input: { AutomationExecutionId: string }) => {
    const execution = view.execution();
    if (input.AutomationExecutionId !== execution.AutomationExecutionId) {
      throw Object.assign(new Error('not found'), { name: 'AutomationExecutionNotFoundException', $metadata: {} });
    }
    return { AutomationExecution: execution };
  });
  mock.on(DescribeDocumentCommand).callsFake((input: { Name: string }) => {
    const document = view.document();
    if (input.Name !== document.Name) throw Object.assign(new Error('not found'), { name: 'InvalidDocument', $metadata: {} });
    return { Document: document };
  });
  return client;
}

/** Runner environment wired to the local remediation handler and the given clients. */
export function remediationEnvironment(options: RemediationEnvironmentOptions): RunnerEnvironment {
  const documentName = DOCUMENT_NAMES[options.runbook];
  if (!documentName) throw new Error(`no document name for runbook ${options.runbook}`);
  return {
    documentName,
    invokeLambda: async (functionName, payload, view) => {
      if (functionName !== DEFAULT_FUNCTION_NAME) {
        throw Object.assign(new Error(`Function not found: ${functionName}`), { name: 'ResourceNotFoundException' });
      }
      options.onInvoke?.(payload);
      const lambda = createHandler({
        iam: options.iam,
        config: options.config,
        kms: options.kms,
        ssm: ssmServing(view),
        recordKeyArn: options.recordKeyArn,
        now: options.now,
        log: silentLogger,
        sleep: async () => undefined,
      });
      return lambda(payload);
    },
    awsClients: { iam: options.iam as never, config: options.config as never },
    awsModules: { iam: iamModule as unknown as Record<string, unknown>, config: configModule as unknown as Record<string, unknown> },
    ...(options.lambdaErrorFailsStep !== undefined ? { lambdaErrorFailsStep: options.lambdaErrorFailsStep } : {}),
  };
}
