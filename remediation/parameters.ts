/**
 * The remediation Lambda's input: the payload the runbooks send (their `InputPayload`), read
 * once, up front, into a typed request. A bad value throws an `InvalidParameterError` naming
 * the runbook parameter, the value given and what is allowed, before any AWS call is made.
 *
 * The payload's field names are the runbooks' parameter names, so an auditor can match each
 * value to the document, and a field the Lambda does not know is an error (a typo in a runbook
 * must fail, not fall back to a default).
 */
import { asciiLower } from '../lib/ascii';
import { InvalidEventError, InvalidParameterError } from '../lib/errors';
import { type ExemptionTag, MAX_MAX_ACCESS_KEY_AGE_DAYS, parseExemptionTag, parseMaxAccessKeyAge } from '../rules/access-key-age/parameters';
import { DEFAULT_GRACE_PERIOD_DAYS } from './plan';

/** Runbook 2's value of `IAMUser` that means every user of the account. */
export const ALL_USERS = '*';

export const OPERATIONS = ['deactivate', 'delete'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The fields runbook 1 (deactivate) sends, exactly. */
export const DEACTIVATE_PAYLOAD_FIELDS = ['Operation', 'IAMResourceId', 'MaxAccessKeyAge', 'ExemptionTag', 'DryRun', 'AutomationExecutionId'] as const;
/** The fields runbook 2 (delete) sends, exactly. */
export const DELETE_PAYLOAD_FIELDS = ['Operation', 'IAMUser', 'GracePeriodDays', 'ExemptionTag', 'DryRun', 'AutomationExecutionId'] as const;

export const ALLOWED_DRY_RUN = '"true" or "false" (default "true": report the plan, change nothing)';
export const ALLOWED_GRACE_DAYS = `a whole number of days from 1 to ${MAX_MAX_ACCESS_KEY_AGE_DAYS} (default ${DEFAULT_GRACE_PERIOD_DAYS})`;
export const ALLOWED_USER_ID = 'an IAM user ID (16-128 letters, digits or _; AIDA… in AWS)';
export const ALLOWED_USER_TARGET = `"${ALL_USERS}" for every user of the account, an IAM user name, or an IAM user ID (AIDA…)`;

const USER_ID = /^[A-Za-z0-9_]{16,128}$/;
const AWS_USER_ID = /^AIDA[A-Z0-9]{12,124}$/;
const USER_NAME = /^[\w+=,.@-]{1,64}$/;

/** Who a request is about: one user by name, one by ID, or every user (runbook 2 only). */
export type UserTarget = { readonly userName: string } | { readonly userId: string } | { readonly allUsers: true };

/** Runbook 1's request, as the Lambda received it (the clock is added by the handler). */
export interface DeactivatePayload {
  readonly operation: 'deactivate';
  readonly userId: string;
  readonly maxAccessKeyAgeDays: number;
  readonly exemptionTag?: ExemptionTag;
  readonly dryRun: boolean;
  readonly automationExecutionId?: string;
}

/** Runbook 2's request, as the Lambda received it. */
export interface DeletePayload {
  readonly operation: 'delete';
  readonly target: UserTarget;
  readonly graceDays: number;
  readonly exemptionTag?: ExemptionTag;
  readonly dryRun: boolean;
  readonly automationExecutionId?: string;
}

export type RemediationPayload = DeactivatePayload | DeletePayload;

/**
 * `true` or `false`, as a boolean or the strings SSM passes. Absent or empty means `true`:
 * when in doubt, change nothing.
 * @param name the parameter's name as the caller knows it, for the error message.
 */
export function parseDryRun(value: unknown, name = 'DryRun'): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = asciiLower(value.trim());
    if (v === '' || v === 'true') return true;
    if (v === 'false') return false;
  }
  throw new InvalidParameterError(name, value, ALLOWED_DRY_RUN);
}

/**
 * Whole days of grace after a deactivation. Empty or absent means the default (14).
 * @param name the parameter's name as the caller knows it, for the error message.
 */
export function parseGracePeriodDays(value: unknown, name = 'GracePeriodDays'): number {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return DEFAULT_GRACE_PERIOD_DAYS;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value)) n = Number(value);
  else throw new InvalidParameterError(name, value, ALLOWED_GRACE_DAYS);
  if (!Number.isInteger(n) || n < 1 || n > MAX_MAX_ACCESS_KEY_AGE_DAYS) throw new InvalidParameterError(name, value, ALLOWED_GRACE_DAYS);
  return n;
}

/**
 * An IAM user ID, as Config passes it in `RESOURCE_ID`.
 * @param name the parameter's name as the caller knows it, for the error message.
 */
export function parseUserId(value: unknown, name = 'IAMResourceId'): string {
  if (typeof value !== 'string' || !USER_ID.test(value.trim())) throw new InvalidParameterError(name, value, ALLOWED_USER_ID);
  return value.trim();
}

/**
 * Runbook 2's target: `*` (every user), a user ID (`AIDA` followed by upper-case letters and
 * digits, the form AWS issues), or else a user name. Empty or absent is an error: "every user"
 * must be asked for explicitly.
 * @param name the parameter's name as the caller knows it, for the error message.
 */
export function parseUserTarget(value: unknown, name = 'IAMUser'): UserTarget {
  if (typeof value !== 'string') throw new InvalidParameterError(name, value, ALLOWED_USER_TARGET);
  const text = value.trim();
  if (text === ALL_USERS) return { allUsers: true };
  if (AWS_USER_ID.test(text)) return { userId: text };
  if (USER_NAME.test(text)) return { userName: text };
  throw new InvalidParameterError(name, value, ALLOWED_USER_TARGET);
}

/** Read the payload a runbook sends the remediation Lambda. */
export function parseRemediationPayload(event: unknown): RemediationPayload {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidEventError('remediation payload', 'must be a JSON object (the runbook step\'s InputPayload)');
  }
  const payload = event as Record<string, unknown>;
  const operation = payload.Operation;
  if (operation !== 'deactivate' && operation !== 'delete') {
    throw new InvalidParameterError('Operation', operation, OPERATIONS.map((o) => `"${o}"`).join(' or '));
  }
  const allowed: readonly string[] = operation === 'deactivate' ? DEACTIVATE_PAYLOAD_FIELDS : DELETE_PAYLOAD_FIELDS;
  for (const field of Object.keys(payload)) {
    if (!allowed.includes(field)) {
      throw new InvalidParameterError(field, payload[field], `the ${operation} payload's fields are ${allowed.join(', ')}`);
    }
  }
  const exemptionTag = parseExemptionTag(payload.ExemptionTag);
  const dryRun = parseDryRun(payload.DryRun);
  const executionId = typeof payload.AutomationExecutionId === 'string' && payload.AutomationExecutionId !== '' ? payload.AutomationExecutionId : undefined;
  const common = {
    dryRun,
    ...(exemptionTag ? { exemptionTag } : {}),
    ...(executionId ? { automationExecutionId: executionId } : {}),
  };
  if (operation === 'deactivate') {
    return {
      operation,
      userId: parseUserId(payload.IAMResourceId),
      maxAccessKeyAgeDays: parseMaxAccessKeyAge(payload.MaxAccessKeyAge),
      ...common,
    };
  }
  return {
    operation,
    target: parseUserTarget(payload.IAMUser),
    graceDays: parseGracePeriodDays(payload.GracePeriodDays),
    ...common,
  };
}
