/**
 * Everything one account needs, in the Region that records IAM: the rule Lambda, the
 * remediation Lambda, the two runbooks, the Automation role, the conformance pack (rule and
 * remediation, deployed by the pack reconciler once AWS Config records), the daily schedule of
 * the delete runbook, an SNS topic told when the rule's compliance changes or a runbook
 * finishes, and alarms on every failure (`alarms.ts`, `pack-deployment.ts`).
 *
 * The same construct goes into a plain stack (`cdk deploy KeyageMember`, one account) and
 * into the StackSet's template (every account of the OUs).
 */
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { EventField, Match, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { CfnPermission } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { CfnDocument } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { CfnParameter as CfnSsmParameter } from 'aws-cdk-lib/aws-ssm';
import { CURSOR_START } from '../remediation/cursor';
import {
  AUTOMATION_ROLE_ACTIONS,
  REMEDIATION_LAMBDA_CONFIG_ACTIONS,
  REMEDIATION_LAMBDA_IAM_ACTIONS,
  REMEDIATION_LAMBDA_KMS_ACTIONS,
  REMEDIATION_LAMBDA_SNS_ACTIONS,
  REMEDIATION_LAMBDA_SSM_ACTIONS,
  REMEDIATION_LAMBDA_TOPIC_KEY_ACTIONS,
} from '../remediation/permissions';
import { RULE_CONFIG_ACTIONS, RULE_IAM_ACTIONS } from '../rules/access-key-age/permissions';
import { AUTOMATION_SUCCESS_STATUSES, KeyageAlarms } from './alarms';
import { KeyageCentralEvents } from './central-events';
import { KeyageAuditRole } from './audit-role';
import { type MemberSettings, resolveMemberSettings } from './config';
import { loadCheckedConformancePack, packInputParameters } from './conformance-pack';
import { scopedStatements } from './iam-scopes';
import { DEFAULT_MAX_EVENT_AGE, keyageFunction } from './lambda-function';
import {
  CONFIG_RULE_NAME,
  DEACTIVATE_RUNBOOK_NAME,
  DELETE_RUNBOOK_NAME,
  KEYAGE_NAME_PREFIX,
  NOTIFICATION_TOPIC_NAME,
  REMEDIATION_FUNCTION_NAME,
  RULE_FUNCTION_NAME,
  automationRoleName,
} from './names';
import { allowKeyageSourcesToPublish, topicTarget } from './notifications';
import { KeyagePackDeployment } from './pack-deployment';
import { PACK_LITERAL_PARAMETERS } from './pack-render';
import { DEACTIVATE_RUNBOOK_FILE, DELETE_RUNBOOK_FILE, REMEDIATION_HANDLER_ENTRY, RULE_HANDLER_ENTRY } from './project';
import { RecordKey } from './record-key';
import { loadRunbook } from './runbooks';

export { LAMBDA_RUNTIME } from './lambda-function';
export {
  CONFIG_RULE_NAME,
  CONFORMANCE_PACK_NAME,
  DEACTIVATE_RUNBOOK_NAME,
  DELETE_RUNBOOK_NAME,
  REMEDIATION_FUNCTION_NAME,
  RULE_FUNCTION_NAME,
} from './names';
/**
 * Memory of the rule function, in MB, from the measured peak RSS of the periodic sweep at IAM's
 * quota of 5,000 users (BENCHMARKS.md, "Memory of the sweep"). Under the heap limits Lambda
 * gives a 128 MB function the sweep peaks at 101–107 MB, and at 104–110 MB with ListUsers paged
 * as IAM pages it (1,000 users an answer): 14–19% of 128 MB left, too little for an
 * account whose answers are larger than the benchmark's (longer names and paths, tags). keyage
 * keeps at least a quarter of the function's memory free over that peak, so the rule gets
 * 192 MB, where the sweep peaks at 113–123 MB (36% free).
 */
export const RULE_FUNCTION_MEMORY_MB = 192;

/** The SSM parameter where runbook 2's every-user run records the user it examined last. */
export const DELETE_CURSOR_PARAMETER_NAME = '/keyage/delete-runbook-cursor';

/** Runbook 2's `IAMUser` value meaning every user of the account. */
export const ALL_USERS_TARGET = '*';

/** Props of {@link KeyageMember}: every member setting, each optional with its default. */
export type KeyageMemberProps = Partial<MemberSettings>;

/** The resources one account needs to keep its IAM access keys younger than the limit. */
export class KeyageMember extends Construct {
  /** The settings in force, defaults filled in. */
  public readonly settings: MemberSettings;
  /** The Config rule's Lambda function. */
  public readonly ruleFunction: NodejsFunction;
  /** The remediation Lambda function the runbooks invoke: the only principal that writes to IAM. */
  public readonly remediationFunction: NodejsFunction;
  /** The role SSM Automation assumes to run the runbooks. */
  public readonly automationRole: Role;
  /** Runbook 1: deactivate stale keys. */
  public readonly deactivateRunbook: CfnDocument;
  /** Runbook 2: delete keys deactivated by keyage after the grace period. */
  public readonly deleteRunbook: CfnDocument;
  /** The conformance pack holding the rule and its remediation, and the reconciler that deploys it. */
  public readonly conformancePack: KeyagePackDeployment;
  /** The daily schedule of runbook 2 for every user. */
  public readonly deletionSchedule: CfnSchedule;
  /** The topic told about compliance changes, runbook results and alarms. */
  public readonly topic: Topic;
  /** The KMS HMAC key that authenticates deactivation records (`alias/keyage-deactivation-records`). */
  public readonly recordKey: RecordKey;
  /** The alarms on the functions and the runbooks. */
  public readonly alarms: KeyageAlarms;
  /** The read-only role `keyage audit --organization` assumes, when `auditAccountId` is set. */
  public readonly auditRole?: KeyageAuditRole;

  constructor(scope: Construct, id: string, props: KeyageMemberProps = {}) {
    super(scope, id);
    const settings = resolveMemberSettings(props as Record<string, unknown>, (key) => `${id}.${key}`);
    this.settings = settings;
    const stack = Stack.of(this);

    // --- The rule Lambda -------------------------------------------------------------------
    const ruleLogGroup = new LogGroup(this, 'RuleLogGroup', { retention: RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    const ruleRole = new Role(this, 'RuleRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'keyage Config rule: reads IAM users, access keys and tags; puts Config evaluations',
    });
    // The rule reads users with their tags (GetAccountAuthorizationDetails) only for an exemption tag.
    const ruleIamActions = RULE_IAM_ACTIONS.filter((action) => settings.exemptionTag !== '' || action !== 'iam:GetAccountAuthorizationDetails');
    for (const statement of scopedStatements(stack, [...ruleIamActions, ...RULE_CONFIG_ACTIONS])) ruleRole.addToPolicy(statement);
    ruleRole.addToPolicy(logWriteStatement(ruleLogGroup));
    this.ruleFunction = this.nodeFunction('RuleFunction', {
      functionName: RULE_FUNCTION_NAME,
      entry: RULE_HANDLER_ENTRY,
      description: 'keyage: AWS Config rule, IAM access keys younger than MaxAccessKeyAge days (CIS 1.14, Security Hub IAM.3)',
      role: ruleRole,
      logGroup: ruleLogGroup,
      // The periodic sweep of a 5,000-user account under IAM throttling needs minutes.
      timeout: Duration.minutes(15),
      // Config invokes the rule asynchronously. No Lambda retry: a failure shows on the errors
      // alarm, and the next change or periodic notification evaluates again.
      retryAttempts: 0,
      memorySize: RULE_FUNCTION_MEMORY_MB,
    });
    const configInvoke = new CfnPermission(this, 'ConfigInvokesRule', {
      action: 'lambda:InvokeFunction',
      functionName: this.ruleFunction.functionArn,
      principal: 'config.amazonaws.com',
      sourceAccount: Aws.ACCOUNT_ID,
    });

    // --- The remediation Lambda ------------------------------------------------------------
    const remediationLogGroup = new LogGroup(this, 'RemediationLogGroup', { retention: RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    const remediationRole = new Role(this, 'RemediationRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'keyage remediation: deactivates stale access keys and deletes keys keyage deactivated',
    });
    for (const statement of scopedStatements(stack, [...REMEDIATION_LAMBDA_IAM_ACTIONS, ...REMEDIATION_LAMBDA_CONFIG_ACTIONS])) remediationRole.addToPolicy(statement);
    remediationRole.addToPolicy(logWriteStatement(remediationLogGroup));
    this.remediationFunction = this.nodeFunction('RemediationFunction', {
      functionName: REMEDIATION_FUNCTION_NAME,
      entry: REMEDIATION_HANDLER_ENTRY,
      description: 'keyage: remediation for the runbooks; deactivates stale keys, deletes keys keyage deactivated after the grace period',
      role: remediationRole,
      logGroup: remediationLogGroup,
      // The runbooks' aws:invokeLambdaFunction steps wait 300 s (timeoutSeconds); the handler
      // stops examining users 30 s before that, so a longer timeout would only hide work lost.
      timeout: Duration.seconds(300),
      // The runbooks invoke it synchronously; an asynchronous invocation (by a person) must
      // not be repeated by Lambda behind the runbook's back.
      retryAttempts: 0,
    });
    // Records are signed with this key; only the remediation role (and the roles named in
    // recordSignerRoleNames) may sign, so a tag written by anyone else never verifies.
    this.recordKey = new RecordKey(this, 'RecordKey', { remediationRole, recordSignerRoleNames: settings.recordSignerRoleNames });
    const cursor = new CfnSsmParameter(this, 'DeleteCursor', {
      name: DELETE_CURSOR_PARAMETER_NAME,
      type: 'String',
      value: CURSOR_START,
      description: 'keyage: the user ID the daily delete run examined last (only orders the users; never a decision)',
    });
    const cursorArn = `arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:parameter${DELETE_CURSOR_PARAMETER_NAME}`;
    for (const statement of scopedStatements(stack, [...REMEDIATION_LAMBDA_KMS_ACTIONS, ...REMEDIATION_LAMBDA_SSM_ACTIONS], {
      recordKeyArn: this.recordKey.key.keyArn,
      cursorParameterArn: cursorArn,
      documentNames: [DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME],
    })) {
      remediationRole.addToPolicy(statement);
    }
    this.remediationFunction.addEnvironment('KEYAGE_RECORD_KEY_ARN', this.recordKey.key.keyArn);
    this.remediationFunction.addEnvironment('KEYAGE_DELETE_CURSOR_PARAMETER', cursor.ref);

    // --- The Automation role ---------------------------------------------------------------
    this.automationRole = new Role(this, 'AutomationRole', {
      // A fixed name: the conformance pack needs the role's ARN as a literal (keyage pack computes it).
      roleName: automationRoleName(Aws.REGION),
      assumedBy: new ServicePrincipal('ssm.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:automation-execution/*` },
        },
      }),
      description: 'keyage runbooks (SSM Automation AutomationAssumeRole): invoke the remediation function, read keys back',
    });
    for (const statement of scopedStatements(stack, AUTOMATION_ROLE_ACTIONS, { functionArn: this.remediationFunction.functionArn })) {
      this.automationRole.addToPolicy(statement);
    }

    // --- The runbooks ----------------------------------------------------------------------
    // The deployment's own values become the documents' defaults, so a runbook started by hand
    // (or by anyone) honours the same limit, exemption and grace period as the rule.
    const deactivate = loadRunbook(DEACTIVATE_RUNBOOK_FILE, {
      remediationFunction: REMEDIATION_FUNCTION_NAME,
      requiredParameters: ['IAMResourceId', 'MaxAccessKeyAge', 'ExemptionTag', 'DryRun', 'AutomationAssumeRole'],
      defaults: { MaxAccessKeyAge: String(settings.maxAccessKeyAge), ExemptionTag: settings.exemptionTag },
    });
    const deleteParameters = {
      IAMUser: [ALL_USERS_TARGET],
      GracePeriodDays: [String(settings.graceDays)],
      DryRun: [String(!settings.automaticDeletion)],
      AutomationAssumeRole: [this.automationRole.roleArn],
      RemediationFunction: [REMEDIATION_FUNCTION_NAME],
      ...(settings.exemptionTag ? { ExemptionTag: [settings.exemptionTag] } : {}),
    };
    const deleteBook = loadRunbook(DELETE_RUNBOOK_FILE, {
      remediationFunction: REMEDIATION_FUNCTION_NAME,
      requiredParameters: [...Object.keys(deleteParameters), 'ExemptionTag'],
      defaults: { GracePeriodDays: String(settings.graceDays), ExemptionTag: settings.exemptionTag },
    });
    this.deactivateRunbook = new CfnDocument(this, 'DeactivateRunbook', {
      name: DEACTIVATE_RUNBOOK_NAME,
      documentType: 'Automation',
      // A YAML document, as the files are: aws:executeScript's inline Script is for YAML runbooks
      // (JSON ones need attachments). The content is given as the parsed file; SSM stores YAML.
      documentFormat: 'YAML',
      content: deactivate.content,
      updateMethod: 'NewVersion',
    });
    this.deleteRunbook = new CfnDocument(this, 'DeleteRunbook', {
      name: DELETE_RUNBOOK_NAME,
      documentType: 'Automation',
      documentFormat: 'YAML',
      content: deleteBook.content,
      updateMethod: 'NewVersion',
    });

    // --- Notifications ---------------------------------------------------------------------
    const key = new Key(this, 'NotificationKey', {
      description: 'keyage: encrypts the notification topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.topic = new Topic(this, 'NotificationTopic', { topicName: NOTIFICATION_TOPIC_NAME, displayName: 'keyage', masterKey: key, enforceSSL: true });
    // keyage's EventBridge rules and alarms of this account may publish (and use the key for this topic); nothing else.
    allowKeyageSourcesToPublish(this.topic, key);
    // The remediation function tells the topic about suspected forged deactivation records.
    for (const statement of scopedStatements(stack, [...REMEDIATION_LAMBDA_SNS_ACTIONS, ...REMEDIATION_LAMBDA_TOPIC_KEY_ACTIONS], { topicArn: this.topic.topicArn, topicKeyArn: key.keyArn })) {
      remediationRole.addToPolicy(statement);
    }
    this.remediationFunction.addEnvironment('KEYAGE_ALERT_TOPIC_ARN', this.topic.topicArn);
    if (settings.notificationEmail) this.topic.addSubscription(new EmailSubscription(settings.notificationEmail));

    // --- The conformance pack: the rule and its remediation, deployed once Config records --
    const pack = loadCheckedConformancePack();
    const inputParameters = Object.fromEntries(
      packInputParameters(pack.template, {
        RuleFunctionArn: this.ruleFunction.functionArn,
        ConfigRuleName: CONFIG_RULE_NAME,
        MaxAccessKeyAge: String(settings.maxAccessKeyAge),
        ExemptionTag: settings.exemptionTag,
        EvaluationRefreshDays: String(settings.evaluationRefreshDays),
        MaximumExecutionFrequency: settings.maximumExecutionFrequency,
        RemediationDocumentName: DEACTIVATE_RUNBOOK_NAME,
        AutomationAssumeRole: this.automationRole.roleArn,
        RemediationFunction: REMEDIATION_FUNCTION_NAME,
        AutomaticRemediation: String(settings.automaticRemediation),
        RemediationDryRun: String(settings.remediationDryRun),
        MaximumAutomaticAttempts: String(settings.maximumAutomaticAttempts),
        RetryAttemptSeconds: String(settings.retryAttemptSeconds),
        ConcurrentExecutionRatePercentage: String(settings.concurrentExecutionRatePercentage),
        ErrorPercentage: String(settings.errorPercentage),
      })
        // ConfigRuleName and AutomationAssumeRole are rendered into the body, not passed.
        .filter((p) => !(PACK_LITERAL_PARAMETERS as readonly string[]).includes(p.parameterName))
        .map((p) => [p.parameterName, p.parameterValue]),
    );
    this.conformancePack = new KeyagePackDeployment(this, 'ConformancePack', {
      configRuleName: CONFIG_RULE_NAME,
      automationRole: this.automationRole,
      inputParameters,
      topic: this.topic,
      // Config checks that it may invoke the rule function, and the remediation names the runbook.
      dependsOn: [configInvoke, this.deactivateRunbook, defaultPolicyOf(this.automationRole)],
      logLevel: settings.logLevel,
    });

    // --- The daily delete run --------------------------------------------------------------
    const schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'keyage daily schedule: starts the delete runbook as the Automation role',
    });
    schedulerRole.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['ssm:StartAutomationExecution'],
        resources: [`arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:automation-definition/${DELETE_RUNBOOK_NAME}:*`],
      }),
    );
    schedulerRole.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['iam:PassRole'],
        resources: [this.automationRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
      }),
    );
    this.deletionSchedule = new CfnSchedule(this, 'DeletionSchedule', {
      description: `keyage: ${settings.automaticDeletion ? '' : 'DRY RUN of '}runbook 2 for every user (grace period ${settings.graceDays} days)`,
      scheduleExpression: settings.deletionSchedule,
      scheduleExpressionTimezone: settings.scheduleTimezone,
      flexibleTimeWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: 30 },
      state: 'ENABLED',
      target: {
        arn: `arn:${Aws.PARTITION}:scheduler:::aws-sdk:ssm:startAutomationExecution`,
        roleArn: schedulerRole.roleArn,
        input: stack.toJsonString({ DocumentName: DELETE_RUNBOOK_NAME, Parameters: deleteParameters }),
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    });
    this.deletionSchedule.node.addDependency(this.deleteRunbook);
    this.deletionSchedule.node.addDependency(defaultPolicyOf(schedulerRole));

    // --- Events to the topic, readable; alarms; the central event bus ---------------------
    const detail = (path: string) => EventField.fromPath(`$.detail.${path}`);
    const complianceRule = new Rule(this, 'ComplianceChangeRule', {
      ruleName: `${KEYAGE_NAME_PREFIX}compliance-change`,
      description: 'keyage: the access-key-age rule changed the compliance of a user',
      eventPattern: {
        source: ['aws.config'],
        detailType: ['Config Rules Compliance Change'],
        // Config names a pack's rule "<ConfigRuleName>-conformance-pack-<id>".
        detail: { configRuleName: Match.prefix(CONFIG_RULE_NAME) },
      },
      targets: [
        topicTarget(
          this.topic,
          RuleTargetInput.fromText(
            `keyage: IAM user ${detail('resourceId')} in account ${EventField.account} is now ${detail('newEvaluationResult.complianceType')} (rule ${detail('configRuleName')}, Region ${EventField.region}): ${detail('newEvaluationResult.annotation')}`,
          ),
        ),
      ],
    });
    const runbookResultRule = new Rule(this, 'RunbookResultRule', {
      ruleName: `${KEYAGE_NAME_PREFIX}runbook-succeeded`,
      description: 'keyage: a keyage runbook finished its work (deactivation or deletion, real or dry run); failures go through keyage-runbook-failed',
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['EC2 Automation Execution Status-change Notification'],
        detail: { Definition: [DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME], Status: [...AUTOMATION_SUCCESS_STATUSES] },
      },
      targets: [
        topicTarget(
          this.topic,
          RuleTargetInput.fromText(
            `keyage: runbook ${detail('Definition')} ended ${detail('Status')} in account ${EventField.account}, Region ${EventField.region} (execution ${detail('ExecutionId')}). Its outputs list what it did or, in a dry run, would do.`,
          ),
        ),
      ],
    });
    this.alarms = new KeyageAlarms(this, 'Alarms', {
      topic: this.topic,
      ruleFunction: this.ruleFunction,
      remediationFunction: this.remediationFunction,
      otherFunctions: { 'pack-reconciler': this.conformancePack.function },
      runbookNames: [DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME],
    });
    if (settings.centralEventBusArn) {
      new KeyageCentralEvents(this, 'CentralEvents', {
        eventBusArn: settings.centralEventBusArn,
        rules: [complianceRule, runbookResultRule, this.alarms.runbookFailedRule],
      });
    }

    new CfnOutput(this, 'NotificationTopicArn', { value: this.topic.topicArn, description: 'SNS topic of keyage notifications' });
    new CfnOutput(this, 'AutomationRoleArn', { value: this.automationRole.roleArn, description: 'AutomationAssumeRole of the keyage runbooks' });

    if (settings.auditAccountId) {
      this.auditRole = new KeyageAuditRole(this, 'AuditRole', {
        trustedAccountId: settings.auditAccountId,
        securityHubImport: settings.auditRoleImportsFindings === true,
        recordKeyArn: this.recordKey.key.keyArn,
      });
    }

    this.acknowledgeNagFindings({ rule: ruleRole, remediation: remediationRole, automation: this.automationRole, scheduler: schedulerRole });
  }

  private nodeFunction(
    id: string,
    options: { functionName: string; entry: string; description: string; role: Role; logGroup: LogGroup; timeout: Duration; retryAttempts: number; memorySize?: number },
  ): NodejsFunction {
    return keyageFunction(this, id, { ...options, environment: { LOG_LEVEL: this.settings.logLevel }, maxEventAge: DEFAULT_MAX_EVENT_AGE });
  }

  /** Each AwsSolutions finding keyage accepts, with the reason. */
  private acknowledgeNagFindings(roles: { rule: Role; remediation: Role; automation: Role; scheduler: Role }): void {
    const users = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*]';
    const any = 'AwsSolutions-IAM5[Resource::*]';
    const findings: Array<[Construct, string, string]> = [
      [roles.rule, users, 'The rule reads the access keys and tags of every IAM user of the account: IAM has no narrower resource for "any user".'],
      [roles.rule, any, 'iam:ListUsers, iam:GetAccountAuthorizationDetails, the credential report calls, config:PutEvaluations and config:GetResourceConfigHistory have no resource type in IAM: "*" is the only resource they accept.'],
      [
        roles.rule,
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:config:<AWS::Region>:<AWS::AccountId>:config-rule/*]',
        'config:GetComplianceDetailsByConfigRule on the pack rule, whose ID Config generates when the pack is created; scoped to this account and Region.',
      ],
      [roles.remediation, users, 'The remediation acts on whichever IAM user Config or the schedule names: IAM has no narrower resource for "any user". The code re-reads live state and never deletes an active key.'],
      [roles.remediation, any, 'iam:ListUsers, iam:GetAccountAuthorizationDetails and config:ListDiscoveredResources have no resource type in IAM: "*" is the only resource they accept.'],
      [
        roles.remediation,
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:automation-execution/*]',
        'ssm:GetAutomationExecution on the executions of this account and Region: their IDs are generated at start, and the function only reads the one an invocation names, to refuse any invoker but a running keyage runbook.',
      ],
      [roles.automation, users, 'The runbook reads back the keys of the user it remediated, which can be any IAM user of the account.'],
      [
        roles.scheduler,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:automation-definition/${DELETE_RUNBOOK_NAME}:*]`,
        'Only the delete runbook, in any of its versions (each update of the document creates a new version).',
      ],
    ];
    for (const [construct, id, reason] of findings) Validations.of(construct).acknowledge({ id, reason });
  }
}

/** The inline policy a role's grants go into: what must exist before the role is used. */
function defaultPolicyOf(role: Role): Construct {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`keyage: ${role.node.path} has no policy`);
  return policy;
}

function logWriteStatement(logGroup: LogGroup): PolicyStatement {
  return new PolicyStatement({ effect: Effect.ALLOW, actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] });
}
