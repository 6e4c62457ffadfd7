/**
 * Rule parameters: read once, up front, into a typed object. A bad value throws an
 * `InvalidParameterError` naming the parameter, the value given and what is allowed, before
 * any AWS call is made and before any evaluation is put.
 *
 * AWS Config passes `ruleParameters` as a JSON string whose values are strings; numbers are
 * accepted too so that the CLI and tests can pass them directly.
 */
import { asciiEqualIgnoringCase, asciiStartsWithIgnoringCase } from '../../lib/ascii';
import { InvalidEventError, InvalidParameterError } from '../../lib/errors';
import type { PolicyParameters } from './policy';

export const DEFAULT_MAX_ACCESS_KEY_AGE_DAYS = 90;
/** Ten years: a larger limit is a typo, not a policy. */
export const MAX_MAX_ACCESS_KEY_AGE_DAYS = 3650;

/** A user tag that exempts the user: `key` (any value) or `key=value` (that value only). */
export interface ExemptionTag {
  readonly key: string;
  /** When absent, any value of the tag exempts. */
  readonly value?: string;
}

/**
 * The sweep puts again an evaluation Config already holds, unchanged, once it is this many days
 * old. Security Hub deletes a finding not updated in 90 days, and AWS Config updates its findings
 * from the evaluations it records; 30 refreshes every unchanged user about once a month, so a
 * finding is updated at least twice inside Security Hub's 90 days even when a sweep fails.
 */
export const DEFAULT_EVALUATION_REFRESH_DAYS = 30;
/**
 * The longest refresh window: an evaluation refreshed on day 60 still leaves 30 days, a month
 * of failed sweeps, before Security Hub's 90-day deletion of a finding not updated.
 */
export const MAX_EVALUATION_REFRESH_DAYS = 60;

export interface RuleParameters extends PolicyParameters {
  readonly maxAccessKeyAgeDays: number;
  readonly exemptionTag?: ExemptionTag;
  /**
   * The periodic sweep puts an unchanged evaluation again only once the one Config holds is this
   * many days old; 0 puts every evaluation on every sweep. `parseRuleParameters` always sets it.
   * @default 30
   */
  readonly evaluationRefreshDays?: number;
}

/** The parameter names the rule accepts, exactly as written in the conformance pack. */
export const RULE_PARAMETER_NAMES = ['MaxAccessKeyAge', 'ExemptionTag', 'EvaluationRefreshDays'] as const;

export const ALLOWED_MAX_AGE = `a whole number of days from 1 to ${MAX_MAX_ACCESS_KEY_AGE_DAYS} (default ${DEFAULT_MAX_ACCESS_KEY_AGE_DAYS})`;

export const ALLOWED_EVALUATION_REFRESH_DAYS =
  `a whole number of days from 0 to ${MAX_EVALUATION_REFRESH_DAYS} (default ${DEFAULT_EVALUATION_REFRESH_DAYS}; 0 puts every evaluation on every sweep; ` +
  `at most ${MAX_EVALUATION_REFRESH_DAYS} so that Security Hub, which deletes findings not updated in 90 days, is updated in time)`;
/**
 * The most characters an exemption tag may have in all, written `key` or `key=value`: the
 * conformance pack hands it to the remediation as an AWS Config StaticValue, whose values hold
 * at most 256 characters, so a longer one would be accepted here and refused by Config.
 */
export const MAX_EXEMPTION_TAG_LENGTH = 256;

function tagRules(keyRule: string): string {
  return `a tag key of 1-128 characters${keyRule}, optionally followed by =value (0-256 characters), at most ${MAX_EXEMPTION_TAG_LENGTH} characters in all (the most an AWS Config remediation StaticValue holds); ASCII letters, digits, spaces and _ . : / = + - @`;
}

export const ALLOWED_EXEMPTION_TAG = tagRules(' not starting with aws: (tag keys starting with aws: are reserved by AWS)');

/** What is allowed, said first for a key starting with `aws:`, the namespace AWS reserves. */
export const ALLOWED_NOT_RESERVED = `a key of your own, since tag keys starting with aws: (in any letter case) are reserved by AWS and cannot be added to a user; in all, ${tagRules(' not starting with aws:')}`;

/**
 * Parse the `ruleParameters` of a Config event: a JSON string, an object, or nothing.
 * Unknown parameter names are an error (a typo must not silently fall back to a default).
 */
export function parseRuleParameters(raw: unknown): RuleParameters {
  const params = toObject(raw);
  for (const name of Object.keys(params)) {
    if (!(RULE_PARAMETER_NAMES as readonly string[]).includes(name)) {
      const near = RULE_PARAMETER_NAMES.find((n) => n.toLowerCase() === name.toLowerCase());
      throw new InvalidParameterError(
        name,
        params[name],
        `the rule's parameters are ${RULE_PARAMETER_NAMES.slice(0, -1).join(', ')} and ${RULE_PARAMETER_NAMES.at(-1)}${near ? ` (did you mean ${near}?)` : ''}`,
      );
    }
  }
  const exemptionTag = parseExemptionTag(params.ExemptionTag);
  return {
    maxAccessKeyAgeDays: parseMaxAccessKeyAge(params.MaxAccessKeyAge),
    ...(exemptionTag ? { exemptionTag } : {}),
    evaluationRefreshDays: parseEvaluationRefreshDays(params.EvaluationRefreshDays),
  };
}

/**
 * A positive whole number of days. Empty or absent means the default (90).
 * @param name the parameter's name as the caller knows it, for the error message.
 */
export function parseMaxAccessKeyAge(value: unknown, name = 'MaxAccessKeyAge'): number {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return DEFAULT_MAX_ACCESS_KEY_AGE_DAYS;
  }
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value)) n = Number(value);
  else throw new InvalidParameterError(name, value, ALLOWED_MAX_AGE);
  if (!Number.isInteger(n) || n < 1 || n > MAX_MAX_ACCESS_KEY_AGE_DAYS) {
    throw new InvalidParameterError(name, value, ALLOWED_MAX_AGE);
  }
  return n;
}

/**
 * A whole number of days from 0 to 60. Empty or absent means the default (30).
 * @param name the parameter's name as the caller knows it, for the error message.
 */
export function parseEvaluationRefreshDays(value: unknown, name = 'EvaluationRefreshDays'): number {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return DEFAULT_EVALUATION_REFRESH_DAYS;
  }
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value)) n = Number(value);
  else throw new InvalidParameterError(name, value, ALLOWED_EVALUATION_REFRESH_DAYS);
  if (!Number.isInteger(n) || n < 0 || n > MAX_EVALUATION_REFRESH_DAYS) {
    throw new InvalidParameterError(name, value, ALLOWED_EVALUATION_REFRESH_DAYS);
  }
  return n;
}

// IAM allows Unicode letters in tags; keyage accepts the ASCII subset, which is what the
// runbooks' allowedPattern can check the same way in SSM, so rule and remediation agree.
const TAG_KEY = /^[A-Za-z0-9 _.:/=+\-@]{1,128}$/;
const TAG_VALUE = /^[A-Za-z0-9 _.:/=+\-@]{0,256}$/;

/**
 * `key` or `key=value`, split at the first `=`. Empty or absent means no exemption.
 * @param name the parameter's name as the caller knows it, for the error message.
 */
export function parseExemptionTag(value: unknown, name = 'ExemptionTag'): ExemptionTag | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidParameterError(name, value, ALLOWED_EXEMPTION_TAG);
  const text = value.trim();
  if (text === '') return undefined;
  const eq = text.indexOf('=');
  const key = (eq === -1 ? text : text.slice(0, eq)).trim();
  const tagValue = eq === -1 ? undefined : text.slice(eq + 1).trim();
  if (asciiStartsWithIgnoringCase(key, 'aws:')) throw new InvalidParameterError(name, value, ALLOWED_NOT_RESERVED);
  if (!TAG_KEY.test(key) || (tagValue !== undefined && !TAG_VALUE.test(tagValue))) {
    throw new InvalidParameterError(name, value, ALLOWED_EXEMPTION_TAG);
  }
  // The length of the form every surface passes on (formatExemptionTag), not of the input.
  if (key.length + (tagValue === undefined ? 0 : 1 + tagValue.length) > MAX_EXEMPTION_TAG_LENGTH) {
    throw new InvalidParameterError(name, value, ALLOWED_EXEMPTION_TAG);
  }
  return tagValue === undefined ? { key } : { key, value: tagValue };
}

/**
 * Whether a user's tags carry the exemption. IAM treats tag keys case-insensitively (a user
 * cannot have two keys differing only by case), so the key is compared that way, folding A–Z
 * only (`lib/ascii.ts`: `toLowerCase()` would also fold look-alikes such as U+212A KELVIN SIGN);
 * the value is compared exactly.
 */
export function isExempt(
  tags: ReadonlyArray<{ Key?: string; Value?: string }> | undefined,
  exemption: ExemptionTag | undefined,
): boolean {
  if (!exemption || !tags) return false;
  return tags.some(
    (t) => t.Key !== undefined && asciiEqualIgnoringCase(t.Key, exemption.key) && (exemption.value === undefined || (t.Value ?? '') === exemption.value),
  );
}

/** How an exemption tag is written in logs and annotations. */
export function formatExemptionTag(exemption: ExemptionTag): string {
  return exemption.value === undefined ? exemption.key : `${exemption.key}=${exemption.value}`;
}

function toObject(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === '') return {};
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new InvalidEventError('ruleParameters', `is not valid JSON (${truncate(raw)})`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEventError('ruleParameters', 'must be a JSON object of parameter names to values');
  }
  return value as Record<string, unknown>;
}

function truncate(s: string): string {
  return s.length > 60 ? `${JSON.stringify(s.slice(0, 57))}…` : JSON.stringify(s);
}
