/**
 * The member stack, synthesized once: the exact IAM actions of every role and the resources
 * they are granted on, the Config rule wiring, the remediation, the runbooks, the schedule,
 * the notifications, cdk-nag and cfn-lint.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parse } from 'yaml';
import { AUTOMATION_ROLE_ACTIONS, REMEDIATION_LAMBDA_ACTIONS } from '../../remediation/permissions';
import { RECORD_KEY_ADMIN_ACTIONS } from '../../stacks/record-key';
import { RULE_CONFIG_ACTIONS, RULE_IAM_ACTIONS } from '../../rules/access-key-age/permissions';
import { parseKeyageSettings } from '../../stacks/config';
import { loadConformancePack, parseCfnYaml, resolveTemplate } from '../../stacks/conformance-pack';
import { ACTION_SCOPES, RECORD_TAG_CONDITIONS } from '../../stacks/iam-scopes';
import { buildKeyageApp } from '../../stacks/keyage-app';
import { PACK_RECONCILER_CONFIG_ACTIONS } from '../../stacks/pack-deployment';
import { literalPlaceViolations, renderConformancePack } from '../../stacks/pack-render';
import { VERSION_TAG_KEY } from '../../stacks/tags';
import { version } from '../../package.json';
import {
  CONFIG_RULE_NAME,
  DEACTIVATE_RUNBOOK_NAME,
  DELETE_CURSOR_PARAMETER_NAME,
  DELETE_RUNBOOK_NAME,
  KeyageMember,
  REMEDIATION_FUNCTION_NAME,
  RULE_FUNCTION_NAME,
} from '../../stacks/member';
import { KeyageMemberStack } from '../../stacks/member-stack';
import { DEACTIVATE_RUNBOOK_FILE, DELETE_RUNBOOK_FILE, PROJECT_ROOT } from '../../stacks/project';
import { cfnLint, itWithCfnLint } from '../harness/cfn-lint';
import {
  CDK_LINT_IGNORES,
  type Template,
  actionsOf,
  logicalIdOf,
  onlyResource,
  render,
  resourcesByAction,
  resourcesOfType,
  roleStatements,
  writeTemplates,
} from './template-helpers';

const USERS = '${AWS::Partition}:iam::${AWS::AccountId}:user/*';
const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'];

let app: App;
let defaults: KeyageMemberStack;
let custom: KeyageMemberStack;
let template: Template;
let customTemplate: Template;
const CENTRAL_BUS = 'arn:aws:events:eu-west-1:999988887777:event-bus/keyage-central';

beforeAll(() => {
  app = new App();
  // The shipped defaults, as `cdk deploy KeyageMember` builds them, with resource tags.
  defaults = buildKeyageApp(app, parseKeyageSettings({ tags: { owner: 'security' } })).member;
  custom = new KeyageMemberStack(app, 'Custom', {
    settings: {
      maxAccessKeyAge: 60,
      exemptionTag: 'keyage-exempt=true',
      evaluationRefreshDays: 14,
      automaticRemediation: true,
      remediationDryRun: true,
      automaticDeletion: true,
      graceDays: 21,
      maximumExecutionFrequency: 'Twelve_Hours',
      notificationEmail: 'security@example.com',
      logLevel: 'debug',
      recordSignerRoleNames: ['SecurityOperators', 'ops/BreakGlass'],
      centralEventBusArn: CENTRAL_BUS,
    },
  });
  const assembly = app.synth();
  template = assembly.getStackByName(defaults.stackName).template as Template;
  customTemplate = assembly.getStackByName(custom.stackName).template as Template;
}, 120_000);

function packResourceTags(): Record<string, string> {
  const fn = template.Resources[logicalIdOf(defaults.member.conformancePack.function)]?.Properties;
  return JSON.parse(String((fn?.Environment as { Variables: Record<string, unknown> }).Variables.PACK_TAGS)) as Record<string, string>;
}

function idOf(path: (s: KeyageMemberStack) => Parameters<typeof logicalIdOf>[0], stack = defaults): string {
  return logicalIdOf(path(stack));
}

/** The one KMS key that is not the record key: the notification topic's. */
function notificationKeyId(t: Template): string {
  return String((onlyResource(t, 'AWS::SNS::Topic').properties.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
}

/** Where IAM lets each action be granted: the expected rendered resources. */
function expectedResources(action: string, functionArn?: string): string[] {
  const ssm = 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}';
  switch (ACTION_SCOPES[action]) {
    case 'any':
      return ['*'];
    case 'iam-users':
      return [`arn:${USERS}`];
    case 'iam-users-record-tags':
      return [`arn:${USERS}`];
    case 'config-rules':
      return ['arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/*'];
    case 'function':
      return [functionArn ?? 'missing'];
    case 'record-key':
      return [`\${${idOf((s) => s.member.recordKey.key)}.Arn}`];
    case 'automation-executions':
      return [`${ssm}:automation-execution/*`];
    case 'keyage-documents':
      return [`${ssm}:document/${DEACTIVATE_RUNBOOK_NAME}`, `${ssm}:document/${DELETE_RUNBOOK_NAME}`];
    case 'cursor-parameter':
      return [`${ssm}:parameter${DELETE_CURSOR_PARAMETER_NAME}`];
    case 'topic':
      return [`\${${onlyResource(template, 'AWS::SNS::Topic').id}}`];
    case 'topic-key':
      return [`\${${notificationKeyId(template)}.Arn}`];
    default:
      return [`no scope known for ${action}`];
  }
}

describe('KeyageMemberStack', () => {
  describe('least privilege', () => {
    it('grants the rule role exactly the actions rules/access-key-age/permissions.ts lists, plus writing its own logs, when an exemption tag is set', () => {
      const statements = roleStatements(customTemplate, idOf((s) => s.member.ruleFunction.role as Role, custom));
      expect(actionsOf(statements)).toEqual([...RULE_IAM_ACTIONS, ...RULE_CONFIG_ACTIONS, ...LOG_ACTIONS].sort());
    });

    it('does not grant the rule iam:GetAccountAuthorizationDetails without an exemption tag (the sweep reads no tags then)', () => {
      const statements = roleStatements(template, idOf((s) => s.member.ruleFunction.role as Role));
      expect(actionsOf(statements)).toEqual([...RULE_IAM_ACTIONS.filter((a) => a !== 'iam:GetAccountAuthorizationDetails'), ...RULE_CONFIG_ACTIONS, ...LOG_ACTIONS].sort());
    });

    it('lets the remediation tag and untag users with keyage:deactivated:* keys only, and only with tag keys in the request', () => {
      const statements = roleStatements(template, idOf((s) => s.member.remediationFunction.role as Role));
      const tagging = statements.filter((st) => actionsOf([st]).some((a) => a === 'iam:TagUser' || a === 'iam:UntagUser'));
      expect(tagging).toEqual([
        {
          Effect: 'Allow',
          Action: ['iam:TagUser', 'iam:UntagUser'],
          Resource: expect.anything(),
          Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': ['keyage:deactivated:*'] }, Null: { 'aws:TagKeys': 'false' } },
        },
      ]);
      expect(render(tagging[0]?.Resource)).toBe(`arn:${USERS}`);
      expect(RECORD_TAG_CONDITIONS['ForAllValues:StringLike']['aws:TagKeys']).toEqual(['keyage:deactivated:*']);
      // No other statement grants a tagging action.
      expect(statements.filter((st) => st !== tagging[0]).flatMap((st) => actionsOf([st])).filter((a) => /Tag/.test(a) && !a.startsWith('iam:ListUserTags'))).toEqual([]);
    });

    it('grants the remediation role exactly the actions remediation/permissions.ts lists, plus writing its own logs', () => {
      const statements = roleStatements(template, idOf((s) => s.member.remediationFunction.role as Role));
      expect(actionsOf(statements)).toEqual([...REMEDIATION_LAMBDA_ACTIONS, ...LOG_ACTIONS].sort());
    });

    it('grants the Automation role exactly AUTOMATION_ROLE_ACTIONS', () => {
      const statements = roleStatements(template, idOf((s) => s.member.automationRole));
      expect(actionsOf(statements)).toEqual([...AUTOMATION_ROLE_ACTIONS].sort());
    });

    it('scopes every action of the rule and the remediation to the narrowest resource IAM allows', () => {
      for (const [role, logGroup] of [
        [(s: KeyageMemberStack) => s.member.ruleFunction.role as Role, 'KeyageRuleLogGroup'],
        [(s: KeyageMemberStack) => s.member.remediationFunction.role as Role, 'KeyageRemediationLogGroup'],
      ] as const) {
        const byAction = resourcesByAction(roleStatements(customTemplate, idOf(role, custom)));
        for (const [action, resources] of Object.entries(byAction)) {
          const expected = action.startsWith('logs:') ? [expect.stringMatching(new RegExp(`^\\$\\{${logGroup}[0-9A-F]{8}\\.Arn\\}$`))] : expectedResources(action);
          expect({ action, resources }).toEqual({ action, resources: expected });
        }
      }
    });

    it('lets the Automation role invoke the remediation function only, and read keys of the account\'s users', () => {
      const byAction = resourcesByAction(roleStatements(template, idOf((s) => s.member.automationRole)));
      expect(byAction).toEqual({
        'lambda:InvokeFunction': [`\${${idOf((s) => s.member.remediationFunction)}.Arn}`],
        'iam:ListAccessKeys': [`arn:${USERS}`],
      });
    });

    it('gives no role a "*" action, an action wildcard, a managed policy or an inline policy', () => {
      const roles = { ...resourcesOfType(template, 'AWS::IAM::Role'), ...resourcesOfType(customTemplate, 'AWS::IAM::Role') };
      expect([...new Set(Object.values(roles).map((r) => String(r.Properties?.Description).split(':')[0]))].sort()).toEqual([
        'keyage Config rule',
        'keyage daily schedule',
        'keyage pack reconciler',
        'keyage remediation',
        'keyage runbooks (SSM Automation AutomationAssumeRole)',
        'keyage',
      ].sort());
      for (const [id, role] of Object.entries(roles)) {
        expect({ id, managed: role.Properties?.ManagedPolicyArns, inline: role.Properties?.Policies }).toEqual({ id, managed: undefined, inline: undefined });
        for (const action of actionsOf([...roleStatements(template, id), ...roleStatements(customTemplate, id)])) expect(action).not.toContain('*');
      }
    });

    it('trusts each role to one service, and SSM and the scheduler only on behalf of this account', () => {
      const trust = (id: string) => (template.Resources[id]?.Properties?.AssumeRolePolicyDocument as { Statement: Array<{ Principal: unknown; Condition?: unknown }> }).Statement;
      expect(trust(idOf((s) => s.member.ruleFunction.role as Role))).toEqual([expect.objectContaining({ Principal: { Service: 'lambda.amazonaws.com' } })]);
      expect(trust(idOf((s) => s.member.automationRole))).toEqual([
        expect.objectContaining({
          Principal: { Service: 'ssm.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': expect.anything() },
          },
        }),
      ]);
      const sourceArn = (trust(idOf((s) => s.member.automationRole))[0]?.Condition as { ArnLike: Record<string, unknown> }).ArnLike['aws:SourceArn'];
      expect(render(sourceArn)).toBe('arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:automation-execution/*');
    });

    it('lets the schedule start only the delete runbook, passing only the Automation role to SSM', () => {
      const schedulerRole = Object.entries(resourcesOfType(template, 'AWS::IAM::Role')).find(([, r]) =>
        JSON.stringify(r.Properties?.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
      )?.[0] as string;
      const statements = roleStatements(template, schedulerRole);
      expect(statements).toHaveLength(2);
      expect(resourcesByAction(statements)).toEqual({
        'ssm:StartAutomationExecution': [`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:automation-definition/${DELETE_RUNBOOK_NAME}:*`],
        'iam:PassRole': [`\${${idOf((s) => s.member.automationRole)}.Arn}`],
      });
      expect(statements.find((s) => s.Action === 'iam:PassRole')?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } });
    });
  });

  describe('the rule function', () => {
    it('may be invoked by config.amazonaws.com from this account only', () => {
      const permissions = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).filter((p) => p.Properties?.Principal === 'config.amazonaws.com');
      expect(permissions).toHaveLength(1);
      expect(permissions[0]?.Properties).toEqual({
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [idOf((s) => s.member.ruleFunction), 'Arn'] },
        Principal: 'config.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
      });
    });

    it.each([
      ['rule', (s: KeyageMemberStack) => s.member.ruleFunction, RULE_FUNCTION_NAME, 900, 192],
      ['remediation', (s: KeyageMemberStack) => s.member.remediationFunction, REMEDIATION_FUNCTION_NAME, 300, 512],
    ])('the %s function runs Node.js 24 on arm64, bundled, with its LOG_LEVEL, timeout and memory (MB; the rule’s from BENCHMARKS.md)', (_name, fn, functionName, timeout, memory) => {
      const props = template.Resources[idOf(fn)]?.Properties ?? {};
      expect(props).toMatchObject({
        FunctionName: functionName,
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Environment: { Variables: { LOG_LEVEL: 'info' } },
        Timeout: timeout,
        MemorySize: memory,
      });
      expect((customTemplate.Resources[idOf(fn, custom)]?.Properties?.Environment as { Variables: object }).Variables).toMatchObject({ LOG_LEVEL: 'debug' });
    });

    it('the rule function gets its log level only; the remediation function also the record key, the cursor and the topic', () => {
      expect(template.Resources[idOf((s) => s.member.ruleFunction)]?.Properties?.Environment).toEqual({ Variables: { LOG_LEVEL: 'info' } });
      expect(template.Resources[idOf((s) => s.member.remediationFunction)]?.Properties?.Environment).toEqual({
        Variables: {
          LOG_LEVEL: 'info',
          KEYAGE_RECORD_KEY_ARN: { 'Fn::GetAtt': [idOf((s) => s.member.recordKey.key), 'Arn'] },
          KEYAGE_DELETE_CURSOR_PARAMETER: { Ref: onlyResource(template, 'AWS::SSM::Parameter').id },
          KEYAGE_ALERT_TOPIC_ARN: { Ref: onlyResource(template, 'AWS::SNS::Topic').id },
        },
      });
    });
  });

  describe('the conformance pack', () => {
    const pack = loadConformancePack();
    const packResource = (t: Template) => onlyResource(t, 'Custom::KeyageConformancePack');
    const reconciler = (t: Template, stack = defaults) => t.Resources[idOf((s) => s.member.conformancePack.function, stack)]?.Properties ?? {};
    const inputsOf = (t: Template, stack = defaults) =>
      JSON.parse(render((reconciler(t, stack).Environment as { Variables: Record<string, unknown> }).Variables.PACK_INPUT_PARAMETERS)) as Record<string, string>;

    it('is not a CloudFormation resource: a custom resource runs the pack reconciler on create, update and delete', () => {
      expect(Object.keys(resourcesOfType(template, 'AWS::Config::ConformancePack'))).toEqual([]);
      const { properties } = packResource(template);
      expect(properties).toEqual({
        ServiceToken: { 'Fn::GetAtt': [idOf((s) => s.member.conformancePack.function), 'Arn'] },
        ServiceTimeout: '720',
        PackName: 'keyage',
        TemplateSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        ConfigRuleName: CONFIG_RULE_NAME,
        AutomationAssumeRole: { 'Fn::GetAtt': [idOf((s) => s.member.automationRole), 'Arn'] },
        InputParameters: expect.objectContaining({ MaxAccessKeyAge: '90' }),
      });
    });

    it('gives the reconciler the literal values and every other parameter, and bundles the pack template into it', () => {
      const env = (reconciler(template).Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env).toMatchObject({ PACK_NAME: 'keyage', CONFIG_RULE_NAME: CONFIG_RULE_NAME, AUTOMATION_ROLE_ARN: { 'Fn::GetAtt': [idOf((s) => s.member.automationRole), 'Arn'] } });
      expect(inputsOf(template)).toEqual({
        RuleFunctionArn: `\${${idOf((s) => s.member.ruleFunction)}.Arn}`,
        MaxAccessKeyAge: '90',
        ExemptionTag: '',
        EvaluationRefreshDays: '30',
        MaximumExecutionFrequency: 'TwentyFour_Hours',
        RemediationDocumentName: DEACTIVATE_RUNBOOK_NAME,
        RemediationFunction: REMEDIATION_FUNCTION_NAME,
        AutomaticRemediation: 'false',
        RemediationDryRun: 'false',
        MaximumAutomaticAttempts: '3',
        RetryAttemptSeconds: '600',
        ConcurrentExecutionRatePercentage: '10',
        ErrorPercentage: '10',
      });
      // The properties of the custom resource change with the parameters, so an update reaches the reconciler.
      expect(Object.fromEntries(Object.entries(packResource(template).properties.InputParameters as Record<string, unknown>).map(([k, v]) => [k, render(v)]))).toEqual(inputsOf(template));
      // The bundle holds the pack text (esbuild's text loader): the reconciler deploys exactly the file.
      const bundle = readFileSync(join(app.outdir, `asset.${(reconciler(template).Code as { S3Key: string }).S3Key.replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
      expect(bundle).toContain('AccessKeyAgeRemediation:');
      expect(bundle).toContain('Type: AWS::Config::RemediationConfiguration');
    });

    it('is created after Config may invoke the rule, the runbook exists and the Automation role has its policy', () => {
      const { dependsOn } = packResource(template);
      const permission = Object.entries(resourcesOfType(template, 'AWS::Lambda::Permission')).find(([, p]) => p.Properties?.Principal === 'config.amazonaws.com')?.[0];
      expect(dependsOn).toEqual(expect.arrayContaining([permission, idOf((s) => s.member.deactivateRunbook)]));
      expect(dependsOn.some((id) => id.startsWith('KeyageAutomationRoleDefaultPolicy'))).toBe(true);
    });

    it('passes the chosen settings: automatic remediation, dry run, limit, exemption, refresh window, frequency', () => {
      expect(inputsOf(customTemplate, custom)).toMatchObject({
        AutomaticRemediation: 'true',
        RemediationDryRun: 'true',
        MaxAccessKeyAge: '60',
        ExemptionTag: 'keyage-exempt=true',
        EvaluationRefreshDays: '14',
        MaximumExecutionFrequency: 'Twelve_Hours',
      });
    });

    it('renders to a body Config accepts, with a rule triggered by changes and periodically, scoped to IAM users, on the rule function', () => {
      const body = renderConformancePack(pack.body, { ConfigRuleName: CONFIG_RULE_NAME, AutomationAssumeRole: 'arn:aws:iam::111122223333:role/keyage-automation-eu-west-1' });
      expect(literalPlaceViolations(body)).toEqual([]);
      const resources = resolveTemplate(parseCfnYaml(body), inputsOf(customTemplate, custom));
      const rule = Object.values(resources).find((r) => r.Type === 'AWS::Config::ConfigRule');
      expect(rule?.Properties).toMatchObject({
        ConfigRuleName: CONFIG_RULE_NAME,
        Scope: { ComplianceResourceTypes: ['AWS::IAM::User'] },
        Source: {
          Owner: 'CUSTOM_LAMBDA',
          SourceIdentifier: `\${${idOf((s) => s.member.ruleFunction, custom)}.Arn}`,
          SourceDetails: [
            { EventSource: 'aws.config', MessageType: 'ConfigurationItemChangeNotification' },
            { EventSource: 'aws.config', MessageType: 'OversizedConfigurationItemChangeNotification' },
            { EventSource: 'aws.config', MessageType: 'ScheduledNotification', MaximumExecutionFrequency: 'Twelve_Hours' },
          ],
        },
        InputParameters: { MaxAccessKeyAge: '60', ExemptionTag: 'keyage-exempt=true', EvaluationRefreshDays: '14' },
      });
      const remediation = Object.values(resources).find((r) => r.Type === 'AWS::Config::RemediationConfiguration');
      expect(remediation?.Properties).toMatchObject({ Automatic: true, TargetId: DEACTIVATE_RUNBOOK_NAME, TargetType: 'SSM_DOCUMENT', ConfigRuleName: CONFIG_RULE_NAME });
    });

    it('names the Automation role keyage-automation-<region>, so its ARN can be written literally into the pack', () => {
      expect(render(template.Resources[idOf((s) => s.member.automationRole)]?.Properties?.RoleName)).toBe('keyage-automation-${AWS::Region}');
    });

    it('runs the reconciler hourly and when the Config recorder is started or changed', () => {
      const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule')).map((r) => r.Properties ?? {});
      const fnArn = { 'Fn::GetAtt': [idOf((s) => s.member.conformancePack.function), 'Arn'] };
      expect(rules.filter((r) => JSON.stringify(r.Targets).includes(JSON.stringify(fnArn))).map((r) => ({ Name: r.Name, ScheduleExpression: r.ScheduleExpression, EventPattern: r.EventPattern }))).toEqual([
        { Name: 'keyage-pack-reconcile-hourly', ScheduleExpression: 'rate(1 hour)', EventPattern: undefined },
        {
          Name: 'keyage-config-recorder-changed',
          ScheduleExpression: undefined,
          EventPattern: {
            source: ['aws.config'],
            'detail-type': ['AWS API Call via CloudTrail'],
            detail: { eventSource: ['config.amazonaws.com'], eventName: ['StartConfigurationRecorder', 'PutConfigurationRecorder', 'PutDeliveryChannel'] },
          },
        },
      ]);
      const fromEvents = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).filter((p) => p.Properties?.Principal === 'events.amazonaws.com');
      expect(fromEvents.map((p) => [p.Properties?.FunctionName, render(p.Properties?.SourceArn)])).toEqual([
        [fnArn, expect.stringMatching(/^\$\{KeyageConformancePackHourly[0-9A-F]{8}\.Arn\}$/)],
        [fnArn, expect.stringMatching(/^\$\{KeyageConformancePackRecorderChanged[0-9A-F]{8}\.Arn\}$/)],
      ]);
    });

    it('lets the reconciler manage the pack and nothing else: Config reads and pack writes, its service-linked role, passing the Automation role', () => {
      const statements = roleStatements(template, idOf((s) => s.member.conformancePack.function.role as Role));
      expect(resourcesByAction(statements)).toEqual({
        ...Object.fromEntries(PACK_RECONCILER_CONFIG_ACTIONS.map((a) => [a, ['*']])),
        'config:TagResource': ['arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:conformance-pack/keyage/*'],
        'iam:CreateServiceLinkedRole': ['arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/config-conforms.amazonaws.com/AWSServiceRoleForConfigConforms'],
        'iam:PassRole': [`\${${idOf((s) => s.member.automationRole)}.Arn}`],
        'logs:CreateLogStream': [expect.stringMatching(/^\$\{KeyageConformancePackLogGroup[0-9A-F]{8}\.Arn\}$/)],
        'logs:PutLogEvents': [expect.stringMatching(/^\$\{KeyageConformancePackLogGroup[0-9A-F]{8}\.Arn\}$/)],
      });
      expect(statements.find((st) => st.Action === 'iam:CreateServiceLinkedRole')?.Condition).toEqual({ StringEquals: { 'iam:AWSServiceName': 'config-conforms.amazonaws.com' } });
    });

    it('reports an account it cannot cover with three alarms that name the account, the Region and what to enable', () => {
      const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))
        .map((a) => a.Properties ?? {})
        .filter((a) => (a.Namespace as string) === 'keyage');
      const topic = { Ref: onlyResource(template, 'AWS::SNS::Topic').id };
      expect(alarms.map((a) => ({ ...a, AlarmDescription: undefined, Tags: undefined }))).toEqual(
        [
          ['keyage-config-not-recording', 'RecorderNotRecording', 6],
          ['keyage-iam-users-not-recorded', 'IamUsersNotRecorded', 6],
          ['keyage-pack-not-deployed', 'PackNotDeployed', 2],
        ].map(([name, metric, hours]) => ({
          AlarmName: name,
          AlarmDescription: undefined,
          Tags: undefined,
          Namespace: 'keyage',
          MetricName: metric,
          Dimensions: [{ Name: 'Component', Value: 'pack-reconciler' }],
          Period: 3600,
          Statistic: 'Maximum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: hours,
          DatapointsToAlarm: hours,
          TreatMissingData: 'notBreaching',
          AlarmActions: [topic],
          OKActions: [topic],
        })),
      );
      expect(render(alarms[0]?.AlarmDescription)).toMatch(
        /^keyage cannot cover account \$\{AWS::AccountId\}, Region \$\{AWS::Region\}: AWS Config has not been recording there for 6 hours.*a configuration recorder that records AWS::IAM::User, a delivery channel, and start-configuration-recorder/,
      );
    });
  });

  describe('the runbooks', () => {
    it.each([
      ['deactivate', DEACTIVATE_RUNBOOK_FILE, DEACTIVATE_RUNBOOK_NAME],
      ['delete', DELETE_RUNBOOK_FILE, DELETE_RUNBOOK_NAME],
    ])('the %s runbook is its YAML file, with RemediationFunction defaulting to the deployed function', (_name, file, name) => {
      const documents = Object.values(resourcesOfType(template, 'AWS::SSM::Document')).filter((d) => d.Properties?.Name === name);
      expect(documents).toHaveLength(1);
      const props = documents[0]?.Properties ?? {};
      // YAML documents: aws:executeScript's inline Script is for YAML runbooks.
      expect(props).toMatchObject({ DocumentType: 'Automation', DocumentFormat: 'YAML', UpdateMethod: 'NewVersion' });
      const source = parse(readFileSync(file, 'utf8')) as { parameters: Record<string, Record<string, unknown>> };
      const expected = { ...source, parameters: { ...source.parameters, RemediationFunction: { ...source.parameters.RemediationFunction, default: REMEDIATION_FUNCTION_NAME } } };
      expect(props.Content).toEqual(expected);
    });

    it('carry the deployment\'s limit, exemption tag and grace period as their defaults, so a runbook run by hand honours them', () => {
      const defaultsOf = (name: string) => {
        const doc = Object.values(resourcesOfType(customTemplate, 'AWS::SSM::Document')).find((d) => d.Properties?.Name === name);
        const params = (doc?.Properties?.Content as { parameters: Record<string, { default?: unknown }> }).parameters;
        return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.default]));
      };
      expect(defaultsOf(DEACTIVATE_RUNBOOK_NAME)).toMatchObject({ MaxAccessKeyAge: '60', ExemptionTag: 'keyage-exempt=true', DryRun: 'true' });
      expect(defaultsOf(DELETE_RUNBOOK_NAME)).toMatchObject({ GracePeriodDays: '21', ExemptionTag: 'keyage-exempt=true', DryRun: 'true', IAMUser: '*' });
    });
  });

  describe('the daily deletion schedule', () => {
    const scheduleOf = (t: Template) => {
      const { properties, dependsOn } = onlyResource(t, 'AWS::Scheduler::Schedule');
      const target = properties.Target as { Arn: unknown; RoleArn: unknown; Input: unknown };
      // The input is JSON with the role ARN joined in; render the join, then parse.
      return { properties, dependsOn, target, input: JSON.parse(render(target.Input)) as { DocumentName: string; Parameters: Record<string, string[]> } };
    };

    it('runs runbook 2 for every user daily, as a DRY RUN by default, as the Automation role', () => {
      const { properties, target, input, dependsOn } = scheduleOf(template);
      expect(properties).toMatchObject({ ScheduleExpression: 'cron(0 6 * * ? *)', ScheduleExpressionTimezone: 'UTC', State: 'ENABLED' });
      expect(render(target.Arn)).toBe('arn:${AWS::Partition}:scheduler:::aws-sdk:ssm:startAutomationExecution');
      expect(input).toEqual({
        DocumentName: DELETE_RUNBOOK_NAME,
        Parameters: {
          IAMUser: ['*'],
          GracePeriodDays: ['14'],
          DryRun: ['true'],
          AutomationAssumeRole: [`\${${idOf((s) => s.member.automationRole)}.Arn}`],
          RemediationFunction: [REMEDIATION_FUNCTION_NAME],
        },
      });
      expect(dependsOn).toContain(idOf((s) => s.member.deleteRunbook));
    });

    it('really deletes only with automaticDeletion, with the chosen grace period and the exemption tag', () => {
      expect(scheduleOf(customTemplate).input.Parameters).toMatchObject({ DryRun: ['false'], GracePeriodDays: ['21'], ExemptionTag: ['keyage-exempt=true'] });
    });

    it('passes only parameters runbook 2 declares', () => {
      const declared = Object.keys((parse(readFileSync(DELETE_RUNBOOK_FILE, 'utf8')) as { parameters: object }).parameters);
      expect(Object.keys(scheduleOf(customTemplate).input.Parameters).filter((p) => !declared.includes(p))).toEqual([]);
    });
  });

  describe('notifications', () => {
    const topicArn = 'arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:keyage-notifications';
    const keyStatements = () => (template.Resources[notificationKeyId(template)]?.Properties?.KeyPolicy as { Statement: Array<Record<string, unknown>> }).Statement;
    const topicStatements = () => (onlyResource(template, 'AWS::SNS::TopicPolicy').properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;

    it('go to a topic encrypted with a rotated customer key, TLS only', () => {
      const topic = onlyResource(template, 'AWS::SNS::Topic');
      const key = { id: notificationKeyId(template), properties: template.Resources[notificationKeyId(template)]?.Properties ?? {} };
      expect(topic.properties).toMatchObject({ TopicName: 'keyage-notifications', KmsMasterKeyId: { 'Fn::GetAtt': [key.id, 'Arn'] } });
      expect(key.properties.EnableKeyRotation).toBe(true);
      expect(topicStatements()).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    });

    it("let EventBridge and CloudWatch publish only from keyage's rules and alarms of this account", () => {
      const allows = topicStatements().filter((st) => st.Effect === 'Allow');
      expect(allows.map((st) => ({ ...st, Resource: undefined, Condition: undefined }))).toEqual([
        { Sid: 'KeyageRulesPublish', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish', Resource: undefined, Condition: undefined },
        { Sid: 'KeyageAlarmsPublish', Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Resource: undefined, Condition: undefined },
      ]);
      const conditions = allows.map((st) => st.Condition as { StringEquals: Record<string, unknown>; ArnLike: Record<string, unknown> });
      expect(conditions.map((c) => [c.StringEquals, render(c.ArnLike['aws:SourceArn'])])).toEqual([
        [{ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/keyage-*'],
        [{ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:keyage-*'],
      ]);
    });

    it('let those services use the key for this topic only (once each), CloudWatch only from keyage alarms of this account', () => {
      const services = keyStatements().filter((st) => (st.Principal as { Service?: string }).Service !== undefined);
      expect(services.map((st) => [(st.Principal as { Service: string }).Service, st.Action])).toEqual([
        ['events.amazonaws.com', ['kms:Decrypt', 'kms:GenerateDataKey*']],
        ['cloudwatch.amazonaws.com', ['kms:Decrypt', 'kms:GenerateDataKey*']],
      ]);
      const [events, cloudwatch] = services.map((st) => st.Condition as { StringEquals: Record<string, unknown>; ArnLike?: Record<string, unknown> });
      // EventBridge's delivery carries no aws:SourceArn/aws:SourceAccount into KMS: the encryption context binds the grant to the topic.
      expect(Object.keys(events?.StringEquals ?? {})).toEqual(['kms:EncryptionContext:aws:sns:topicArn']);
      expect(render(events?.StringEquals['kms:EncryptionContext:aws:sns:topicArn'])).toBe(topicArn);
      expect(events?.ArnLike).toBeUndefined();
      expect(render(cloudwatch?.StringEquals['kms:EncryptionContext:aws:sns:topicArn'])).toBe(topicArn);
      expect(cloudwatch?.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
      expect(render(cloudwatch?.ArnLike?.['aws:SourceArn'])).toBe('arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:keyage-*');
    });

    it("are sent, as readable text, when the pack rule's compliance changes and when a keyage runbook succeeds or fails", () => {
      const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule'))
        .map((r) => r.Properties ?? {})
        .filter((r) => r.EventPattern !== undefined && (r.EventPattern as { source: string[] }).source[0] !== 'aws.config' || String(r.Name) === 'keyage-compliance-change');
      const topicId = onlyResource(template, 'AWS::SNS::Topic').id;
      expect(rules.map((r) => [r.Name, r.EventPattern])).toEqual([
        ['keyage-compliance-change', { source: ['aws.config'], 'detail-type': ['Config Rules Compliance Change'], detail: { configRuleName: [{ prefix: CONFIG_RULE_NAME }] } }],
        [
          'keyage-runbook-succeeded',
          { source: ['aws.ssm'], 'detail-type': ['EC2 Automation Execution Status-change Notification'], detail: { Definition: [DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME], Status: ['Success', 'CompletedWithSuccess'] } },
        ],
        [
          'keyage-runbook-failed',
          {
            source: ['aws.ssm'],
            'detail-type': ['EC2 Automation Execution Status-change Notification'],
            detail: { Definition: [DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME], Status: ['Failed', 'TimedOut', 'Cancelled', 'CompletedWithFailure', 'Exited'] },
          },
        ],
      ]);
      for (const rule of rules) {
        const targets = rule.Targets as Array<{ Arn: unknown; InputTransformer: { InputTemplate: string; InputPathsMap: Record<string, string> } }>;
        expect(targets).toEqual([expect.objectContaining({ Arn: { Ref: topicId }, InputTransformer: expect.anything() })]);
        expect(targets[0]?.InputTransformer.InputTemplate).toMatch(/^"keyage: /);
      }
      const compliance = (rules[0]?.Targets as Array<{ InputTransformer: { InputPathsMap: Record<string, string> } }>)[0]?.InputTransformer.InputPathsMap;
      expect(Object.values(compliance ?? {})).toEqual(expect.arrayContaining(['$.detail.resourceId', '$.detail.newEvaluationResult.complianceType', '$.detail.newEvaluationResult.annotation']));
    });

    it('subscribe the notification e-mail only when one is set', () => {
      expect(Object.keys(resourcesOfType(template, 'AWS::SNS::Subscription'))).toHaveLength(0);
      const subscription = onlyResource(customTemplate, 'AWS::SNS::Subscription');
      expect(subscription.properties).toMatchObject({ Protocol: 'email', Endpoint: 'security@example.com' });
    });

    it('also go to the central event bus when one is set, through a role that may put events on that bus only, for keyage rules of this account', () => {
      const rules = Object.values(resourcesOfType(customTemplate, 'AWS::Events::Rule')).map((r) => r.Properties ?? {});
      const toBus = rules.filter((r) => (r.Targets as Array<{ Arn: unknown }>).some((t) => t.Arn === CENTRAL_BUS));
      expect(toBus.map((r) => r.Name).sort()).toEqual(['keyage-alarm-state-change', 'keyage-compliance-change', 'keyage-runbook-failed', 'keyage-runbook-succeeded']);
      expect(toBus.find((r) => r.Name === 'keyage-alarm-state-change')?.EventPattern).toEqual({
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: 'keyage-' }] },
      });
      const roleIds = new Set(toBus.map((r) => ((r.Targets as Array<{ Arn: unknown; RoleArn?: { 'Fn::GetAtt': [string, string] } }>).find((t) => t.Arn === CENTRAL_BUS)?.RoleArn?.['Fn::GetAtt'][0])));
      expect(roleIds.size).toBe(1);
      const roleId = [...roleIds][0] as string;
      expect(resourcesByAction(roleStatements(customTemplate, roleId))).toEqual({ 'events:PutEvents': [CENTRAL_BUS] });
      const trust = (customTemplate.Resources[roleId]?.Properties?.AssumeRolePolicyDocument as { Statement: Array<{ Principal: unknown; Condition: { StringEquals: unknown; ArnLike: Record<string, unknown> } }> }).Statement;
      expect(trust.map((t) => [t.Principal, t.Condition.StringEquals, render(t.Condition.ArnLike['aws:SourceArn'])])).toEqual([
        [{ Service: 'events.amazonaws.com' }, { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/keyage-*'],
      ]);
      expect(Object.values(resourcesOfType(template, 'AWS::Events::Rule')).map((r) => r.Properties?.Name)).not.toContain('keyage-alarm-state-change');
    });
  });

  describe('failures are visible', () => {
    const alarmsByName = (t: Template) => Object.fromEntries(Object.values(resourcesOfType(t, 'AWS::CloudWatch::Alarm')).map((a) => [String(a.Properties?.AlarmName), a.Properties ?? {}]));

    it('alarm on errors and throttles of the rule and the remediation functions, and on errors of the reconciler, to the topic', () => {
      const alarms = alarmsByName(template);
      const topic = { Ref: onlyResource(template, 'AWS::SNS::Topic').id };
      const fn = (path: (s: KeyageMemberStack) => Parameters<typeof logicalIdOf>[0]) => ({ Ref: idOf(path) });
      const expected: Array<[string, string, unknown]> = [
        ['keyage-rule-errors', 'Errors', fn((s) => s.member.ruleFunction)],
        ['keyage-rule-throttles', 'Throttles', fn((s) => s.member.ruleFunction)],
        ['keyage-remediation-errors', 'Errors', fn((s) => s.member.remediationFunction)],
        ['keyage-remediation-throttles', 'Throttles', fn((s) => s.member.remediationFunction)],
        ['keyage-pack-reconciler-errors', 'Errors', fn((s) => s.member.conformancePack.function)],
      ];
      for (const [name, metric, functionRef] of expected) {
        expect({ name, alarm: { ...alarms[name], AlarmDescription: undefined, Tags: undefined } }).toEqual({
          name,
          alarm: {
            AlarmName: name,
            AlarmDescription: undefined,
            Tags: undefined,
            Namespace: 'AWS/Lambda',
            MetricName: metric,
            Dimensions: [{ Name: 'FunctionName', Value: functionRef }],
            Period: 300,
            Statistic: 'Sum',
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
            EvaluationPeriods: 1,
            DatapointsToAlarm: 1,
            TreatMissingData: 'notBreaching',
            AlarmActions: [topic],
            OKActions: [topic],
          },
        });
      }
    });

    it('alarm on every failed keyage Automation execution, through the TriggeredRules metric of the runbook-failed rule', () => {
      expect(alarmsByName(template)['keyage-runbook-failed']).toMatchObject({
        Namespace: 'AWS/Events',
        MetricName: 'TriggeredRules',
        Dimensions: [{ Name: 'RuleName', Value: 'keyage-runbook-failed' }],
        Period: 3600,
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    it('configure asynchronous invocation deliberately: no Lambda retry of the rule or the remediation, two of the idempotent reconciler', () => {
      const configs = Object.values(resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')).map((c) => c.Properties ?? {});
      expect(configs).toEqual(
        expect.arrayContaining(
          [
            [idOf((s) => s.member.ruleFunction), 0],
            [idOf((s) => s.member.remediationFunction), 0],
            [idOf((s) => s.member.conformancePack.function), 2],
          ].map(([id, retries]) => ({ FunctionName: { Ref: id }, Qualifier: '$LATEST', MaximumRetryAttempts: retries, MaximumEventAgeInSeconds: 3600 })),
        ),
      );
      expect(configs).toHaveLength(3);
    });
  });

  describe('resource tags', () => {
    it('put keyage:version and the settings\' tags on every taggable resource', () => {
      const expected = expect.arrayContaining([
        { Key: VERSION_TAG_KEY, Value: version },
        { Key: 'owner', Value: 'security' },
      ]);
      for (const type of ['AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::SNS::Topic', 'AWS::KMS::Key', 'AWS::SSM::Document', 'AWS::CloudWatch::Alarm', 'AWS::Logs::LogGroup']) {
        for (const [id, resource] of Object.entries(resourcesOfType(template, type))) {
          expect({ id, tags: resource.Properties?.Tags }).toEqual({ id, tags: expected });
        }
      }
      expect(packResourceTags()).toEqual({ [VERSION_TAG_KEY]: version, owner: 'security' });
    });
  });

  describe('the record key', () => {
    type KeyStatement = { Sid: string; Principal: unknown; Action: string | string[]; Condition?: unknown };
    const recordKey = (t: Template, stack: KeyageMemberStack) => t.Resources[idOf((s) => s.member.recordKey.key, stack)]?.Properties ?? {};
    const statements = (t: Template, stack: KeyageMemberStack) => (recordKey(t, stack).KeyPolicy as { Statement: KeyStatement[] }).Statement;
    const actions = (st: KeyStatement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);

    it('is a KMS HMAC_256 key for GENERATE_VERIFY_MAC, aliased alias/keyage-deactivation-records, and kept when the stack goes', () => {
      const id = idOf((s) => s.member.recordKey.key);
      expect(recordKey(template, defaults)).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
      expect(template.Resources[id]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      const alias = Object.values(resourcesOfType(template, 'AWS::KMS::Alias')).map((a) => a.Properties);
      expect(alias).toEqual([{ AliasName: 'alias/keyage-deactivation-records', TargetKeyId: { 'Fn::GetAtt': [id, 'Arn'] } }]);
    });

    it('lets only the remediation role sign records (HMAC_SHA_256), lets the account verify them, and gives no one kms:* or kms:CreateGrant', () => {
      const policy = statements(template, defaults);
      const remediationRole = idOf((s) => s.member.remediationFunction.role as Role);
      expect(policy.map((st) => st.Sid)).toEqual(['KeyAdministration', 'VerifyRecords', 'SignRecords']);
      const signers = policy.filter((st) => actions(st).includes('kms:GenerateMac'));
      expect(signers).toEqual([
        {
          Sid: 'SignRecords',
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::GetAtt': [remediationRole, 'Arn'] } },
          Action: ['kms:GenerateMac', 'kms:VerifyMac'],
          Resource: '*',
          Condition: { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } },
        },
      ]);
      const admin = policy.find((st) => st.Sid === 'KeyAdministration') as KeyStatement;
      expect(actions(admin)).toEqual([...RECORD_KEY_ADMIN_ACTIONS]);
      expect(policy.find((st) => st.Sid === 'VerifyRecords')).toMatchObject({ Action: 'kms:VerifyMac', Condition: { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } } });
      for (const st of policy) {
        for (const action of actions(st)) expect(action).not.toMatch(/^kms:(\*|CreateGrant|Generate(Data|Random)|Encrypt|Decrypt|Sign)/);
      }
    });

    it('lets the roles named in recordSignerRoleNames sign too, by ARN in a condition, and only those', () => {
      const byHand = statements(customTemplate, custom).find((st) => st.Sid === 'SignRecordsByHand') as KeyStatement;
      expect(byHand).toMatchObject({ Action: 'kms:GenerateMac', Principal: { AWS: expect.anything() } });
      const arns = (byHand.Condition as { ArnEquals: { 'aws:PrincipalArn': unknown[] } }).ArnEquals['aws:PrincipalArn'].map(render);
      expect(arns).toEqual(['arn:${AWS::Partition}:iam::${AWS::AccountId}:role/SecurityOperators', 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ops/BreakGlass']);
      expect(statements(template, defaults).some((st) => st.Sid === 'SignRecordsByHand')).toBe(false);
    });
  });

  describe('the delete runbook\'s cursor', () => {
    it('is an SSM String parameter that starts at the first user', () => {
      expect(onlyResource(template, 'AWS::SSM::Parameter').properties).toMatchObject({ Name: DELETE_CURSOR_PARAMETER_NAME, Type: 'String', Value: 'start' });
    });
  });

  describe('settings', () => {
    it('refuses a bad setting before building anything, naming the prop', () => {
      const stack = new Stack(new App(), 'Bad');
      expect(() => new KeyageMember(stack, 'Keyage', { maxAccessKeyAge: 0 })).toThrow(/parameter Keyage\.maxAccessKeyAge: 0\. Allowed: a whole number of days from 1 to 3650/);
      expect(() => new KeyageMember(stack, 'Keyage2', { graceDays: -1 })).toThrow(/Keyage2\.graceDays/);
    });
  });

  describe('cdk-nag AwsSolutions checks', () => {
    it('find nothing that is not acknowledged with a reason', () => {
      const report = new AwsSolutionsChecks(app).validateScope(app);
      expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
      expect(report.success).toBe(true);
    });

    it('give every acknowledgment a reason of at least a sentence', () => {
      const reasons: string[] = [];
      const visit = (c: { node: { metadata: Array<{ type: string; data: unknown }>; children: unknown[] } }) => {
        for (const m of c.node.metadata) if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) reasons.push(...Object.values(m.data as Record<string, string>));
        for (const child of c.node.children) visit(child as typeof c);
      };
      visit(defaults);
      expect(reasons.length).toBeGreaterThanOrEqual(9);
      for (const reason of reasons) expect(reason.length).toBeGreaterThan(40);
    });

    it('report a wildcard grant nobody acknowledged (the check is live)', () => {
      const probeApp = new App();
      const stack = new Stack(probeApp, 'Probe');
      const role = new Role(stack, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
      role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['iam:*'], resources: ['*'] }));
      const report = new AwsSolutionsChecks(probeApp).validateScope(probeApp);
      expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-IAM5[Action::iam:*]', 'AwsSolutions-IAM5[Resource::*]']));
    });
  });

  describe('docs/deployment.md', () => {
    it('lists every action every role is granted', () => {
      const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'deployment.md'), 'utf8');
      const granted = Object.keys(resourcesOfType(template, 'AWS::IAM::Role')).flatMap((id) => actionsOf(roleStatements(template, id)));
      expect([...new Set(granted)].filter((action) => !doc.includes(`\`${action}\``))).toEqual([]);
    });
  });

  describe('cfn-lint', () => {
    itWithCfnLint('finds nothing in the synthesized member templates', () => {
      const files = writeTemplates('keyage-member', { KeyageMember: template, Custom: customTemplate });
      const result = cfnLint(files, CDK_LINT_IGNORES);
      expect(result.output).toBe('');
      expect(result.exitCode).toBe(0);
    });
  });
});
