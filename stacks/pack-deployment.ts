/**
 * The conformance pack, deployed so that it works the first time in every account: by the
 * pack reconciler (`pack-reconciler/`), not as an AWS::Config::ConformancePack resource.
 *
 * - A custom resource runs the reconciler on stack create and update (the pack is created or
 *   updated right away when Config records) and delete (the pack is deleted).
 * - An hourly EventBridge schedule runs it again, and so does a recorder being started or
 *   changed (StartConfigurationRecorder / PutConfigurationRecorder / PutDeliveryChannel, when
 *   CloudTrail delivers them to EventBridge): an account whose recorder comes up after keyage
 *   gets its pack without anyone re-running anything.
 * - Three alarms tell the notification topic when the account cannot be covered: Config not
 *   recording (after 6 hours), Config not recording AWS::IAM::User (after 6 hours), the pack
 *   failing to deploy (2 hours in a row). Each alarm description names the account, the Region
 *   and what to enable.
 *
 * Why not the pack as a CloudFormation resource: it fails when the recorder is not running,
 * and rolls the whole member stack back with it. Why not a separate stack for the pack: the
 * same failure, only smaller, and a person would still have to re-run it once the recorder
 * is up. The reconciler is idempotent, so running it again is always safe.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Aws, CfnOutput, CustomResource, Duration, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct, type IDependable } from 'constructs';
import { DEFAULT_MAX_EVENT_AGE, keyageFunction } from './lambda-function';
import { CONFORMANCE_PACK_NAME, KEYAGE_NAME_PREFIX, PACK_RECONCILER_FUNCTION_NAME } from './names';
import { RECONCILER_METRICS } from './pack-reconciler/handler';
import { CONFORMANCE_PACK_FILE, PACK_RECONCILER_ENTRY } from './project';

/** The config:* actions of the reconciler; none has a resource type in IAM, so they are granted on "*". */
export const PACK_RECONCILER_CONFIG_ACTIONS = [
  'config:DescribeConfigurationRecorderStatus', // is a recorder recording?
  'config:DescribeConfigurationRecorders', // does it record AWS::IAM::User?
  'config:DescribeConformancePackStatus', // the pack's deployment state
  'config:DescribeConformancePacks', // its input parameters, compared with the deployed settings
  'config:PutConformancePack', // create or update the pack
  'config:DeleteConformancePack', // on stack delete
] as const;

/** Name of the hourly reconcile rule, and of the recorder-started rule. */
export const PACK_SCHEDULE_RULE_NAME = `${KEYAGE_NAME_PREFIX}pack-reconcile-hourly`;
export const RECORDER_CHANGE_RULE_NAME = `${KEYAGE_NAME_PREFIX}config-recorder-changed`;

/** Props of {@link KeyagePackDeployment}. */
export interface KeyagePackDeploymentProps {
  /** The rule name rendered literally into the pack. */
  readonly configRuleName: string;
  /** The Automation role, whose ARN is rendered literally into the pack. */
  readonly automationRole: Role;
  /** Every other pack parameter, as ConformancePackInputParameters. */
  readonly inputParameters: Readonly<Record<string, string>>;
  /** Where the coverage alarms go. */
  readonly topic: Topic;
  /** What must exist before the pack is created (Config's permission on the rule function, the runbook, the role's policy). */
  readonly dependsOn: readonly IDependable[];
  /**
   * Tags given to the pack when it is created.
   * @default the stack's tags (keyage's own and the settings', as the app applies them)
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Log level of the reconciler.
   * @default 'info'
   */
  readonly logLevel?: string;
}

/** The conformance pack and the function that deploys it. */
export class KeyagePackDeployment extends Construct {
  /** The pack reconciler. */
  public readonly function: NodejsFunction;
  /** The custom resource that runs it on stack create, update and delete. */
  public readonly resource: CustomResource;
  /** The coverage alarms, by name. */
  public readonly alarms: ReadonlyMap<string, Alarm>;
  /** The hourly schedule and the recorder-changed rule. */
  public readonly rules: readonly Rule[];

  constructor(scope: Construct, id: string, props: KeyagePackDeploymentProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroup = new LogGroup(this, 'LogGroup', { retention: RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'keyage pack reconciler: creates, updates and deletes the keyage conformance pack once AWS Config records',
    });
    role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: [...PACK_RECONCILER_CONFIG_ACTIONS].sort(), resources: ['*'] }));
    role.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['config:TagResource'],
        resources: [`arn:${Aws.PARTITION}:config:${Aws.REGION}:${Aws.ACCOUNT_ID}:conformance-pack/${CONFORMANCE_PACK_NAME}/*`],
      }),
    );
    // PutConformancePack creates Config's service-linked role for packs on first use.
    role.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/config-conforms.amazonaws.com/AWSServiceRoleForConfigConforms`],
        conditions: { StringEquals: { 'iam:AWSServiceName': 'config-conforms.amazonaws.com' } },
      }),
    );
    // The pack's remediation names the Automation role; creating it requires passing that role.
    role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['iam:PassRole'], resources: [props.automationRole.roleArn] }));
    role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));

    this.function = keyageFunction(this, 'Function', {
      functionName: PACK_RECONCILER_FUNCTION_NAME,
      entry: PACK_RECONCILER_ENTRY,
      description: 'keyage: creates the keyage conformance pack once AWS Config records, keeps it at the deployed settings, reports accounts it cannot cover',
      role,
      logGroup,
      // A stack update waits for a pack deployment in progress (minutes) before updating it.
      timeout: Duration.minutes(10),
      memorySize: 256,
      environment: {
        LOG_LEVEL: props.logLevel ?? 'info',
        PACK_NAME: CONFORMANCE_PACK_NAME,
        CONFIG_RULE_NAME: props.configRuleName,
        AUTOMATION_ROLE_ARN: props.automationRole.roleArn,
        PACK_INPUT_PARAMETERS: stack.toJsonString(props.inputParameters),
        // Read when the template is written, after the app has tagged the stack.
        PACK_TAGS: props.tags ? JSON.stringify(props.tags) : Lazy.string({ produce: () => JSON.stringify(stack.tags.tagValues()) }),
      },
      // Reconciling is idempotent: Lambda may retry an asynchronous run (schedule, recorder event) twice.
      retryAttempts: 2,
      maxEventAge: DEFAULT_MAX_EVENT_AGE,
      loader: { '.yaml': 'text' },
    });

    const templateSha256 = createHash('sha256').update(readFileSync(CONFORMANCE_PACK_FILE)).digest('hex');
    this.resource = new CustomResource(this, 'Pack', {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::KeyageConformancePack',
      // Properties change whenever the pack would: CloudFormation then sends an Update.
      properties: {
        PackName: CONFORMANCE_PACK_NAME,
        TemplateSha256: templateSha256,
        ConfigRuleName: props.configRuleName,
        AutomationAssumeRole: props.automationRole.roleArn,
        InputParameters: props.inputParameters,
      },
      serviceTimeout: Duration.minutes(12),
    });
    for (const dependency of props.dependsOn) this.resource.node.addDependency(dependency);
    // The function's policy must exist before the first run.
    this.resource.node.addDependency(role);

    const target = new LambdaFunction(this.function);
    this.rules = [
      new Rule(this, 'Hourly', {
        ruleName: PACK_SCHEDULE_RULE_NAME,
        description: 'keyage: reconcile the conformance pack (creates it once AWS Config records, reports the account otherwise)',
        schedule: Schedule.rate(Duration.hours(1)),
        targets: [target],
      }),
      new Rule(this, 'RecorderChanged', {
        ruleName: RECORDER_CHANGE_RULE_NAME,
        description: 'keyage: the AWS Config recorder was started or changed; reconcile the conformance pack now',
        eventPattern: {
          source: ['aws.config'],
          detailType: ['AWS API Call via CloudTrail'],
          detail: { eventSource: ['config.amazonaws.com'], eventName: ['StartConfigurationRecorder', 'PutConfigurationRecorder', 'PutDeliveryChannel'] },
        },
        targets: [target],
      }),
    ];

    const where = `account ${Aws.ACCOUNT_ID}, Region ${Aws.REGION}`;
    const action = new SnsAction(props.topic);
    const alarms = new Map<string, Alarm>();
    const coverageAlarm = (name: string, metricName: string, hours: number, description: string) => {
      const alarm = new Alarm(this, name, {
        alarmName: `${KEYAGE_NAME_PREFIX}${name}`,
        alarmDescription: description,
        metric: new Metric({ namespace: RECONCILER_METRICS.namespace, metricName, dimensionsMap: { ...RECONCILER_METRICS.dimension }, period: Duration.hours(1), statistic: 'Maximum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: hours,
        datapointsToAlarm: hours,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      alarms.set(name, alarm);
    };
    coverageAlarm(
      'config-not-recording',
      RECONCILER_METRICS.recorderNotRecording,
      6,
      `keyage cannot cover ${where}: AWS Config has not been recording there for 6 hours, so the keyage conformance pack (the rule and its remediation) cannot be created. Enable it: a configuration recorder that records AWS::IAM::User, a delivery channel, and start-configuration-recorder (docs/deployment.md, "Prerequisites"). keyage creates the pack within the hour after recording starts; this alarm then returns to OK.`,
    );
    coverageAlarm(
      'iam-users-not-recorded',
      RECONCILER_METRICS.iamUsersNotRecorded,
      6,
      `keyage covers ${where} only partly: AWS Config records there, but not AWS::IAM::User, so users are evaluated by the periodic sweep only, not on every change. Add AWS::IAM::User to the recorder's recording group in this one Region (with Control Tower, in the home Region, or choose that Region for keyage).`,
    );
    coverageAlarm(
      'pack-not-deployed',
      RECONCILER_METRICS.packNotDeployed,
      2,
      `keyage cannot cover ${where}: the keyage conformance pack failed to deploy for 2 hours in a row. The reason is in the log group ${logGroup.logGroupName} and in the AWS Config console (Conformance packs). keyage retries every hour.`,
    );
    this.alarms = alarms;

    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${PACK_RECONCILER_CONFIG_ACTIONS.join(', ')} have no resource type in IAM (Service Authorization Reference, AWS Config): "*" is the only resource they accept. The role has no other "*" grant.`,
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:config:<AWS::Region>:<AWS::AccountId>:conformance-pack/keyage/*]',
        reason: 'config:TagResource on the keyage conformance pack only, whose ID Config generates when the pack is created (conformance-pack/keyage/<id>).',
      },
    );

    new CfnOutput(this, 'Coverage', {
      value: this.resource.getAttString('Coverage'),
      description: 'What the pack reconciler did at the last deployment: PUT, WAITING_FOR_RECORDER or DEFERRED (see the coverage alarms)',
    });
  }
}
