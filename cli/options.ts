/**
 * The command line's own option values, read into typed values up front. Options shared with
 * the rule and the runbooks (`--max-age`, `--exemption-tag`) are parsed by the rule's own
 * parameter functions, so they accept exactly what the rule accepts and fail with the same
 * messages, naming the option.
 */
import { InvalidParameterError } from '../lib/errors';

/** Output formats of `keyage audit`. */
export const AUDIT_FORMATS = ['table', 'json', 'csv', 'asff'] as const;
/** One of `AUDIT_FORMATS`. */
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/** Output formats of `keyage remediate`. */
export const REMEDIATE_FORMATS = ['table', 'json'] as const;
/** One of `REMEDIATE_FORMATS`. */
export type RemediateFormat = (typeof REMEDIATE_FORMATS)[number];

/** The region used when neither `--region` nor `AWS_REGION` says one. */
export const DEFAULT_REGION = 'us-east-1';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** What `--now` accepts, for its error message. */
export const ALLOWED_NOW = 'an ISO 8601 time with a zone, such as 2026-11-25T12:00:00Z, or a date such as 2026-11-25 (midnight UTC)';

/**
 * `--now`: the clock for every decision and every record the command writes. A time without a
 * zone is refused (it would mean different instants on different machines).
 * @param clock the real clock, used when the option is absent.
 */
export function parseNow(value: string | undefined, clock: () => Date): Date {
  if (value === undefined) return clock();
  const text = value.trim();
  const ms = ISO_TIME.test(text) ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text) : Number.NaN;
  if (Number.isNaN(ms)) throw new InvalidParameterError('--now', value, ALLOWED_NOW);
  return new Date(ms);
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** `--region`: an AWS region name. */
export function parseRegion(value: string | undefined, fallback: string | undefined): string {
  const region = (value ?? fallback ?? DEFAULT_REGION).trim();
  if (!REGION.test(region)) throw new InvalidParameterError('--region', region, 'an AWS region name such as us-east-1');
  return region;
}
