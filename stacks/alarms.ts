/**
 * Failures keyage must not keep to itself: a CloudWatch alarm, to the notification topic, for
 *
 * - errors and throttles of the rule function and of the remediation function (a failing sweep
 *   puts no verdict for the users it did not reach; a failing remediation leaves a stale key
 *   active), and errors of the pack reconciler;
 * - every failed, timed-out, cancelled or exited keyage Automation execution: an EventBridge
 *   rule matches them (and sends each one to the topic, readable), and the alarm watches the
 *   rule's TriggeredRules metric (AWS/Events, dimension RuleName), so the state stays visible
 *   in CloudWatch until an hour passes without one.
 *
 * Every alarm is named `keyage-…`, notifies on ALARM and on OK, and treats missing data as not
 * breaching (a function that did not run did not fail).
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { KEYAGE_NAME_PREFIX } from './names';
import { topicTarget } from './notifications';

/** Automation statuses that mean the runbook did not finish its work. */
export const AUTOMATION_FAILURE_STATUSES = ['Failed', 'TimedOut', 'Cancelled', 'CompletedWithFailure', 'Exited'] as const;
/** Automation statuses that mean it did. */
export const AUTOMATION_SUCCESS_STATUSES = ['Success', 'CompletedWithSuccess'] as const;

/** Name of the rule that matches failed keyage Automation executions. */
export const RUNBOOK_FAILED_RULE_NAME = `${KEYAGE_NAME_PREFIX}runbook-failed`;

/** Props of {@link KeyageAlarms}. */
export interface KeyageAlarmsProps {
  /** Where alarms (and the failed-runbook events) are sent. */
  readonly topic: Topic;
  /** The rule function: errors and throttles. */
  readonly ruleFunction: IFunction;
  /** The remediation function: errors and throttles. */
  readonly remediationFunction: IFunction;
  /** Other functions whose errors must be seen, by alarm name suffix. @default none */
  readonly otherFunctions?: Readonly<Record<string, IFunction>>;
  /** The runbooks whose failed executions raise the runbook alarm. */
  readonly runbookNames: readonly string[];
}

/** The alarms of one account. */
export class KeyageAlarms extends Construct {
  /** Every alarm, by name. */
  public readonly alarms: ReadonlyMap<string, Alarm>;
  /** The rule matching failed keyage Automation executions. */
  public readonly runbookFailedRule: Rule;

  constructor(scope: Construct, id: string, props: KeyageAlarmsProps) {
    super(scope, id);
    const alarms = new Map<string, Alarm>();
    const action = new SnsAction(props.topic);
    const add = (name: string, description: string, metric: Metric, evaluationPeriods = 1): Alarm => {
      const alarm = new Alarm(this, name, {
        alarmName: `${KEYAGE_NAME_PREFIX}${name}`,
        alarmDescription: description,
        metric,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods,
        datapointsToAlarm: evaluationPeriods,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      alarms.set(alarm.node.id, alarm);
      return alarm;
    };
    const perFunction = (short: string, label: string, fn: IFunction, throttles: boolean) => {
      add(
        `${short}-errors`,
        `keyage: the ${label} function (${fn.functionName}) failed in the last 5 minutes. Read its log group for the error; an error is never turned into a verdict or an action.`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      );
      if (throttles) {
        add(
          `${short}-throttles`,
          `keyage: invocations of the ${label} function (${fn.functionName}) were throttled in the last 5 minutes: the account's Lambda concurrency is exhausted, and keyage's work is delayed or lost.`,
          fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        );
      }
    };
    perFunction('rule', 'Config rule', props.ruleFunction, true);
    perFunction('remediation', 'remediation', props.remediationFunction, true);
    for (const [short, fn] of Object.entries(props.otherFunctions ?? {})) perFunction(short, short, fn, false);

    const detail = (path: string) => EventField.fromPath(`$.detail.${path}`);
    this.runbookFailedRule = new Rule(this, 'RunbookFailedRule', {
      ruleName: RUNBOOK_FAILED_RULE_NAME,
      description: 'keyage: a keyage runbook did not finish its work (failed, timed out, cancelled or exited)',
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['EC2 Automation Execution Status-change Notification'],
        detail: { Definition: [...props.runbookNames], Status: [...AUTOMATION_FAILURE_STATUSES] },
      },
      targets: [
        topicTarget(
          props.topic,
          RuleTargetInput.fromText(
            `keyage: runbook ${detail('Definition')} ended ${detail('Status')} in account ${EventField.account}, Region ${EventField.region} (execution ${detail('ExecutionId')}). Open it in Systems Manager > Automation to see the failed step; nothing was deleted by a failed execution.`,
          ),
        ),
      ],
    });
    add(
      'runbook-failed',
      `keyage: a keyage runbook (${props.runbookNames.join(', ')}) ended Failed, TimedOut, Cancelled, CompletedWithFailure or Exited in the last hour. See the execution in Systems Manager > Automation.`,
      new Metric({ namespace: 'AWS/Events', metricName: 'TriggeredRules', dimensionsMap: { RuleName: RUNBOOK_FAILED_RULE_NAME }, period: Duration.hours(1), statistic: 'Sum' }),
    );
    this.alarms = alarms;
  }
}
