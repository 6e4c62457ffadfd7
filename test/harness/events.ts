/**
 * rdk-style event builders: the Lambda events AWS Config sends a custom rule, built from a
 * configuration item (or a summary) and rule parameters, in the shape the AWS Config
 * developer guide documents. Fixtures live in `test/fixtures/`.
 */
import baseItem from '../fixtures/iam-user-configuration-item.json';
import oversizedBase from '../fixtures/oversized-change-invoking-event.json';

export const ACCOUNT_ID = '123456789012';
export const RULE_NAME = 'keyage-access-key-age';
export const RULE_ARN = `arn:aws:config:us-east-1:${ACCOUNT_ID}:config-rule/config-rule-abc123`;

export type RuleParametersInput = Record<string, string | number> | string | undefined;

export interface EventOptions {
  /** @default 'TESTMODE' (the RDK convention: PutEvaluations with TestMode) */
  resultToken?: string;
  /** @default false */
  eventLeftScope?: boolean;
  accountId?: string;
  configRuleName?: string;
}

/** An AWS::IAM::User configuration item, the fixture with `overrides` applied. */
export function userConfigurationItem(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const item = structuredClone(baseItem) as Record<string, unknown>;
  const merged = { ...item, ...overrides };
  if (overrides.resourceName !== undefined || overrides.resourceId !== undefined) {
    merged.configuration = {
      ...(item.configuration as Record<string, unknown>),
      userName: merged.resourceName,
      userId: merged.resourceId,
      ...((overrides.configuration as Record<string, unknown>) ?? {}),
    };
  }
  return merged;
}

function envelope(invokingEvent: unknown, params: RuleParametersInput, opts: EventOptions): Record<string, unknown> {
  return {
    version: '1.0',
    invokingEvent: JSON.stringify(invokingEvent),
    ruleParameters: typeof params === 'string' ? params : JSON.stringify(params ?? {}),
    resultToken: opts.resultToken ?? 'TESTMODE',
    eventLeftScope: opts.eventLeftScope ?? false,
    executionRoleArn: `arn:aws:iam::${opts.accountId ?? ACCOUNT_ID}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`,
    configRuleArn: RULE_ARN,
    configRuleName: opts.configRuleName ?? RULE_NAME,
    configRuleId: 'config-rule-abc123',
    accountId: opts.accountId ?? ACCOUNT_ID,
    evaluationMode: 'DETECTIVE',
  };
}

/** A ConfigurationItemChangeNotification for `configurationItem`. */
export function changeEvent(configurationItem: Record<string, unknown>, params?: RuleParametersInput, opts: EventOptions = {}): Record<string, unknown> {
  return envelope(
    {
      configurationItemDiff: null,
      configurationItem,
      notificationCreationTime: notificationTime(configurationItem.configurationItemCaptureTime),
      messageType: 'ConfigurationItemChangeNotification',
      recordVersion: '1.3',
    },
    params,
    opts,
  );
}

/** Config notifies a few seconds after capture; a malformed capture time gets a fixed time. */
function notificationTime(captureTime: unknown): string {
  const ms = Date.parse(String(captureTime));
  return new Date(Number.isNaN(ms) ? Date.parse('2026-11-20T08:00:05.000Z') : ms + 5000).toISOString();
}

/** An OversizedConfigurationItemChangeNotification: only a summary; the rule fetches the item. */
export function oversizedEvent(summary: Record<string, unknown> = {}, params?: RuleParametersInput, opts: EventOptions = {}): Record<string, unknown> {
  const invoking = structuredClone(oversizedBase) as Record<string, unknown>;
  invoking.configurationItemSummary = { ...(invoking.configurationItemSummary as Record<string, unknown>), ...summary };
  return envelope(invoking, params, opts);
}

/** A ScheduledNotification (periodic trigger). */
export function scheduledEvent(params?: RuleParametersInput, opts: EventOptions & { notificationCreationTime?: string } = {}): Record<string, unknown> {
  return envelope(
    {
      awsAccountId: opts.accountId ?? ACCOUNT_ID,
      notificationCreationTime: opts.notificationCreationTime ?? '2026-11-25T12:00:00.000Z',
      messageType: 'ScheduledNotification',
      recordVersion: '1.0',
    },
    params,
    opts,
  );
}

/** Replace fields of an event's invokingEvent (to build malformed events). */
export function withInvokingEvent(event: Record<string, unknown>, patch: (invoking: Record<string, unknown>) => unknown): Record<string, unknown> {
  const invoking = JSON.parse(String(event.invokingEvent)) as Record<string, unknown>;
  return { ...event, invokingEvent: JSON.stringify(patch(invoking)) };
}
