/**
 * The compliance decision, and nothing else: (access keys, now, parameters) → verdict.
 *
 * This module imports no SDK and reads no clock. The Config rule, the remediation Lambda and
 * the `keyage` CLI all call it, so they can never disagree about which key is stale.
 *
 * Semantics (parity with the AWS managed rule `access-keys-rotated` and Security Hub IAM.3):
 *   - A key's age is counted in whole days since it was created (`CreateDate`, the credential
 *     report's `access_key_N_last_rotated`), rounded down.
 *   - The limit is inclusive: with `maxAccessKeyAgeDays` 90 a key 90 days old is still
 *     compliant and a key 91 days old is stale.
 *   - Only an Active key can make a user NON_COMPLIANT; Inactive and Expired keys never do.
 *   - Every key is assessed: any stale active key decides the user, whatever the other key is.
 *   - A key that was never used is judged by its age like any other.
 */

export const DAY_MS = 86_400_000;

/** IAM's access key states. `Expired` appears for keys IAM expired on its own. */
export type AccessKeyStatus = 'Active' | 'Inactive' | 'Expired';

export const ACCESS_KEY_STATUSES: readonly AccessKeyStatus[] = ['Active', 'Inactive', 'Expired'];

/** One access key, as IAM (ListAccessKeys) or the credential report describes it. */
export interface AccessKey {
  /** The access key ID (AKIA…). Absent for keys read from a credential report, which has none. */
  readonly accessKeyId?: string;
  /**
   * Which of the user's two key slots: 1 or 2. From the credential report's column, or for
   * keys listed live, numbered by creation date (oldest is key 1).
   */
  readonly slot: 1 | 2;
  readonly status: AccessKeyStatus;
  /** When the key was created (IAM's `CreateDate`; the report's `last_rotated`). */
  readonly createdAt: Date;
  /** When the key was last used; `null` when never used; absent when not known. */
  readonly lastUsedAt?: Date | null;
}

export interface PolicyParameters {
  /** A key older than this many whole days is stale. Inclusive: a key exactly this old is not. */
  readonly maxAccessKeyAgeDays: number;
}

export type Compliance = 'COMPLIANT' | 'NON_COMPLIANT';

/** What the policy concluded about one key. */
export interface KeyAssessment {
  readonly key: AccessKey;
  /** How the key is named in annotations and logs: `AKIA… (key 1)` or `key 1`. */
  readonly label: string;
  /** Whole days since creation, rounded down; 0 for a key created "in the future" (clock skew). */
  readonly ageDays: number;
  readonly active: boolean;
  /** Older than the limit, whatever its status. */
  readonly overLimit: boolean;
  /** Active and older than the limit: this key makes the user NON_COMPLIANT. */
  readonly stale: boolean;
  /** The first instant at which the key counts as older than the limit. */
  readonly dueAt: Date;
  /** Whole days from `now` until `dueAt`; 0 or less when already over the limit. */
  readonly daysUntilDue: number;
  /** One sentence, for humans: why this key is or is not a problem. */
  readonly reason: string;
}

export interface Verdict {
  readonly compliance: Compliance;
  /** Every key, in slot order. */
  readonly keys: readonly KeyAssessment[];
  /** Active keys older than the limit: the ones the deactivate runbook acts on. */
  readonly staleKeys: readonly KeyAssessment[];
  readonly activeKeys: readonly KeyAssessment[];
  /** The active key that falls due first (the oldest), if any. */
  readonly oldestActive?: KeyAssessment;
  /** The Config annotation: 1–256 characters, never empty, the same every day the keys stay as they are. */
  readonly annotation: string;
}

/** Config's limit on an evaluation's annotation. */
export const MAX_ANNOTATION_LENGTH = 256;

/** Whole days between `from` and `now`, rounded down; never negative. */
export function ageInDays(from: Date, now: Date): number {
  const ms = now.getTime() - from.getTime();
  return ms <= 0 ? 0 : Math.floor(ms / DAY_MS);
}

/** How a key is named to humans. The access key ID is an identifier, not a secret. */
export function keyLabel(key: Pick<AccessKey, 'accessKeyId' | 'slot'>): string {
  return key.accessKeyId ? `${key.accessKeyId} (key ${key.slot})` : `key ${key.slot}`;
}

/** A key in a sentence: `key AKIA… (key 1)`, or `key 1` when the ID is not known. */
export function keyPhrase(key: Pick<AccessKey, 'accessKeyId' | 'slot'>): string {
  return key.accessKeyId ? `key ${keyLabel(key)}` : keyLabel(key);
}

/** Assess one key against the limit at `now`. */
export function assessKey(key: AccessKey, now: Date, parameters: PolicyParameters): KeyAssessment {
  checkInputs(key, now, parameters);
  const max = parameters.maxAccessKeyAgeDays;
  const ageDays = ageInDays(key.createdAt, now);
  const active = key.status === 'Active';
  const overLimit = ageDays > max;
  const stale = active && overLimit;
  const dueAt = new Date(key.createdAt.getTime() + (max + 1) * DAY_MS);
  const daysUntilDue = max + 1 - ageDays;
  const label = keyLabel(key);
  const phrase = keyPhrase(key);
  const days = plural(ageDays, 'day');
  let reason: string;
  if (stale) reason = `Active ${phrase} is ${days} old; limit ${max}.`;
  else if (active) reason = `Active ${phrase} is ${days} old; due for rotation in ${plural(daysUntilDue, 'day')}.`;
  else reason = `${key.status} ${phrase} is ${days} old; ${key.status.toLowerCase()} keys do not count.`;
  return { key, label, ageDays, active, overLimit, stale, dueAt, daysUntilDue, reason };
}

/**
 * The verdict for one user's keys at `now`.
 * @param keys the user's access keys (IAM allows at most two); order does not matter.
 */
export function evaluateAccessKeys(keys: readonly AccessKey[], now: Date, parameters: PolicyParameters): Verdict {
  const assessed = keys.map((k) => assessKey(k, now, parameters)).sort(bySlotThenCreation);
  const staleKeys = assessed.filter((a) => a.stale);
  const activeKeys = assessed.filter((a) => a.active);
  const oldestActive = activeKeys.reduce<KeyAssessment | undefined>(
    (oldest, a) => (oldest === undefined || a.key.createdAt < oldest.key.createdAt ? a : oldest),
    undefined,
  );
  const compliance: Compliance = staleKeys.length > 0 ? 'NON_COMPLIANT' : 'COMPLIANT';
  const max = parameters.maxAccessKeyAgeDays;
  return { compliance, keys: assessed, staleKeys, activeKeys, oldestActive, annotation: shortenAnnotation(annotationOf(assessed, staleKeys, oldestActive, max)) };
}

/**
 * The Config annotation. It says only what stays true from one day to the next — dates, never
 * "N days old" or "in N days" — so that an unchanged user keeps the same evaluation and the
 * sweep need not record it again (AWS Config bills every evaluation recorded). It also reads the
 * same whether the keys came from the credential report (no key IDs, report columns as slots) or
 * from ListAccessKeys: a compliant user's annotation names no key, an offending key — always
 * confirmed live — is named by its ID. Dates are UTC days.
 */
function annotationOf(assessed: readonly KeyAssessment[], staleKeys: readonly KeyAssessment[], oldestActive: KeyAssessment | undefined, max: number): string {
  if (staleKeys.length > 0) {
    return staleKeys.map((a) => `Active ${keyPhrase(a.key)} created ${utcDay(a.key.createdAt)}, over the ${max}-day limit since ${utcDay(a.dueAt)}.`).join(' ');
  }
  if (oldestActive !== undefined) {
    return `Oldest active key created ${utcDay(oldestActive.key.createdAt)}; due for rotation on ${utcDay(oldestActive.dueAt)}; limit ${max}.`;
  }
  if (assessed.length > 0) {
    const counts = ACCESS_KEY_STATUSES.map((status) => [status, assessed.filter((a) => a.key.status === status).length] as const).filter(([, n]) => n > 0);
    return `No active access keys (${counts.map(([status, n]) => `${n} ${status.toLowerCase()}`).join(', ')}); limit ${max}.`;
  }
  return 'No access keys.';
}

/** The UTC calendar day of an instant, `YYYY-MM-DD`. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/**
 * Fit text into Config's annotation limit: whole words, ending in "…" when shortened,
 * never empty.
 */
export function shortenAnnotation(text: string, limit = MAX_ANNOTATION_LENGTH): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length === 0) return '-';
  if (clean.length <= limit) return clean;
  const room = clean.slice(0, limit - 1); // leave space for the ellipsis
  const cut = room.lastIndexOf(' ');
  const head = (cut > limit / 2 ? room.slice(0, cut) : room).replace(/[\s;,.:]+$/, '');
  return `${head}…`;
}

function bySlotThenCreation(a: KeyAssessment, b: KeyAssessment): number {
  return a.key.slot - b.key.slot || a.key.createdAt.getTime() - b.key.createdAt.getTime();
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function checkInputs(key: AccessKey, now: Date, parameters: PolicyParameters): void {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError('policy: now must be a valid Date');
  if (!(key.createdAt instanceof Date) || Number.isNaN(key.createdAt.getTime())) {
    throw new TypeError(`policy: ${keyLabel(key)} has no valid creation date`);
  }
  if (!ACCESS_KEY_STATUSES.includes(key.status)) {
    throw new TypeError(`policy: ${keyLabel(key)} has unknown status ${JSON.stringify(key.status)}; expected Active, Inactive or Expired`);
  }
  const max = parameters.maxAccessKeyAgeDays;
  if (!Number.isInteger(max) || max < 1) throw new TypeError(`policy: maxAccessKeyAgeDays must be a whole number ≥ 1, got ${max}`);
}
