/**
 * Who may publish to keyage's notification topic, and how events reach it.
 *
 * The topic is encrypted with a customer managed key, so every AWS service that publishes to it
 * needs both the topic policy and the key policy (Amazon SNS Developer Guide, "Key management":
 * compatibility between event sources from AWS services and encrypted topics). Each grant is
 * narrowed to keyage's own sources:
 *
 * - topic policy: `sns:Publish` for events.amazonaws.com only from keyage's EventBridge rules
 *   and for cloudwatch.amazonaws.com only from keyage's alarms, both of this account
 *   (aws:SourceAccount, aws:SourceArn);
 * - key policy: `kms:Decrypt` / `kms:GenerateDataKey*` only for this topic
 *   (`kms:EncryptionContext:aws:sns:topicArn`, which SNS sets on every call), and for CloudWatch
 *   only from keyage's alarms of this account. EventBridge's delivery to an encrypted topic does
 *   not carry aws:SourceAccount / aws:SourceArn into the KMS request, so a KMS condition on
 *   them would silently drop every notification: the encryption context condition is the one
 *   that holds there.
 *
 * Rules use {@link topicTarget} instead of aws-events-targets' SnsTopic, which would add its
 * own unconditioned grants to both policies.
 */
import { Aws } from 'aws-cdk-lib';
import type { IRuleTarget, RuleTargetConfig, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import { KEYAGE_NAME_PREFIX, NOTIFICATION_TOPIC_NAME } from './names';

/** ARN of the notification topic, built from its fixed name (the key policy cannot reference the topic: the topic references the key). */
export function notificationTopicArn(): string {
  return `arn:${Aws.PARTITION}:sns:${Aws.REGION}:${Aws.ACCOUNT_ID}:${NOTIFICATION_TOPIC_NAME}`;
}

/** ARN pattern of every keyage EventBridge rule of this account and Region (rules are named `keyage-…`). */
export function keyageRulesArnPattern(): string {
  return `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/${KEYAGE_NAME_PREFIX}*`;
}

/** ARN pattern of every keyage CloudWatch alarm of this account and Region (alarms are named `keyage-…`). */
export function keyageAlarmsArnPattern(): string {
  return `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${KEYAGE_NAME_PREFIX}*`;
}

/** An EventBridge target that publishes to the topic and grants nothing (see the module comment). */
export function topicTarget(topic: Topic, input?: RuleTargetInput): IRuleTarget {
  return {
    bind: (): RuleTargetConfig => ({ arn: topic.topicArn, ...(input ? { input } : {}) }),
  };
}

/** Let keyage's EventBridge rules and CloudWatch alarms of this account publish to the topic, and nothing else. */
export function allowKeyageSourcesToPublish(topic: Topic, key: Key): void {
  const sources = [
    { sid: 'KeyageRulesPublish', service: 'events.amazonaws.com', sourceArn: keyageRulesArnPattern() },
    { sid: 'KeyageAlarmsPublish', service: 'cloudwatch.amazonaws.com', sourceArn: keyageAlarmsArnPattern() },
  ];
  for (const { sid, service, sourceArn } of sources) {
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid,
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal(service)],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnLike: { 'aws:SourceArn': sourceArn } },
      }),
    );
  }
  const onlyThisTopic = { 'kms:EncryptionContext:aws:sns:topicArn': notificationTopicArn() };
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'KeyageRulesUseKeyForTopic',
      effect: Effect.ALLOW,
      principals: [new ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: onlyThisTopic },
    }),
  );
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'KeyageAlarmsUseKeyForTopic',
      effect: Effect.ALLOW,
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { ...onlyThisTopic, 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnLike: { 'aws:SourceArn': keyageAlarmsArnPattern() } },
    }),
  );
}
