/**
 * The AWS Config rule event, parsed and checked before anything else happens. A malformed
 * event is an `InvalidEventError` naming the field; no evaluation is put for it.
 *
 * Shape (AWS Config developer guide, "Example events for AWS Config rules"):
 *   { invokingEvent: "<JSON string>", ruleParameters: "<JSON string>", resultToken,
 *     eventLeftScope, executionRoleArn, configRuleArn, configRuleName, configRuleId,
 *     accountId, version, evaluationMode }
 */
import { InvalidEventError } from '../../lib/errors';
import { readIsoTime } from '../../lib/iso-time';

export const MESSAGE_TYPES = [
  'ConfigurationItemChangeNotification',
  'OversizedConfigurationItemChangeNotification',
  'ScheduledNotification',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const ITEM_STATUSES = ['OK', 'ResourceDiscovered', 'ResourceNotRecorded', 'ResourceDeleted', 'ResourceDeletedNotRecorded'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

/** Statuses for which the resource is gone or no longer recorded: the rule says NOT_APPLICABLE. */
export const GONE_STATUSES: readonly ItemStatus[] = ['ResourceDeleted', 'ResourceDeletedNotRecorded', 'ResourceNotRecorded'];

/** What the rule needs of a configuration item (or of an oversized item's summary). */
export interface ItemRef {
  readonly resourceType: string;
  readonly resourceId: string;
  /** The user name, for AWS::IAM::User. May be absent on deleted items. */
  readonly resourceName?: string;
  readonly status: ItemStatus;
  readonly captureTime: Date;
}

interface Common {
  readonly resultToken: string;
  readonly eventLeftScope: boolean;
  /** Raw `ruleParameters`; parsed by `parseRuleParameters`. */
  readonly ruleParameters: unknown;
  readonly configRuleName?: string;
  readonly accountId?: string;
}

export type RuleEvent =
  | (Common & { readonly messageType: 'ConfigurationItemChangeNotification'; readonly item: ItemRef })
  | (Common & { readonly messageType: 'OversizedConfigurationItemChangeNotification'; readonly summary: ItemRef })
  | (Common & { readonly messageType: 'ScheduledNotification'; readonly notificationCreationTime: Date });

/** Parse and check a Config rule event. */
export function parseRuleEvent(event: unknown): RuleEvent {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidEventError('the event', `must be a JSON object, got ${kindOf(event)}`);
  }
  const e = event as Record<string, unknown>;
  const invoking = parseInvokingEvent(e.invokingEvent);
  const resultToken = e.resultToken;
  if (typeof resultToken !== 'string' || resultToken.length === 0) {
    throw new InvalidEventError('resultToken', `must be a non-empty string, got ${kindOf(resultToken)}`);
  }
  if (e.eventLeftScope !== undefined && typeof e.eventLeftScope !== 'boolean') {
    throw new InvalidEventError('eventLeftScope', `must be true or false, got ${kindOf(e.eventLeftScope)}`);
  }
  const configRuleName = optionalString(e.configRuleName, 'configRuleName');
  const accountId = optionalString(e.accountId, 'accountId');
  const common: Common = {
    resultToken,
    eventLeftScope: e.eventLeftScope === true,
    ruleParameters: e.ruleParameters,
    ...(configRuleName !== undefined ? { configRuleName } : {}),
    ...(accountId !== undefined ? { accountId } : {}),
  };

  const messageType = invoking.messageType;
  switch (messageType) {
    case 'ConfigurationItemChangeNotification':
      return { ...common, messageType, item: parseItem(invoking.configurationItem, 'invokingEvent.configurationItem') };
    case 'OversizedConfigurationItemChangeNotification':
      return { ...common, messageType, summary: parseItem(invoking.configurationItemSummary, 'invokingEvent.configurationItemSummary') };
    case 'ScheduledNotification':
      if (configRuleName === undefined) {
        throw new InvalidEventError('configRuleName', 'is required for a ScheduledNotification (the sweep clears evaluations by rule name)');
      }
      return { ...common, messageType, notificationCreationTime: parseTime(invoking.notificationCreationTime, 'invokingEvent.notificationCreationTime') };
    default:
      throw new InvalidEventError(
        'invokingEvent.messageType',
        `is ${kindOf(messageType)}; expected one of ${MESSAGE_TYPES.join(', ')}`,
      );
  }
}

/**
 * A configuration item from the event, or from GetResourceConfigHistory (SDK shape: the same
 * field names, `configurationItemCaptureTime` a Date).
 */
export function parseItem(value: unknown, where: string): ItemRef {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEventError(where, `must be an object, got ${kindOf(value)}`);
  }
  const ci = value as Record<string, unknown>;
  const resourceType = requiredString(ci.resourceType, `${where}.resourceType`);
  const resourceId = requiredString(ci.resourceId, `${where}.resourceId`);
  const status = ci.configurationItemStatus;
  if (typeof status !== 'string' || !(ITEM_STATUSES as readonly string[]).includes(status)) {
    throw new InvalidEventError(`${where}.configurationItemStatus`, `is ${kindOf(status)}; expected one of ${ITEM_STATUSES.join(', ')}`);
  }
  const captureTime = parseTime(ci.configurationItemCaptureTime, `${where}.configurationItemCaptureTime`);
  const resourceName = optionalString(ci.resourceName, `${where}.resourceName`);
  return { resourceType, resourceId, status: status as ItemStatus, captureTime, ...(resourceName ? { resourceName } : {}) };
}

function parseInvokingEvent(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'string') {
    throw new InvalidEventError('invokingEvent', `must be a JSON string, got ${kindOf(raw)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new InvalidEventError('invokingEvent', `is not valid JSON (${(err as Error).message.slice(0, 80)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEventError('invokingEvent', `must encode a JSON object, got ${kindOf(value)}`);
  }
  return value as Record<string, unknown>;
}

function parseTime(value: unknown, field: string): Date {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  if (typeof value === 'string') {
    const read = readIsoTime(value);
    if (read.ok) return read.date;
    if (read.impossible) throw new InvalidEventError(field, `must be a real date and time: ${read.problem}`);
  }
  throw new InvalidEventError(field, `must be an ISO 8601 date-time with a zone, got ${kindOf(value)}`);
}

function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidEventError(field, `must be a non-empty string, got ${kindOf(value)}`);
  if (value.length > 2048) throw new InvalidEventError(field, `is ${value.length} characters long; at most 2048 are allowed`);
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return requiredString(value, field);
}

/** A short description of a value for error messages: never the whole of a huge input. */
function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 60 ? `"${value.slice(0, 57)}…"` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
