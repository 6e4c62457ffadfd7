/**
 * A small SSM Automation runner for tests: it executes a runbook (schemaVersion 0.3) step by
 * step, the way Automation does, for exactly the actions keyage's runbooks use:
 *
 *   - aws:invokeLambdaFunction → a local function (the remediation handler), with the payload
 *     and the result passed through JSON as Lambda does; `Payload` is the result as a string;
 *   - aws:executeScript (Python) → the script's handler run by a local `python3`;
 *   - aws:executeAwsApi → the real SDK v3 command (`<Api>Command` of the service's client),
 *     so a step against moto_server sends a real request;
 *
 * with parameter validation (required, type, allowedValues, allowedPattern, unknown names),
 * `{{ … }}` substitution (parameters, earlier steps' outputs, automation:EXECUTION_ID),
 * output selectors and types, onFailure / isEnd / nextStep, and the document's outputs.
 * Anything it does not model (another action, another invocation type, an unresolved
 * reference) fails the run, so a runbook cannot pass a test by using it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DescribeDocumentCommandOutput, GetAutomationExecutionCommandOutput } from '@aws-sdk/client-ssm';
import { parse as parseYaml } from 'yaml';

export type ParameterType = 'String' | 'StringList' | 'Boolean' | 'Integer' | 'MapList' | 'StringMap';

export interface ParameterSpec {
  type: ParameterType;
  description?: string;
  default?: unknown;
  allowedValues?: unknown[];
  allowedPattern?: string;
}

export interface StepOutputSpec {
  Name: string;
  Selector: string;
  Type: ParameterType;
}

export interface AutomationStep {
  name: string;
  action: string;
  description?: string;
  inputs: Record<string, unknown>;
  outputs?: StepOutputSpec[];
  onFailure?: string;
  nextStep?: string;
  isEnd?: boolean | string;
  maxAttempts?: number;
  timeoutSeconds?: number | string;
}

export interface AutomationDocument {
  schemaVersion: string;
  description?: string;
  assumeRole?: string;
  parameters?: Record<string, ParameterSpec>;
  mainSteps: AutomationStep[];
  outputs?: string[];
}

/**
 * The running execution as SSM describes it, in the SDK's shapes: what `ssm:GetAutomationExecution`
 * and `ssm:DescribeDocument` answer while a step runs. `Parameters` holds only the values the
 * caller supplied (as the API reference describes it); defaults come from the document.
 */
export interface ExecutionView {
  execution(): NonNullable<GetAutomationExecutionCommandOutput['AutomationExecution']>;
  document(): NonNullable<DescribeDocumentCommandOutput['Document']>;
}

/** Where the runner sends what the steps ask for. */
export interface RunnerEnvironment {
  /**
   * Invoke a Lambda function by name/ARN with a JSON payload; return its result or throw its
   * error. `view` describes the execution as SSM would while this step runs.
   */
  invokeLambda?: (functionName: string, payload: unknown, view: ExecutionView) => Promise<unknown>;
  /** The document's name in SSM. @default 'keyage-test-document' */
  documentName?: string;
  /** @default '1' */
  documentVersion?: string;
  /** SDK v3 clients by executeAwsApi `Service` name (`iam`, `config`, …). */
  awsClients?: Record<string, { send: (command: never) => Promise<unknown> }>;
  /** The SDK v3 modules holding the commands, by `Service` name, e.g. `{ iam: require('@aws-sdk/client-iam') }`. */
  awsModules?: Record<string, Record<string, unknown>>;
  /** @default 'python3' */
  python?: string;
  /** @default a fixed UUID */
  executionId?: string;
  /**
   * Whether a function error fails an aws:invokeLambdaFunction step by itself. Automation's
   * documentation only promises a `FunctionError` output, so by default the step succeeds and
   * the runbook must notice the error itself.
   * @default false
   */
  lambdaErrorFailsStep?: boolean;
}

export interface StepExecution {
  readonly name: string;
  readonly action: string;
  readonly status: 'Success' | 'Failed';
  /** The inputs after substitution: what the step actually sent. */
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
  readonly failureMessage?: string;
  readonly attempts: number;
}

export interface AutomationExecution {
  readonly status: 'Success' | 'Failed';
  readonly failureMessage?: string;
  readonly parameters: Record<string, unknown>;
  readonly steps: StepExecution[];
  /** The document's `outputs`, by `Step.Output` name. */
  readonly outputs: Record<string, unknown>;
}

/** The actions this runner executes. */
export const SUPPORTED_ACTIONS = ['aws:invokeLambdaFunction', 'aws:executeScript', 'aws:executeAwsApi'] as const;

/** Outputs each action has without declaring them. */
const BUILT_IN_OUTPUTS: Record<string, string[]> = {
  'aws:invokeLambdaFunction': ['StatusCode', 'FunctionError', 'LogResult', 'ExecutedVersion', 'Payload'],
  'aws:executeScript': ['OutputPayload'],
  'aws:executeAwsApi': [],
};

const AUTOMATION_VARIABLES = ['automation:EXECUTION_ID', 'automation:DOCUMENT_NAME', 'global:ACCOUNT_ID', 'global:REGION', 'global:DATE_TIME'];

const REFERENCE = /\{\{\s*([^{}\s]+)\s*\}\}/g;
const WHOLE_REFERENCE = /^\{\{\s*([^{}\s]+)\s*\}\}$/;

/** Read a runbook file. */
export function loadRunbook(path: string): AutomationDocument {
  return parseYaml(readFileSync(path, 'utf8')) as AutomationDocument;
}

/** Every `{{ … }}` reference in the document, with where it is. */
export function documentReferences(doc: AutomationDocument): { where: string; reference: string }[] {
  const found: { where: string; reference: string }[] = [];
  const walk = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      for (const m of value.matchAll(REFERENCE)) found.push({ where, reference: m[1] as string });
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${where}[${i}]`));
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
    }
  };
  walk(doc.assumeRole, 'assumeRole');
  doc.mainSteps.forEach((s) => walk(s.inputs, `mainSteps.${s.name}.inputs`));
  return found;
}

/**
 * Problems with the document's references: every `{{ X }}` must name a parameter, an
 * automation variable, or an output of an EARLIER step; every document output must name a
 * declared step output. Returns one sentence per problem (empty when all is well).
 */
export function checkReferences(doc: AutomationDocument): string[] {
  const problems: string[] = [];
  const params = new Set(Object.keys(doc.parameters ?? {}));
  const names = doc.mainSteps.map((s) => s.name);
  if (new Set(names).size !== names.length) problems.push(`step names are not unique: ${names.join(', ')}`);
  const outputsOf = (step: AutomationStep) => new Set([...(BUILT_IN_OUTPUTS[step.action] ?? []), ...(step.outputs ?? []).map((o) => o.Name)]);
  const available = new Set<string>();
  const check = (reference: string, where: string) => {
    if (params.has(reference) || AUTOMATION_VARIABLES.includes(reference) || available.has(reference)) return;
    const [stepName] = reference.split('.');
    const later = doc.mainSteps.find((s) => s.name === stepName);
    problems.push(
      later
        ? `${where} refers to {{ ${reference} }}, which is not an output of an earlier step`
        : `${where} refers to {{ ${reference} }}, which is neither a parameter nor a step output`,
    );
  };
  if (doc.assumeRole) for (const m of doc.assumeRole.matchAll(REFERENCE)) check(m[1] as string, 'assumeRole');
  for (const step of doc.mainSteps) {
    for (const r of documentReferences({ ...doc, assumeRole: undefined, mainSteps: [step] })) check(r.reference, r.where);
    for (const o of outputsOf(step)) available.add(`${step.name}.${o}`);
    if (step.nextStep && !names.includes(step.nextStep)) problems.push(`step ${step.name}: nextStep ${step.nextStep} does not exist`);
  }
  for (const out of doc.outputs ?? []) {
    if (!available.has(out)) problems.push(`document output ${out} is not a step output`);
  }
  return problems;
}

/** Run the document with `parameters` (values as a caller of StartAutomationExecution gives them). */
export async function runAutomation(doc: AutomationDocument, parameters: Record<string, unknown>, env: RunnerEnvironment = {}): Promise<AutomationExecution> {
  if (doc.schemaVersion !== '0.3') throw new Error(`schemaVersion must be '0.3', got ${JSON.stringify(doc.schemaVersion)}`);
  const resolved = resolveParameters(doc.parameters ?? {}, parameters);
  const variables = new Map<string, unknown>(Object.entries(resolved));
  const executionId = env.executionId ?? '5a5a5a5a-0000-4000-8000-000000000001';
  variables.set('automation:EXECUTION_ID', executionId);
  const steps: StepExecution[] = [];
  const started = new Date();
  let current: AutomationStep | undefined;
  const view: ExecutionView = {
    execution: () => ({
      AutomationExecutionId: executionId,
      DocumentName: env.documentName ?? 'keyage-test-document',
      DocumentVersion: env.documentVersion ?? '1',
      ExecutionStartTime: started,
      AutomationExecutionStatus: 'InProgress',
      Mode: 'Auto',
      ExecutedBy: 'arn:aws:sts::123456789012:assumed-role/keyage-test/runner',
      Parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [String(v)]])),
      StepExecutionsTruncated: false,
      ...(current ? { CurrentStepName: current.name, CurrentAction: current.action } : {}),
      StepExecutions: [
        ...steps.map((st) => ({ StepName: st.name, Action: st.action, StepStatus: st.status, Inputs: stringMap(st.inputs) })),
        ...(current ? [{ StepName: current.name, Action: current.action, StepStatus: 'InProgress' as const }] : []),
      ],
    }),
    document: () => ({
      Name: env.documentName ?? 'keyage-test-document',
      DocumentVersion: env.documentVersion ?? '1',
      DocumentType: 'Automation',
      Status: 'Active',
      SchemaVersion: doc.schemaVersion,
      Parameters: Object.entries(doc.parameters ?? {}).map(([name, spec]) => ({
        Name: name,
        // DescribeDocument's DocumentParameterType lists String and StringList only.
        Type: spec.type === 'StringList' ? ('StringList' as const) : ('String' as const),
        ...(spec.description ? { Description: spec.description } : {}),
        ...(spec.default !== undefined ? { DefaultValue: String(spec.default) } : {}),
      })),
    }),
  };
  let index = 0;
  let failure: string | undefined;
  while (index < doc.mainSteps.length) {
    const step = doc.mainSteps[index] as AutomationStep;
    current = step;
    const execution = await runStep(step, variables, env, view);
    current = undefined;
    steps.push(execution);
    if (execution.status === 'Failed') {
      const onFailure = step.onFailure ?? 'Abort';
      if (onFailure === 'Continue') {
        index += 1;
        continue;
      }
      if (onFailure.startsWith('step:')) {
        index = stepIndex(doc, onFailure.slice(5));
        continue;
      }
      failure = `Step ${step.name} failed: ${execution.failureMessage}`;
      break;
    }
    for (const [name, value] of Object.entries(execution.outputs)) variables.set(`${step.name}.${name}`, value);
    if (step.isEnd === true || step.isEnd === 'true') break;
    index = step.nextStep ? stepIndex(doc, step.nextStep) : index + 1;
  }
  const outputs: Record<string, unknown> = {};
  if (!failure) {
    for (const name of doc.outputs ?? []) {
      if (!variables.has(name)) throw new Error(`document output ${name} was not produced`);
      outputs[name] = variables.get(name);
    }
  }
  return { status: failure ? 'Failed' : 'Success', ...(failure ? { failureMessage: failure } : {}), parameters: resolved, steps, outputs };
}

function stepIndex(doc: AutomationDocument, name: string): number {
  const i = doc.mainSteps.findIndex((s) => s.name === name);
  if (i < 0) throw new Error(`no step named ${name}`);
  return i;
}

/** Parameters as Automation validates them when an execution starts. */
export function resolveParameters(specs: Record<string, ParameterSpec>, given: Record<string, unknown>): Record<string, unknown> {
  for (const name of Object.keys(given)) {
    if (!(name in specs)) throw new Error(`Parameter ${name} is not defined in the document (defined: ${Object.keys(specs).join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = name in given ? given[name] : spec.default;
    if (value === undefined) throw new Error(`Parameter ${name} is required`);
    checkType(value, spec.type, `Parameter ${name}`);
    if (spec.allowedValues && !spec.allowedValues.includes(value)) {
      throw new Error(`Parameter ${name} value ${JSON.stringify(value)} is not one of ${JSON.stringify(spec.allowedValues)}`);
    }
    if (spec.allowedPattern !== undefined && typeof value === 'string' && !new RegExp(spec.allowedPattern).test(value)) {
      throw new Error(`Parameter ${name} value ${JSON.stringify(value)} does not match ${spec.allowedPattern}`);
    }
    out[name] = value;
  }
  return out;
}

function stringMap(inputs: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

async function runStep(step: AutomationStep, variables: Map<string, unknown>, env: RunnerEnvironment, view: ExecutionView): Promise<StepExecution> {
  const attempts = Math.max(1, step.maxAttempts ?? 1);
  let inputs: Record<string, unknown> = {};
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      inputs = substitute(step.inputs, variables, `step ${step.name}`) as Record<string, unknown>;
      const raw = await perform(step, inputs, env, view);
      const outputs: Record<string, unknown> = { ...raw.builtIn };
      for (const spec of step.outputs ?? []) {
        const value = select(raw.selectable, spec.Selector, `step ${step.name} output ${spec.Name}`);
        checkType(value, spec.Type, `step ${step.name} output ${spec.Name}`);
        outputs[spec.Name] = value;
      }
      return { name: step.name, action: step.action, status: 'Success', inputs, outputs, attempts: attempt };
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
  }
  return { name: step.name, action: step.action, status: 'Failed', inputs, outputs: {}, failureMessage: last, attempts };
}

async function perform(step: AutomationStep, inputs: Record<string, unknown>, env: RunnerEnvironment, view: ExecutionView): Promise<{ builtIn: Record<string, unknown>; selectable: unknown }> {
  switch (step.action) {
    case 'aws:invokeLambdaFunction':
      return invokeLambda(inputs, env, view);
    case 'aws:executeScript':
      return executeScript(inputs, env);
    case 'aws:executeAwsApi':
      return executeAwsApi(inputs, env);
    default:
      throw new Error(`action ${step.action} is not supported by this runner (supported: ${SUPPORTED_ACTIONS.join(', ')})`);
  }
}

async function invokeLambda(inputs: Record<string, unknown>, env: RunnerEnvironment, view: ExecutionView) {
  const { FunctionName, InvocationType, InputPayload, Payload, ...rest } = inputs;
  if (Object.keys(rest).length > 0) throw new Error(`aws:invokeLambdaFunction: unsupported inputs ${Object.keys(rest).join(', ')}`);
  if (typeof FunctionName !== 'string' || FunctionName === '') throw new Error('aws:invokeLambdaFunction: FunctionName must be a non-empty string');
  if (InvocationType !== undefined && InvocationType !== 'RequestResponse') throw new Error(`aws:invokeLambdaFunction: only RequestResponse is modelled, got ${String(InvocationType)}`);
  if (!env.invokeLambda) throw new Error('aws:invokeLambdaFunction: no invokeLambda in the runner environment');
  let event: unknown;
  if (InputPayload !== undefined) {
    if (!InputPayload || typeof InputPayload !== 'object' || Array.isArray(InputPayload)) throw new Error('aws:invokeLambdaFunction: InputPayload must be a map');
    event = InputPayload;
  } else if (Payload !== undefined) {
    if (typeof Payload !== 'string') throw new Error('aws:invokeLambdaFunction: Payload must be a JSON string');
    event = JSON.parse(Payload);
  } else {
    event = {};
  }
  // Lambda receives and returns JSON: no Dates, no undefined, no class instances survive.
  const wireEvent = JSON.parse(JSON.stringify(event)) as unknown;
  try {
    const result = await env.invokeLambda(FunctionName, wireEvent, view);
    const payload = JSON.stringify(result ?? null);
    return { builtIn: { StatusCode: 200, Payload: payload }, selectable: { StatusCode: 200, Payload: JSON.parse(payload) as unknown } };
  } catch (err) {
    const e = err as { name?: string; message?: string };
    const payload = JSON.stringify({ errorType: e.name ?? 'Error', errorMessage: e.message ?? String(err), trace: [] });
    if (env.lambdaErrorFailsStep) throw new Error(`Lambda function error: ${payload}`);
    return { builtIn: { StatusCode: 200, FunctionError: 'Unhandled', Payload: payload }, selectable: { StatusCode: 200, FunctionError: 'Unhandled', Payload: JSON.parse(payload) as unknown } };
  }
}

async function executeScript(inputs: Record<string, unknown>, env: RunnerEnvironment) {
  const { Runtime, Handler, Script, InputPayload, ...rest } = inputs;
  if (Object.keys(rest).length > 0) throw new Error(`aws:executeScript: unsupported inputs ${Object.keys(rest).join(', ')}`);
  if (typeof Runtime !== 'string' || !/^python3\.\d+$/.test(Runtime)) throw new Error(`aws:executeScript: only Python runtimes are modelled, got ${String(Runtime)}`);
  if (typeof Handler !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(Handler)) throw new Error('aws:executeScript: Handler must be a function name');
  if (typeof Script !== 'string') throw new Error('aws:executeScript: Script must be inline Python');
  const events = InputPayload ?? {};
  const dir = mkdtempSync(join(tmpdir(), 'keyage-ssm-script-'));
  try {
    writeFileSync(join(dir, 'runbook_script.py'), Script);
    const driver = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(dir)})`,
      'import runbook_script',
      'events = json.loads(sys.stdin.read())',
      `result = runbook_script.${Handler}(events, None)`,
      'sys.stdout.write(json.dumps(result))',
    ].join('\n');
    const run = spawnSync(env.python ?? 'python3', ['-c', driver], { input: JSON.stringify(events), encoding: 'utf8', timeout: 30_000 });
    if (run.error) throw new Error(`aws:executeScript: could not run ${env.python ?? 'python3'}: ${run.error.message}`);
    if (run.status !== 0) {
      const lines = run.stderr.trim().split('\n');
      throw new Error(`aws:executeScript: the script raised: ${lines[lines.length - 1] ?? ''}`);
    }
    const result = JSON.parse(run.stdout) as unknown;
    return { builtIn: { OutputPayload: JSON.stringify({ Payload: result }) }, selectable: { Payload: result } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function executeAwsApi(inputs: Record<string, unknown>, env: RunnerEnvironment) {
  const { Service, Api, ...params } = inputs;
  if (typeof Service !== 'string' || typeof Api !== 'string') throw new Error('aws:executeAwsApi: Service and Api must be strings');
  const client = env.awsClients?.[Service];
  const module = env.awsModules?.[Service];
  if (!client || !module) throw new Error(`aws:executeAwsApi: no client for service ${Service} in the runner environment`);
  const Command = module[`${Api}Command`] as (new (input: unknown) => unknown) | undefined;
  if (typeof Command !== 'function') throw new Error(`aws:executeAwsApi: ${Service} has no API ${Api}`);
  const response = { ...((await client.send(new Command(params) as never)) as Record<string, unknown>) };
  delete response.$metadata;
  const selectable = JSON.parse(JSON.stringify(response)) as unknown; // dates become ISO strings, as Automation shows them
  return { builtIn: {}, selectable };
}

/** Replace `{{ … }}` in every string; a string that is one whole reference takes the value's type. */
function substitute(value: unknown, variables: Map<string, unknown>, where: string): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_REFERENCE.exec(value);
    if (whole) return lookup(whole[1] as string, variables, where);
    return value.replace(REFERENCE, (_m, name: string) => {
      const v = lookup(name, variables, where);
      if (v !== null && typeof v === 'object') throw new Error(`${where}: {{ ${name} }} is not a string and cannot be embedded in text`);
      return String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, variables, where));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, variables, where)]));
  return value;
}

function lookup(name: string, variables: Map<string, unknown>, where: string): unknown {
  if (!variables.has(name)) throw new Error(`${where}: unresolved reference {{ ${name} }}`);
  return variables.get(name);
}

/** A JSONPath subset: `$`, `.Name`, `[n]`. */
export function select(root: unknown, selector: string, where: string): unknown {
  if (!selector.startsWith('$')) throw new Error(`${where}: selector ${selector} must start with $`);
  let value: unknown = root;
  const parts = selector.slice(1).match(/\.[A-Za-z0-9_]+|\[\d+\]/g) ?? [];
  if (parts.join('') !== selector.slice(1)) throw new Error(`${where}: selector ${selector} is outside the modelled JSONPath subset`);
  for (const part of parts) {
    if (value === null || typeof value !== 'object') throw new Error(`${where}: selector ${selector} finds nothing`);
    value = part.startsWith('[') ? (value as unknown[])[Number(part.slice(1, -1))] : (value as Record<string, unknown>)[part.slice(1)];
    if (value === undefined) throw new Error(`${where}: selector ${selector} finds nothing`);
  }
  return value;
}

function checkType(value: unknown, type: ParameterType, where: string): void {
  const isMap = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const ok =
    (type === 'String' && typeof value === 'string') ||
    (type === 'Integer' && Number.isInteger(value)) ||
    (type === 'Boolean' && typeof value === 'boolean') ||
    (type === 'StringList' && Array.isArray(value) && value.every((v) => typeof v === 'string')) ||
    (type === 'MapList' && Array.isArray(value) && value.every(isMap)) ||
    (type === 'StringMap' && isMap(value));
  if (!ok) throw new Error(`${where}: ${JSON.stringify(value)?.slice(0, 80)} is not of type ${type}`);
}
