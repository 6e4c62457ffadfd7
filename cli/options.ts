/**
 * The command line's own option values, read into typed values up front. Options shared with
 * the rule and the runbooks (`--max-age`, `--exemption-tag`) are parsed by the rule's own
 * parameter functions, so they accept exactly what the rule accepts and fail with the same
 * messages, naming the option.
 */
import { InvalidParameterError } from '../lib/errors';
import { readIsoTime } from '../lib/iso-time';
import { parseUserTarget } from '../remediation/parameters';

/** Output formats of `keyage audit`. */
export const AUDIT_FORMATS = ['table', 'json', 'csv', 'asff', 'html'] as const;
/** One of `AUDIT_FORMATS`. */
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/**
 * The formats `--only-findings` applies to: the ones people read or sort (the table, a
 * spreadsheet). Not `json`, the complete record whose summary and users belong together (filter
 * it with jq), nor `asff`: Security Hub turns an earlier FAILED finding PASSED only when it is
 * given the PASSED one, so a file of failures alone would leave fixed keys failing there.
 */
export const ONLY_FINDINGS_FORMATS = ['table', 'csv'] as const satisfies readonly AuditFormat[];

/** `--only-findings` with `--format`: refused with a format it does not apply to. */
export function checkOnlyFindings(onlyFindings: boolean | undefined, format: string): boolean {
  if (!onlyFindings) return false;
  if (!(ONLY_FINDINGS_FORMATS as readonly string[]).includes(format)) {
    throw new InvalidParameterError(
      '--only-findings',
      true,
      `with --format ${ONLY_FINDINGS_FORMATS.join(' or ')} (not ${format}: the JSON output is the whole record, filter it with jq; the HTML page filters its own table and needs every key for its summary and histogram; ASFF needs the PASSED findings too, or Security Hub keeps fixed keys FAILED)`,
    );
  }
  return true;
}

/** Output formats of `keyage remediate`. */
export const REMEDIATE_FORMATS = ['table', 'json'] as const;
/** One of `REMEDIATE_FORMATS`. */
export type RemediateFormat = (typeof REMEDIATE_FORMATS)[number];

/** The region used when neither `--region` nor `AWS_REGION` says one. */
export const DEFAULT_REGION = 'us-east-1';

/** What `--now` accepts, for its error message. */
export const ALLOWED_NOW = 'an ISO 8601 time with a zone, such as 2026-11-25T12:00:00Z, or a date such as 2026-11-25 (midnight UTC)';

/**
 * `--now`: the clock for every decision and every record the command writes. A time without a
 * zone is refused (it would mean different instants on different machines), and so is a date
 * the calendar does not have (`2026-02-30`), which `Date` would move into the next month.
 * @param clock the real clock, used when the option is absent.
 */
export function parseNow(value: string | undefined, clock: () => Date): Date {
  if (value === undefined) return clock();
  const read = readIsoTime(value.trim(), { dateOnly: true });
  if (!read.ok) throw new InvalidParameterError('--now', value, read.impossible ? `a real calendar date and time (${read.problem}): ${ALLOWED_NOW}` : ALLOWED_NOW);
  return read.date;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * `--region`: an AWS region name.
 * @param source how the value is named in the error (`--region`, `AWS_REGION`, a profile's `region`).
 */
export function parseRegion(value: string | undefined, fallback: string | undefined, source = '--region'): string {
  const region = (value ?? fallback ?? DEFAULT_REGION).trim();
  if (!REGION.test(region)) throw new InvalidParameterError(source, region, 'an AWS region name such as us-east-1');
  return region;
}

const ACCOUNT_ID = /^\d{12}$/;
const OU_OR_ROOT_ID = /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `--accounts`, `--exclude`: comma-separated 12-digit account IDs, each once. */
export function parseAccountIds(value: string, option: string): string[] {
  const ids = list(value);
  if (ids.length === 0 || !ids.every((id) => ACCOUNT_ID.test(id))) {
    throw new InvalidParameterError(option, value, '12-digit AWS account IDs, comma-separated (111122223333,444455556666)');
  }
  return [...new Set(ids)];
}

/** `--ou`: comma-separated OU IDs (`ou-ab12-cd34ef56`) or the root ID (`r-ab12`). */
export function parseOrganizationalUnitIds(value: string): string[] {
  const ids = list(value);
  if (ids.length === 0 || !ids.every((id) => OU_OR_ROOT_ID.test(id))) {
    throw new InvalidParameterError('--ou', value, 'OU IDs ("ou-" then 4-32 and 8-32 lower-case letters or digits, e.g. ou-ab12-cd34ef56) or the root ID (r-ab12), comma-separated');
  }
  return [...new Set(ids)];
}

/** `--role-name`: an IAM role name (1-64 letters, digits and `+=,.@_-`). */
export function parseRoleName(value: string): string {
  if (!ROLE_NAME.test(value)) throw new InvalidParameterError('--role-name', value, 'an IAM role name: 1 to 64 letters, digits and + = , . @ _ -');
  return value;
}

/** The most accounts `--concurrency` allows at once. */
export const MAX_ACCOUNT_CONCURRENCY = 32;

/** `--concurrency`: accounts audited at once, 1 to `MAX_ACCOUNT_CONCURRENCY`. */
export function parseConcurrency(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = /^\d{1,3}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_ACCOUNT_CONCURRENCY) {
    throw new InvalidParameterError('--concurrency', value, `a whole number of accounts from 1 to ${MAX_ACCOUNT_CONCURRENCY} (default ${fallback})`);
  }
  return n;
}

/** What `keyage remediate --user` accepts, said the same way whatever was wrong. */
export const ALLOWED_ONE_USER =
  'one IAM user name (1 to 64 letters, digits and + = , . @ _ -) or user ID (AIDA…): keyage remediate acts on one user at a time ("*", every user, is a value of the delete runbook\'s IAMUser parameter, not of --user)';

/**
 * `remediate --user`: one user, by name or by ID. The runbooks' own parser decides what a name
 * or an ID is; an empty value, "*" and anything else it refuses get one message.
 */
export function parseOneUser(value: string): { readonly userName: string } | { readonly userId: string } {
  let target: ReturnType<typeof parseUserTarget>;
  try {
    target = parseUserTarget(value, '--user');
  } catch (err) {
    if (err instanceof InvalidParameterError) throw new InvalidParameterError('--user', value, ALLOWED_ONE_USER);
    throw err;
  }
  if ('allUsers' in target) throw new InvalidParameterError('--user', value, ALLOWED_ONE_USER);
  return target;
}
