/**
 * The runbooks themselves: valid SSM Automation documents, every reference resolvable, the
 * payload they send exactly what the Lambda accepts, and — executed step by step against
 * moto_server with the local Lambda — doing what their description says.
 */
import { readFileSync } from 'node:fs';
import { CreateAccessKeyCommand, CreateUserCommand, ListAccessKeysCommand, ListUserTagsCommand } from '@aws-sdk/client-iam';
import Ajv from 'ajv';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { parseExemptionTag } from '../../rules/access-key-age/parameters';
import { DEACTIVATE_PAYLOAD_FIELDS, DELETE_PAYLOAD_FIELDS, parseRemediationPayload } from '../../remediation/parameters';
import { AUTOMATION_ROLE_ACTIONS } from '../../remediation/permissions';
import { createRecordKey, describeWithMoto, type MotoAccount, newMotoAccount } from '../harness/moto';
import {
  DEACTIVATE_RUNBOOK,
  DELETE_RUNBOOK,
  describeWithPython,
  loadKeyageRunbook,
  remediationEnvironment,
} from '../harness/ssm-environment';
import { type AutomationDocument, type AutomationStep, checkReferences, resolveParameters, runAutomation } from '../harness/ssm-runner';

const SCHEMA_PATH = require.resolve('aws-ssm-document-language-service/dist/schema.json');

/**
 * The SSM document schema shipped by aws-ssm-document-language-service, with one correction:
 * its aws:executeScript Runtime list stops at python3.7, which Automation no longer runs
 * (python3.6-3.8 could not be used in new runbooks from 2024-12-04 nor run from 2025-02-18;
 * AWS recommends python3.11). Every other rule is the package's own.
 */
function automationSchema(): Record<string, unknown> {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as {
    properties: { mainSteps: { items: { allOf: { if: { properties: { action: { const: string } } }; then: { properties: { inputs: { properties: Record<string, { oneOf?: { enum?: string[] }[] }> } } } }[] } } };
  };
  const rule = schema.properties.mainSteps.items.allOf.find((c) => c.if.properties.action.const === 'aws:executeScript');
  const runtime = rule?.then.properties.inputs.properties.Runtime?.oneOf?.[0];
  if (!runtime?.enum) throw new Error('the schema no longer has the aws:executeScript Runtime list this test corrects; look again');
  runtime.enum = ['python3.11', 'python3.10', 'python3.9', 'PowerShell 7.4', 'PowerShell Core 6.0'];
  return schema as unknown as Record<string, unknown>;
}

const validate = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false }).compile(automationSchema());

const RUNBOOKS = [DEACTIVATE_RUNBOOK, DELETE_RUNBOOK] as const;
const CONTRACT_PARAMETERS: Record<(typeof RUNBOOKS)[number], string[]> = {
  [DEACTIVATE_RUNBOOK]: ['IAMResourceId', 'MaxAccessKeyAge', 'ExemptionTag', 'DryRun', 'AutomationAssumeRole', 'RemediationFunction'],
  [DELETE_RUNBOOK]: ['IAMUser', 'GracePeriodDays', 'ExemptionTag', 'DryRun', 'AutomationAssumeRole', 'RemediationFunction'],
};

function step(doc: AutomationDocument, action: string): AutomationStep {
  const found = doc.mainSteps.find((s) => s.action === action);
  if (!found) throw new Error(`no ${action} step`);
  return found;
}

describe('runbook documents', () => {
  it.each(RUNBOOKS)('%s is a valid schemaVersion 0.3 Automation document', (file) => {
    const doc = loadKeyageRunbook(file);
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(doc.schemaVersion).toBe('0.3');
    expect(doc.assumeRole).toBe('{{ AutomationAssumeRole }}');
  });

  it('the schema check can fail: a misspelled action and a Boolean default given as a string are rejected', () => {
    const doc = loadKeyageRunbook(DEACTIVATE_RUNBOOK);
    expect(validate({ ...doc, mainSteps: [{ ...doc.mainSteps[0], action: 'aws:invokeLambda' }] })).toBe(false);
    expect(validate({ ...doc, parameters: { ...doc.parameters, DryRun: { type: 'Boolean', default: 'true' } } })).toBe(false);
  });

  it.each(RUNBOOKS)('%s has exactly the parameters of the contract, and DryRun defaults to "true"', (file) => {
    const doc = loadKeyageRunbook(file);
    expect(Object.keys(doc.parameters ?? {})).toEqual(CONTRACT_PARAMETERS[file]);
    expect(doc.parameters?.DryRun).toMatchObject({ type: 'String', default: 'true', allowedValues: ['true', 'false'] });
    expect(doc.parameters?.RemediationFunction).toMatchObject({ type: 'String', default: 'keyage-remediation' });
  });

  it.each(RUNBOOKS)('every {{ reference }} in %s resolves to a parameter or an earlier step output', (file) => {
    expect(checkReferences(loadKeyageRunbook(file))).toEqual([]);
  });

  it('the reference check can fail: a misspelled parameter and a forward reference are reported', () => {
    const doc = loadKeyageRunbook(DEACTIVATE_RUNBOOK);
    const [first, second, third] = doc.mainSteps as [AutomationStep, AutomationStep, AutomationStep];
    const broken: AutomationDocument = {
      ...doc,
      mainSteps: [
        { ...first, inputs: { ...first.inputs, InputPayload: { ...(first.inputs.InputPayload as object), DryRun: '{{ Dryrun }}' } } },
        { ...second, inputs: { ...second.inputs, InputPayload: { Payload: '{{ ReadKeysBack.AccessKeys }}' } } },
        third,
      ],
    };
    expect(checkReferences(broken)).toEqual([
      'mainSteps.DeactivateStaleKeys.inputs.InputPayload.DryRun refers to {{ Dryrun }}, which is neither a parameter nor a step output',
      'mainSteps.CheckResult.inputs.InputPayload.Payload refers to {{ ReadKeysBack.AccessKeys }}, which is not an output of an earlier step',
    ]);
  });

  it.each([
    [DEACTIVATE_RUNBOOK, DEACTIVATE_PAYLOAD_FIELDS],
    [DELETE_RUNBOOK, DELETE_PAYLOAD_FIELDS],
  ] as const)('%s sends the Lambda exactly the fields it accepts', (file, fields) => {
    const payload = step(loadKeyageRunbook(file), 'aws:invokeLambdaFunction').inputs.InputPayload as Record<string, unknown>;
    expect(Object.keys(payload).sort()).toEqual([...fields].sort());
  });

  it.each(RUNBOOKS)('%s: with default parameters, the Lambda accepts the payload as substituted', (file) => {
    const doc = loadKeyageRunbook(file);
    const params = resolveParameters(doc.parameters ?? {}, file === DEACTIVATE_RUNBOOK ? { IAMResourceId: 'AIDAJQABLZS4A3QDU576Q' } : {});
    const template = step(doc, 'aws:invokeLambdaFunction').inputs.InputPayload as Record<string, string>;
    const payload = Object.fromEntries(
      Object.entries(template).map(([k, v]) => [k, v.replace(/\{\{\s*([^}\s]+)\s*\}\}/g, (_m, name: string) => String(params[name] ?? 'exec-id'))]),
    );
    expect(parseRemediationPayload(payload)).toMatchObject({ operation: file === DEACTIVATE_RUNBOOK ? 'deactivate' : 'delete', dryRun: true });
  });

  it('both runbooks check the Lambda result with the same script', () => {
    const script = (file: string) => step(loadKeyageRunbook(file), 'aws:executeScript').inputs.Script;
    expect(script(DEACTIVATE_RUNBOOK)).toBe(script(DELETE_RUNBOOK));
    expect(step(loadKeyageRunbook(DEACTIVATE_RUNBOOK), 'aws:executeScript').inputs.Runtime).toBe('python3.11');
  });

  it('the assume role needs exactly lambda:InvokeFunction plus the APIs the aws:executeAwsApi steps call', () => {
    const apis = RUNBOOKS.flatMap((f) =>
      loadKeyageRunbook(f)
        .mainSteps.filter((s) => s.action === 'aws:executeAwsApi')
        .map((s) => `${String(s.inputs.Service)}:${String(s.inputs.Api)}`),
    );
    expect([...AUTOMATION_ROLE_ACTIONS].sort()).toEqual(['lambda:InvokeFunction', ...new Set(apis)].sort());
  });

  it('the ExemptionTag pattern accepts what the rule accepts (ASCII) and rejects what it rejects', () => {
    const pattern = new RegExp(loadKeyageRunbook(DEACTIVATE_RUNBOOK).parameters?.ExemptionTag?.allowedPattern ?? '');
    for (const ok of ['', 'keyage-exempt', 'keyage:exempt=true', 'team/owner=a b@c.d+e']) {
      expect(pattern.test(ok)).toBe(true);
      expect(() => parseExemptionTag(ok)).not.toThrow();
    }
    for (const bad of ['a"b', 'x;rm', '{{ evil }}', 'tag\nnext']) expect(pattern.test(bad)).toBe(false);
  });

  it('parameter validation refuses to start with a bad value, an unknown parameter, or a missing user ID', () => {
    const doc = loadKeyageRunbook(DEACTIVATE_RUNBOOK);
    expect(() => resolveParameters(doc.parameters ?? {}, { IAMResourceId: 'AIDAJQABLZS4A3QDU576Q', MaxAccessKeyAge: 'ninety' })).toThrow('MaxAccessKeyAge');
    expect(() => resolveParameters(doc.parameters ?? {}, { IAMResourceId: 'AIDAJQABLZS4A3QDU576Q', DryRun: 'yes' })).toThrow('DryRun');
    expect(() => resolveParameters(doc.parameters ?? {}, { IAMResourceId: 'AIDAJQABLZS4A3QDU576Q', GracePeriodDays: '3' })).toThrow('not defined');
    expect(() => resolveParameters(doc.parameters ?? {}, {})).toThrow('Parameter IAMResourceId is required');
  });
});

describeWithPython('runbook execution', () => {
  describeWithMoto('against moto_server, with the local remediation Lambda', () => {
    /** Day 0 is when the test's first key was created; moto cannot backdate keys, so the clock moves instead. */
    let t0 = 0;
    const day = (n: number) => new Date(t0 + n * DAY_MS);

    async function userWithKey(account: MotoAccount, name: string) {
      const user = await account.iam.send(new CreateUserCommand({ UserName: name }));
      const key = await account.iam.send(new CreateAccessKeyCommand({ UserName: name }));
      t0 ||= (key.AccessKey?.CreateDate as Date).getTime();
      return { userId: user.User?.UserId as string, accessKeyId: key.AccessKey?.AccessKeyId as string };
    }

    beforeEach(() => {
      t0 = 0;
    });

    async function keyStatus(account: MotoAccount, name: string) {
      const out = await account.iam.send(new ListAccessKeysCommand({ UserName: name }));
      return (out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status]);
    }

    it('runbook 1 with DryRun "true" reports the deactivation it would make and changes nothing', async () => {
      const account = await newMotoAccount();
      const { userId, accessKeyId } = await userWithKey(account, 'dev');
      const payloads: unknown[] = [];
      const run = await runAutomation(loadKeyageRunbook(DEACTIVATE_RUNBOOK), { IAMResourceId: userId }, remediationEnvironment({ ...account, recordKeyArn: await createRecordKey(account), runbook: DEACTIVATE_RUNBOOK, now: () => day(91), onInvoke: (p) => payloads.push(p) }));
      expect(run.failureMessage).toBeUndefined();
      expect(run.status).toBe('Success');
      expect(payloads).toEqual([
        { Operation: 'deactivate', IAMResourceId: userId, MaxAccessKeyAge: '90', ExemptionTag: '', DryRun: 'true', AutomationExecutionId: '5a5a5a5a-0000-4000-8000-000000000001' },
      ]);
      expect(run.outputs['CheckResult.Summary']).toBe(`DRY RUN, nothing changed: user dev: would deactivate 1 key (${accessKeyId}); 0 keys left as they are.`);
      expect(run.outputs['CheckResult.Actions']).toEqual([expect.objectContaining({ accessKeyId, action: 'deactivate', applied: 'false', ageDays: '91', status: 'Active', lastUsed: '' })]);
      expect(await keyStatus(account, 'dev')).toEqual([[accessKeyId, 'Active']]);
      expect(run.outputs['ReadKeysBack.AccessKeys']).toEqual([expect.objectContaining({ AccessKeyId: accessKeyId, Status: 'Active', UserName: 'dev' })]);
    });

    it('runbook 1 with DryRun "false" records and deactivates the stale key, and reads the result back', async () => {
      const account = await newMotoAccount();
      const { userId, accessKeyId } = await userWithKey(account, 'dev');
      const run = await runAutomation(
        loadKeyageRunbook(DEACTIVATE_RUNBOOK),
        { IAMResourceId: userId, DryRun: 'false' },
        remediationEnvironment({ ...account, recordKeyArn: await createRecordKey(account), runbook: DEACTIVATE_RUNBOOK, now: () => day(91) }),
      );
      expect(run.status).toBe('Success');
      expect(run.outputs['CheckResult.Status']).toBe('Success');
      expect(run.outputs['CheckResult.Alerts']).toEqual([]);
      expect(run.outputs['CheckResult.Summary']).toBe(`user dev: deactivated 1 key (${accessKeyId}); 0 keys left as they are.`);
      expect(run.outputs['ReadKeysBack.AccessKeys']).toEqual([expect.objectContaining({ AccessKeyId: accessKeyId, Status: 'Inactive' })]);
      const tags = await account.iam.send(new ListUserTagsCommand({ UserName: 'dev' }));
      expect(tags.Tags).toEqual([{ Key: `keyage:deactivated:${accessKeyId}`, Value: expect.stringMatching(new RegExp(`^${day(91).toISOString().replace(/\./g, '\\.')} v1 [A-Za-z0-9+/]{43}=$`)) }]);
    });

    it.each([false, true])('an unknown user ID fails the execution with the Lambda\'s NoSuchUser message (function error fails the step by itself: %p)', async (lambdaErrorFailsStep) => {
      const account = await newMotoAccount();
      const run = await runAutomation(
        loadKeyageRunbook(DEACTIVATE_RUNBOOK),
        { IAMResourceId: 'AIDANOSUCHUSER000001', DryRun: 'false' },
        remediationEnvironment({ ...account, recordKeyArn: await createRecordKey(account), runbook: DEACTIVATE_RUNBOOK, now: () => day(91), lambdaErrorFailsStep }),
      );
      expect(run.status).toBe('Failed');
      expect(run.failureMessage).toContain(lambdaErrorFailsStep ? 'Step DeactivateStaleKeys failed' : 'Step CheckResult failed');
      expect(run.failureMessage).toContain('NoSuchUserError');
      expect(run.failureMessage).toContain('IAM user AIDANOSUCHUSER000001 does not exist in this account.');
      expect(run.steps.map((s) => s.name)).not.toContain('ReadKeysBack');
    });

    it('runbook 2 for every user deletes, after the grace period, the key runbook 1 deactivated', async () => {
      const account = await newMotoAccount();
      const { userId, accessKeyId } = await userWithKey(account, 'dev');
      await userWithKey(account, 'other');
      const recordKeyArn = await createRecordKey(account);
      const deactivate = await runAutomation(
        loadKeyageRunbook(DEACTIVATE_RUNBOOK),
        { IAMResourceId: userId, DryRun: 'false' },
        remediationEnvironment({ ...account, recordKeyArn, runbook: DEACTIVATE_RUNBOOK, now: () => day(91) }),
      );
      expect(deactivate.status).toBe('Success');
      const run = await runAutomation(loadKeyageRunbook(DELETE_RUNBOOK), { DryRun: 'false' }, remediationEnvironment({ ...account, recordKeyArn, runbook: DELETE_RUNBOOK, now: () => day(106) }));
      expect(run.status).toBe('Success');
      expect(run.outputs['CheckResult.Summary']).toBe(`1 user with deactivation records: deleted 1 key (${accessKeyId}); 0 keys left as they are.`);
      expect(await keyStatus(account, 'dev')).toEqual([]);
      expect((await keyStatus(account, 'other')).map(([, s]) => s)).toEqual(['Active']);
      expect((await account.iam.send(new ListUserTagsCommand({ UserName: 'dev' }))).Tags).toEqual([]);
    });

    it('a typo in a runbook\'s payload field fails the execution instead of being ignored', async () => {
      const account = await newMotoAccount();
      const { userId } = await userWithKey(account, 'dev');
      const doc = loadKeyageRunbook(DEACTIVATE_RUNBOOK);
      const [first, ...rest] = doc.mainSteps as [AutomationStep, ...AutomationStep[]];
      const { MaxAccessKeyAge, ...others } = first.inputs.InputPayload as Record<string, unknown>;
      const typo: AutomationDocument = { ...doc, mainSteps: [{ ...first, inputs: { ...first.inputs, InputPayload: { ...others, MaxKeyAge: MaxAccessKeyAge } } }, ...rest] };
      const run = await runAutomation(
        typo,
        { IAMResourceId: userId, DryRun: 'false' },
        remediationEnvironment({ ...account, recordKeyArn: await createRecordKey(account), runbook: DEACTIVATE_RUNBOOK, now: () => day(91) }),
      );
      expect(run.status).toBe('Failed');
      // The payload is not the one the document's step sends: the function refuses it before any IAM call.
      expect(run.failureMessage).toContain('UnverifiedInvocationError');
      expect(run.failureMessage).toContain("the payload's MaxAccessKeyAge is missing");
      expect(await keyStatus(account, 'dev')).toEqual([[expect.any(String), 'Active']]);
    });

    it('a wrong output selector fails the execution', async () => {
      const account = await newMotoAccount();
      const { userId } = await userWithKey(account, 'dev');
      const doc = loadKeyageRunbook(DEACTIVATE_RUNBOOK);
      const steps = doc.mainSteps.map((s) => (s.name === 'ReadKeysBack' ? { ...s, outputs: [{ Name: 'AccessKeys', Selector: '$.AccessKeys', Type: 'MapList' as const }] } : s));
      const run = await runAutomation(
        { ...doc, mainSteps: steps },
        { IAMResourceId: userId },
        remediationEnvironment({ ...account, recordKeyArn: await createRecordKey(account), runbook: DEACTIVATE_RUNBOOK, now: () => day(91) }),
      );
      expect(run.status).toBe('Failed');
      expect(run.failureMessage).toContain('selector $.AccessKeys finds nothing');
    });
  });
});
