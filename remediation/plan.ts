/**
 * The remediation decisions, and nothing else: (live keys, user tags, now, parameters) →
 * one planned action per key.
 *
 * This module imports no SDK and reads no clock. Staleness comes from the rule's own policy
 * (`evaluateAccessKeys`), so the rule, the runbooks and the CLI can never disagree about which
 * key is stale. `core.ts` gathers the live facts, calls these functions, and carries out the
 * plan; it calls `decideDeletion` again on facts re-read right before any DeleteAccessKey.
 *
 * The deactivation record: when keyage deactivates a key it first writes the user tag
 * `keyage:deactivated:<AccessKeyId>` (the time and a MAC over account, user, key and time; see
 * `records.ts`), then sets the key Inactive. Only a key whose record is `verified` can ever be
 * deleted. Record first, key second: a failure in between leaves an Active key with a record
 * (handled below), never an Inactive key that keyage switched off but forgot.
 */
import { type ExemptionTag, formatExemptionTag, isExempt } from '../rules/access-key-age/parameters';
import { DEACTIVATION_TAG_PREFIX, parseRecordValue, type RecordTagForm, type RecordVerdict, readRecordTag, recordTagKey, shown } from './records';
import {
  type AccessKey,
  type AccessKeyStatus,
  ageInDays,
  DAY_MS,
  evaluateAccessKeys,
  keyPhrase,
  type PolicyParameters,
} from '../rules/access-key-age/policy';

export { DEACTIVATION_TAG_PREFIX };

/** Days a deactivated key stays Inactive before runbook 2 may delete it. */
export const DEFAULT_GRACE_PERIOD_DAYS = 14;

/**
 * How long a record on a key that is still Active counts as "deactivation in progress" rather
 * than "re-activated by a person". Covers a run that wrote the record and has not yet (or
 * failed to) set the key Inactive, so that runbook 2 never clears a record from under it.
 */
export const RECORD_SETTLE_MS = 3_600_000;

/** A user tag as IAM returns it. */
export interface UserTag {
  readonly Key?: string;
  readonly Value?: string;
}

/** A key read live from IAM: ListAccessKeys plus GetAccessKeyLastUsed. */
export interface LiveKey extends AccessKey {
  readonly accessKeyId: string;
  /** When the key last signed a request; `null` when it never has. */
  readonly lastUsedAt: Date | null;
}

/** keyage's record that it deactivated a key (or a tag that looks like one). */
export interface DeactivationRecord {
  /** The access key ID the tag key names (A–Z raised). */
  readonly accessKeyId: string;
  /** The tag key, as stored (IAM keeps the case it was written with). */
  readonly tagKey: string;
  /** `exact` for a tag key keyage writes; anything else is a suspected forgery. */
  readonly form: RecordTagForm;
  readonly value: string;
  /** The recorded time, when the value has one keyage would write. */
  readonly deactivatedAt?: Date;
  /**
   * What the record proves (`records.ts` `assessRecord`, which reads KMS). Absent when it was
   * not assessed: then it proves nothing, and nothing is deleted on its strength.
   */
  readonly verdict?: RecordVerdict;
  /**
   * True for a record IAM does not hold: the one stage 1 would write at `now`, in a dry run of
   * both stages (`keyage remediate --delete`). Its key is described as it would be, never as if
   * keyage had already deactivated it.
   */
  readonly assumed?: boolean;
}

/** How far a record is trusted, as reported: `null` when the key has no record. */
export type RecordStatus = RecordVerdict['status'] | 'unchecked';

export type RemediationActionKind = 'deactivate' | 'delete' | 'keep' | 'clear-record';

/** What keyage will do (or would do, in a dry run) about one key or one record. JSON-serialisable. */
export interface PlannedAction {
  readonly userName: string;
  readonly accessKeyId: string;
  /** 1 or 2 by creation date; `null` for a record whose key no longer exists. */
  readonly slot: 1 | 2 | null;
  /** The key's live status; `Missing` for a record whose key no longer exists. */
  readonly status: AccessKeyStatus | 'Missing';
  /** Whole days since the key was created; `null` when the key no longer exists. */
  readonly ageDays: number | null;
  /** ISO time the key was last used, or `null` (never used, or the key no longer exists). */
  readonly lastUsed: string | null;
  /** ISO time of keyage's deactivation record for this key, or `null` when there is none. */
  readonly deactivatedAt: string | null;
  /**
   * What the key's record proves: `verified` (keyage wrote it), `unsigned` or `unverifiable`
   * (it proves nothing), `suspect` (a suspected forgery), `unchecked` (not assessed: runbook 1
   * does not need to), or `null` (no record).
   */
  readonly record: RecordStatus | null;
  readonly action: RemediationActionKind;
  /** One sentence for humans: why this action. */
  readonly reason: string;
}

/** The live facts about one user that a plan is made from. */
export interface UserFacts {
  readonly userName: string;
  readonly keys: readonly LiveKey[];
  readonly tags: readonly UserTag[];
  readonly exemptionTag?: ExemptionTag;
  /**
   * The user's records with their verdicts. When absent they are read from `tags` unassessed,
   * and then no key is planned for deletion.
   */
  readonly records?: readonly DeactivationRecord[];
}

/**
 * How a reason names the action planned: `acting` as a run that carries the plan out says it
 * ("Deactivating it."), `conditional` as a plan or a dry run must ("keyage would deactivate
 * it."), since nothing is done then and a reader must never take the plan for an act.
 */
export type ActionVoice = 'acting' | 'conditional';

export interface DeactivationParameters extends PolicyParameters {
  readonly maxAccessKeyAgeDays: number;
  /** @default 'acting' */
  readonly voice?: ActionVoice;
}

export interface DeletionParameters {
  /** Whole days a key stays Inactive after keyage deactivated it before it may be deleted. */
  readonly graceDays: number;
  /** @default RECORD_SETTLE_MS */
  readonly settleMs?: number;
  /** @default 'acting' */
  readonly voice?: ActionVoice;
}

/** The sentence that ends the reason of a planned change, in each voice. */
const ACTION_SENTENCES = {
  deactivate: { acting: 'Deactivating it.', conditional: 'keyage would deactivate it.' },
  deactivateAgain: { acting: 'Deactivating it again.', conditional: 'keyage would deactivate it again.' },
  delete: { acting: 'Deleting it.', conditional: 'keyage would delete it.' },
  clearGone: { acting: 'its deactivation record is cleared.', conditional: 'keyage would clear its deactivation record.' },
  clearReactivated: { acting: 'it is left alone and its record cleared.', conditional: 'keyage would leave it alone and clear its record.' },
} as const satisfies Record<string, Record<ActionVoice, string>>;

function sentence(which: keyof typeof ACTION_SENTENCES, voice: ActionVoice | undefined): string {
  return ACTION_SENTENCES[which][voice ?? 'acting'];
}

/** The tag key of the deactivation record for `accessKeyId`, exactly as keyage writes it. */
export function deactivationTagKey(accessKeyId: string): string {
  return recordTagKey(accessKeyId);
}

/**
 * True when the tag key is, or looks like, a deactivation record: keyage's own form, another
 * letter case (IAM compares tag keys case-insensitively), or a Unicode look-alike.
 */
export function isDeactivationTagKey(key: string | undefined): key is string {
  return readRecordTag(key) !== undefined;
}

/** Every deactivation record (and look-alike) among a user's tags, unassessed. */
export function readDeactivationRecords(tags: readonly UserTag[]): DeactivationRecord[] {
  const records: DeactivationRecord[] = [];
  for (const tag of tags) {
    const recordTag = readRecordTag(tag.Key);
    if (!recordTag) continue;
    const value = tag.Value ?? '';
    const parsed = parseRecordValue(value);
    records.push({
      accessKeyId: recordTag.accessKeyId,
      tagKey: recordTag.tagKey,
      form: recordTag.form,
      value,
      ...(parsed.form !== 'malformed' ? { deactivatedAt: parsed.recordedAt } : {}),
    });
  }
  return records;
}

/** True when a user's tags hold at least one deactivation record (or a tag that looks like one). */
export function hasDeactivationRecords(tags: readonly UserTag[] | undefined): boolean {
  return (tags ?? []).some((t) => isDeactivationTagKey(t.Key));
}

/**
 * Runbook 1's plan for one user: deactivate every active key older than the limit, unless the
 * user carries the exemption tag. Every key gets an entry, so a dry run shows the whole picture.
 */
export function planDeactivation(facts: UserFacts, now: Date, parameters: DeactivationParameters): PlannedAction[] {
  const verdict = evaluateAccessKeys(facts.keys, now, parameters);
  const exempt = isExempt(facts.tags, facts.exemptionTag);
  const records = byKeyId(facts.records ?? readDeactivationRecords(facts.tags));
  return verdict.keys.map((assessment) => {
    const key = assessment.key as LiveKey;
    const record = records.get(key.accessKeyId.toUpperCase());
    const recorded = record?.deactivatedAt ? ` keyage deactivated it on ${day(record.deactivatedAt)}.` : '';
    let action: RemediationActionKind = 'keep';
    let reason: string;
    if (assessment.stale && exempt && facts.exemptionTag) {
      reason = `${assessment.reason} Not deactivated: the user carries the exemption tag ${formatExemptionTag(facts.exemptionTag)}.`;
    } else if (assessment.stale) {
      action = 'deactivate';
      reason = record
        ? `${assessment.reason} It is Active again although${recorded || ' keyage recorded a deactivation.'} ${sentence('deactivateAgain', parameters.voice)}`
        : `${assessment.reason} ${sentence('deactivate', parameters.voice)}`;
    } else if (!assessment.active && record) {
      reason = `${key.status} ${keyPhrase(key)} is ${days(assessment.ageDays)} old;${recorded || ' keyage recorded its deactivation.'} Nothing to do.`;
    } else if (!assessment.active && assessment.overLimit) {
      reason = `${assessment.reason} It was not deactivated by keyage, so keyage will never delete it.`;
    } else {
      reason = assessment.reason;
    }
    return toAction(facts.userName, key, now, record, action, reason, statusOf(record));
  });
}

/**
 * Runbook 2's plan for one user: delete the keys keyage deactivated once the grace period has
 * passed and they show no use since; clear records that no longer mean anything.
 */
export function planDeletion(facts: UserFacts, now: Date, parameters: DeletionParameters): PlannedAction[] {
  checkDeletionParameters(parameters);
  const exempt = isExempt(facts.tags, facts.exemptionTag);
  const all = facts.records ?? readDeactivationRecords(facts.tags);
  const primary = byKeyId(all);
  const keys = [...facts.keys].sort((a, b) => a.slot - b.slot || a.createdAt.getTime() - b.createdAt.getTime());
  const actions: PlannedAction[] = [];
  for (const key of keys) {
    const record = primary.get(key.accessKeyId.toUpperCase());
    let decision: Decision;
    if (!record) {
      decision = {
        action: 'keep',
        reason: `${key.status} ${keyPhrase(key)} is ${days(ageInDays(key.createdAt, now))} old and has no keyage deactivation record; keyage deletes only keys it deactivated.`,
      };
    } else if (record.form !== 'exact' || record.verdict?.status === 'suspect' || record.deactivatedAt === undefined) {
      decision = { action: 'keep', reason: suspectReason(key.status, keyPhrase(key), record) };
    } else if (exempt && facts.exemptionTag) {
      decision = {
        action: 'keep',
        reason: `${key.status} ${keyPhrase(key)} not deleted: the user carries the exemption tag ${formatExemptionTag(facts.exemptionTag)}.`,
      };
    } else {
      decision = decideDeletion(key, record, now, parameters);
    }
    actions.push(toAction(facts.userName, key, now, record, decision.action, decision.reason, statusOf(record)));
  }
  const live = new Set(keys.map((k) => k.accessKeyId.toUpperCase()));
  for (const record of all) {
    const id = record.accessKeyId.toUpperCase();
    const isPrimary = primary.get(id) === record;
    if (isPrimary && live.has(id)) continue; // decided above, with its key
    // A second record-like tag for a key (a look-alike beside keyage's own), or a record whose
    // key no longer exists. Nothing is left to protect once the key is gone, so keyage's own
    // records are cleared; suspected forgeries are left for a person and reported every run.
    const suspect = !isPrimary || record.form !== 'exact' || record.verdict?.status === 'suspect' || record.deactivatedAt === undefined;
    const key = keys.find((k) => k.accessKeyId.toUpperCase() === id);
    actions.push({
      userName: facts.userName,
      accessKeyId: record.accessKeyId,
      slot: key?.slot ?? null,
      status: key?.status ?? 'Missing',
      ageDays: key ? ageInDays(key.createdAt, now) : null,
      lastUsed: key?.lastUsedAt ? key.lastUsedAt.toISOString() : null,
      deactivatedAt: record.deactivatedAt?.toISOString() ?? null,
      record: suspect ? 'suspect' : statusOf(record),
      action: suspect ? 'keep' : 'clear-record',
      reason: suspect
        ? suspectReason(key?.status ?? 'Missing', key ? keyPhrase(key) : `key ${record.accessKeyId}`, record)
        : `Key ${record.accessKeyId} no longer exists; ${sentence('clearGone', parameters.voice)}`,
    });
  }
  return actions;
}

function statusOf(record: DeactivationRecord | undefined): RecordStatus | null {
  if (!record) return null;
  if (record.form !== 'exact' || record.deactivatedAt === undefined) return 'suspect';
  return record.verdict?.status ?? 'unchecked';
}

function suspectReason(status: string, phrase: string, record: DeactivationRecord): string {
  const why = record.verdict?.status === 'suspect' ? record.verdict.reason : record.form !== 'exact' ? `the tag key ${shown(record.tagKey)} is not one keyage writes` : 'its value is not one keyage writes';
  return `SUSPECTED FORGERY: ${status} ${phrase} has a deactivation record keyage did not write: ${why}. The key is not deleted and the tag is left for you to examine (who wrote it? see CloudTrail TagUser events for this user).`;
}

export interface Decision {
  readonly action: RemediationActionKind;
  readonly reason: string;
}

/**
 * Whether one recorded key may be deleted now. ALL must hold: the key is Inactive, the record
 * has a readable time, `graceDays` whole days have passed since it, and the key shows no use at
 * or after that time. Called when planning and again on facts re-read right before deleting.
 */
export function decideDeletion(key: LiveKey, record: DeactivationRecord, now: Date, parameters: DeletionParameters): Decision {
  checkDeletionParameters(parameters);
  const phrase = keyPhrase(key);
  const at = record.deactivatedAt;
  if (!at || record.form !== 'exact' || record.verdict?.status === 'suspect') {
    return { action: 'keep', reason: suspectReason(key.status, phrase, record) };
  }
  if (record.assumed) return assumedDeactivation(phrase, at, record.verdict, parameters);
  if (key.status === 'Active') {
    const settle = parameters.settleMs ?? RECORD_SETTLE_MS;
    if (now.getTime() - at.getTime() < settle) {
      return { action: 'keep', reason: `Active ${phrase}: keyage recorded its deactivation at ${at.toISOString()}, less than ${Math.round(settle / 60_000)} minutes ago; a deactivation is in progress, so it is left alone.` };
    }
    return { action: 'clear-record', reason: `Active ${phrase} was re-activated after keyage deactivated it on ${day(at)}; ${sentence('clearReactivated', parameters.voice)}` };
  }
  if (key.status !== 'Inactive') {
    return { action: 'keep', reason: `${key.status} ${phrase}: keyage deletes only Inactive keys.` };
  }
  const verdict = record.verdict;
  if (verdict?.status !== 'verified') {
    const why = verdict ? verdict.reason : 'it was not checked';
    return {
      action: 'keep',
      reason: `Inactive ${phrase} has a deactivation record dated ${at.toISOString()} that keyage cannot verify (${why}); keyage deletes only keys whose record it can verify, so it is not deleted.`,
    };
  }
  if (key.lastUsedAt && key.lastUsedAt.getTime() >= at.getTime()) {
    return {
      action: 'keep',
      reason: `Inactive ${phrase} was used on ${key.lastUsedAt.toISOString()}, after keyage deactivated it on ${at.toISOString()}; it stays Inactive and is not deleted. Find out who still uses it.`,
    };
  }
  const elapsed = ageInDays(at, now);
  if (elapsed < parameters.graceDays) {
    const ends = new Date(at.getTime() + parameters.graceDays * DAY_MS);
    return {
      action: 'keep',
      reason: `Inactive ${phrase} was deactivated by keyage on ${day(at)}; its grace period of ${days(parameters.graceDays)} ends on ${ends.toISOString()}.`,
    };
  }
  const use = key.lastUsedAt ? `last used ${key.lastUsedAt.toISOString()}` : 'never used';
  return {
    action: 'delete',
    reason: `Inactive ${phrase} was deactivated by keyage on ${day(at)}, ${days(elapsed)} ago (grace period ${days(parameters.graceDays)}), with no use since (${use}). ${sentence('delete', parameters.voice)}`,
  };
}

/**
 * Stage 2 on a key stage 1 would deactivate at `at` (a dry run of both stages): it is never
 * deleted in the same run, since the grace period starts then; said in the conditional, for
 * nothing has happened yet.
 */
function assumedDeactivation(phrase: string, at: Date, verdict: RecordVerdict | undefined, parameters: DeletionParameters): Decision {
  if (verdict?.status !== 'verified') {
    const why = verdict ? verdict.reason : 'it would not be checked';
    return {
      action: 'keep',
      reason: `${capitalized(phrase)} would be deactivated by stage 1 at ${at.toISOString()} with a record keyage cannot verify (${why}); keyage deletes only keys whose record it can verify, so it would never delete it.`,
    };
  }
  const ends = new Date(at.getTime() + parameters.graceDays * DAY_MS);
  return {
    action: 'keep',
    reason: `${capitalized(phrase)} would be deactivated by stage 1 on ${day(at)}; its grace period of ${days(parameters.graceDays)} would end on ${ends.toISOString()}.`,
  };
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Counts of a plan's actions, for summaries. */
export function countActions(actions: readonly Pick<PlannedAction, 'action'>[]): Record<RemediationActionKind, number> {
  const counts: Record<RemediationActionKind, number> = { deactivate: 0, delete: 0, keep: 0, 'clear-record': 0 };
  for (const a of actions) counts[a.action] += 1;
  return counts;
}

function toAction(
  userName: string,
  key: LiveKey,
  now: Date,
  record: DeactivationRecord | undefined,
  action: RemediationActionKind,
  reason: string,
  recordStatus: RecordStatus | null,
): PlannedAction {
  return {
    userName,
    accessKeyId: key.accessKeyId,
    slot: key.slot,
    status: key.status,
    ageDays: ageInDays(key.createdAt, now),
    lastUsed: key.lastUsedAt ? key.lastUsedAt.toISOString() : null,
    deactivatedAt: record?.deactivatedAt?.toISOString() ?? null,
    record: recordStatus,
    action,
    reason,
  };
}

/**
 * Records by access key ID. When a key has more than one record-like tag (keyage's own and a
 * look-alike), keyage's exact form is the one that counts; the others are reported apart.
 */
function byKeyId(records: readonly DeactivationRecord[]): Map<string, DeactivationRecord> {
  const map = new Map<string, DeactivationRecord>();
  for (const r of records) {
    const id = r.accessKeyId.toUpperCase();
    const seen = map.get(id);
    if (!seen || (seen.form !== 'exact' && r.form === 'exact')) map.set(id, r);
  }
  return map;
}

function checkDeletionParameters(parameters: DeletionParameters): void {
  const g = parameters.graceDays;
  if (!Number.isInteger(g) || g < 1) throw new TypeError(`plan: graceDays must be a whole number ≥ 1, got ${g}`);
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function days(n: number): string {
  return `${n} day${n === 1 ? '' : 's'}`;
}
