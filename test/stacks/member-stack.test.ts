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
import { loadConformancePack, resolveTemplate } from '../../stacks/conformance-pack';
import { ACTION_SCOPES } from '../../stacks/iam-scopes';
import { buildKeyageApp } from '../../stacks/keyage-app';
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
import { CONFORMANCE_PACK_FILE, DEACTIVATE_RUNBOOK_FILE, DELETE_RUNBOOK_FILE, PROJECT_ROOT } from '../../stacks/project';
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

beforeAll(() => {
  app = new App();
  // The shipped defaults, as `cdk deploy KeyageMember` builds them.
  defaults = buildKeyageApp(app, parseKeyageSettings(undefined)).member;
  custom = new KeyageMemberStack(app, 'Custom', {
    settings: {
      maxAccessKeyAge: 60,
      exemptionTag: 'keyage-exempt=true',
      automaticRemediation: true,
      remediationDryRun: true,
      automaticDeletion: true,
      graceDays: 21,
      maximumExecutionFrequency: 'Twelve_Hours',
      notificationEmail: 'security@example.com',
      logLevel: 'debug',
      recordSignerRoleNames: ['SecurityOperators', 'ops/BreakGlass'],
    },
  });
  const assembly = app.synth();
  template = assembly.getStackByName(defaults.stackName).template as Template;
  customTemplate = assembly.getStackByName(custom.stackName).template as Template;
}, 120_000);

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
    it('grants the rule role exactly the actions rules/access-key-age/permissions.ts lists, plus writing its own logs', () => {
      const statements = roleStatements(template, idOf((s) => s.member.ruleFunction.role as Role));
      expect(actionsOf(statements)).toEqual([...RULE_IAM_ACTIONS, ...RULE_CONFIG_ACTIONS, ...LOG_ACTIONS].sort());
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
        const byAction = resourcesByAction(roleStatements(template, idOf(role)));
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
      const roles = resourcesOfType(template, 'AWS::IAM::Role');
      expect(Object.keys(roles)).toHaveLength(4);
      for (const [id, role] of Object.entries(roles)) {
        expect({ id, managed: role.Properties?.ManagedPolicyArns, inline: role.Properties?.Policies }).toEqual({ id, managed: undefined, inline: undefined });
        for (const action of actionsOf(roleStatements(template, id))) expect(action).not.toContain('*');
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
      const permission = onlyResource(template, 'AWS::Lambda::Permission');
      expect(permission.properties).toEqual({
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [idOf((s) => s.member.ruleFunction), 'Arn'] },
        Principal: 'config.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
      });
    });

    it.each([
      ['rule', (s: KeyageMemberStack) => s.member.ruleFunction, RULE_FUNCTION_NAME, 900],
      ['remediation', (s: KeyageMemberStack) => s.member.remediationFunction, REMEDIATION_FUNCTION_NAME, 300],
    ])('the %s function runs Node.js 24 on arm64, bundled, with its LOG_LEVEL and timeout', (_name, fn, functionName, timeout) => {
      const props = template.Resources[idOf(fn)]?.Properties ?? {};
      expect(props).toMatchObject({
        FunctionName: functionName,
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Environment: { Variables: { LOG_LEVEL: 'info' } },
        Timeout: timeout,
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
    const inputsOf = (t: Template): Record<string, unknown> => {
      const { properties } = onlyResource(t, 'AWS::Config::ConformancePack');
      return Object.fromEntries((properties.ConformancePackInputParameters as Array<{ ParameterName: string; ParameterValue: unknown }>).map((p) => [p.ParameterName, p.ParameterValue]));
    };

    it('is conformance-pack.yaml byte for byte', () => {
      const { properties } = onlyResource(template, 'AWS::Config::ConformancePack');
      expect(properties.TemplateBody).toBe(readFileSync(CONFORMANCE_PACK_FILE, 'utf8'));
      expect(properties.ConformancePackName).toBe('keyage');
    });

    it('is wired to the rule function, runbook 1, the Automation role and the remediation function', () => {
      expect(inputsOf(template)).toMatchObject({
        RuleFunctionArn: { 'Fn::GetAtt': [idOf((s) => s.member.ruleFunction), 'Arn'] },
        AutomationAssumeRole: { 'Fn::GetAtt': [idOf((s) => s.member.automationRole), 'Arn'] },
        RemediationDocumentName: DEACTIVATE_RUNBOOK_NAME,
        RemediationFunction: REMEDIATION_FUNCTION_NAME,
        ConfigRuleName: CONFIG_RULE_NAME,
      });
    });

    it('is created after Config may invoke the rule, the runbook exists and the Automation role has its policy', () => {
      const { dependsOn } = onlyResource(template, 'AWS::Config::ConformancePack');
      const permission = onlyResource(template, 'AWS::Lambda::Permission').id;
      expect(dependsOn).toEqual(expect.arrayContaining([permission, idOf((s) => s.member.deactivateRunbook)]));
      expect(dependsOn.some((id) => id.startsWith('KeyageAutomationRoleDefaultPolicy'))).toBe(true);
    });

    it('leaves remediation manual, at the 90-day limit, with no exemption, by default', () => {
      expect(inputsOf(template)).toMatchObject({ AutomaticRemediation: 'false', RemediationDryRun: 'false', MaxAccessKeyAge: '90', ExemptionTag: '' });
    });

    it('passes the chosen settings: automatic remediation, dry run, limit, exemption, frequency', () => {
      expect(inputsOf(customTemplate)).toMatchObject({
        AutomaticRemediation: 'true',
        RemediationDryRun: 'true',
        MaxAccessKeyAge: '60',
        ExemptionTag: 'keyage-exempt=true',
        MaximumExecutionFrequency: 'Twelve_Hours',
      });
    });

    it('gives Config a rule triggered by changes and periodically, scoped to IAM users, on the rule function', () => {
      const inputs = Object.fromEntries(Object.entries(inputsOf(customTemplate)).map(([k, v]) => [k, render(v)]));
      const resources = resolveTemplate(pack.template, inputs);
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
        InputParameters: { MaxAccessKeyAge: '60', ExemptionTag: 'keyage-exempt=true' },
      });
      const remediation = Object.values(resources).find((r) => r.Type === 'AWS::Config::RemediationConfiguration');
      expect(remediation?.Properties).toMatchObject({ Automatic: true, TargetId: DEACTIVATE_RUNBOOK_NAME, TargetType: 'SSM_DOCUMENT' });
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
      expect(props).toMatchObject({ DocumentType: 'Automation', DocumentFormat: 'JSON', UpdateMethod: 'NewVersion' });
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
    it('go to a topic encrypted with a rotated customer key that EventBridge may use, TLS only', () => {
      const topic = onlyResource(template, 'AWS::SNS::Topic');
      const key = { id: notificationKeyId(template), properties: template.Resources[notificationKeyId(template)]?.Properties ?? {} };
      expect(topic.properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key.id, 'Arn'] });
      expect(key.properties.EnableKeyRotation).toBe(true);
      const keyStatements = (key.properties.KeyPolicy as { Statement: Array<{ Principal: unknown; Action: unknown }> }).Statement;
      expect(keyStatements).toContainEqual(expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'] }));
      const policy = onlyResource(template, 'AWS::SNS::TopicPolicy').properties.PolicyDocument as { Statement: Array<Record<string, unknown>> };
      expect(policy.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
      expect(policy.Statement).toContainEqual(expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } }));
    });

    it("are sent when the pack rule's compliance changes and when a keyage runbook finishes", () => {
      const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule')).map((r) => r.Properties ?? {});
      const topicId = onlyResource(template, 'AWS::SNS::Topic').id;
      expect(rules.map((r) => r.EventPattern)).toEqual([
        { source: ['aws.config'], 'detail-type': ['Config Rules Compliance Change'], detail: { configRuleName: [{ prefix: CONFIG_RULE_NAME }] } },
        {
          source: ['aws.ssm'],
          'detail-type': ['EC2 Automation Execution Status-change Notification'],
          detail: {
            Definition: [DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME],
            Status: ['Success', 'Failed', 'TimedOut', 'Cancelled', 'CompletedWithSuccess', 'CompletedWithFailure', 'Exited'],
          },
        },
      ]);
      for (const rule of rules) expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { Ref: topicId } })]);
    });

    it('subscribe the notification e-mail only when one is set', () => {
      expect(Object.keys(resourcesOfType(template, 'AWS::SNS::Subscription'))).toHaveLength(0);
      const subscription = onlyResource(customTemplate, 'AWS::SNS::Subscription');
      expect(subscription.properties).toMatchObject({ Protocol: 'email', Endpoint: 'security@example.com' });
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
      expect(reasons.length).toBeGreaterThanOrEqual(7);
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
