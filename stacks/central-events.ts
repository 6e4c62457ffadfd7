/**
 * The optional central notification target: every account also sends keyage's events to one
 * EventBridge event bus, typically in a security account, instead of (or as well as) its own
 * topic. One place to watch, route (SNS, chat, a SIEM) and subscribe to once, instead of one
 * e-mail subscription to confirm per account.
 *
 * Sent: the compliance changes and runbook results the account's rules already match, and the
 * state changes of every keyage CloudWatch alarm (so "account X does not record" arrives
 * centrally too). EventBridge needs a role to put events on a bus of another account; it may
 * put events on that bus only, for keyage's rules of this account only.
 *
 * The bus's own resource policy must allow the organization's accounts to put events
 * (docs/deployment.md shows the command).
 */
import { Aws } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { KEYAGE_NAME_PREFIX } from './names';
import { keyageRulesArnPattern } from './notifications';

/** Name of the rule that forwards keyage alarm state changes. */
export const ALARM_STATE_RULE_NAME = `${KEYAGE_NAME_PREFIX}alarm-state-change`;

/** Props of {@link KeyageCentralEvents}. */
export interface KeyageCentralEventsProps {
  /** The central event bus. */
  readonly eventBusArn: string;
  /** Rules whose events also go to the central bus. */
  readonly rules: readonly Rule[];
}

/** Forwarding of keyage's events to a central event bus. */
export class KeyageCentralEvents extends Construct {
  /** The role EventBridge uses to put events on the central bus. */
  public readonly role: Role;
  /** The rule matching keyage alarm state changes. */
  public readonly alarmStateRule: Rule;

  constructor(scope: Construct, id: string, props: KeyageCentralEventsProps) {
    super(scope, id);
    const bus = EventBus.fromEventBusArn(this, 'CentralBus', props.eventBusArn);
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnLike: { 'aws:SourceArn': keyageRulesArnPattern() } },
      }),
      description: 'keyage: EventBridge puts keyage events on the central event bus',
    });
    this.role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['events:PutEvents'], resources: [props.eventBusArn] }));
    this.alarmStateRule = new Rule(this, 'AlarmStateRule', {
      ruleName: ALARM_STATE_RULE_NAME,
      description: 'keyage: a keyage alarm changed state (sent to the central event bus)',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: KEYAGE_NAME_PREFIX }] },
      },
    });
    const target = new EventBusTarget(bus, { role: this.role });
    for (const rule of [...props.rules, this.alarmStateRule]) rule.addTarget(target);
  }
}
