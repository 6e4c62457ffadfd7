/**
 * The write side of keyage: deactivate stale keys (runbook 1) and delete the keys keyage
 * deactivated once their grace period is over (runbook 2). The remediation Lambda and the
 * `keyage remediate` CLI both call these two functions, so a dry run from the command line
 * shows exactly what the runbooks would do.
 *
 * Every decision comes from `plan.ts` on facts read LIVE from IAM at the moment of acting
 * (Config may fire a remediation from a stale snapshot). Every AWS call goes through the
 * `AwsCaller`. `now` is the clock for every decision and every record written.
 *
 * Safety, in the order the code enforces it:
 *   - a dry run makes read calls only;
 *   - deactivation writes the record, signed with the record key, BEFORE setting the key
 *     Inactive, and checks afterwards that the record is still there;
 *   - a key is deleted only on a record that verifies (kms:VerifyMac over account, user, key,
 *     key creation and time): forged, copied, re-dated, look-alike and unsigned records never
 *     lead to a deletion, and suspected forgeries are reported;
 *   - before DeleteAccessKey the user's exemption, the record (and its MAC), the key's last use
 *     and, last, its status are read again and the decision is made again; anything but
 *     "delete" leaves the key alone;
 *   - DeleteAccessKey is never retried blindly: after a throttle or a lost answer the whole
 *     re-check runs again before the next attempt, and a key found gone after an attempt whose
 *     answer was lost is reported as this run's deletion;
 *   - NoSuchEntity on a key or record that another run (or a person) already removed is a
 *     result, not an error, so two runs at once end in the same state without failing.
 */
import {
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  type IAMClient,
  TagUserCommand,
  type Tag,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { type AwsCaller, isNoSuchEntity } from '../lib/aws-call';
import { KeyageError, messageOf, NoSuchUserError, UnexpectedResponseError } from '../lib/errors';
import type { Logger } from '../lib/log';
import { listAllUsersWithTags, readUserKeys, readUserTags } from '../rules/access-key-age/iam';
import { type ExemptionTag, isExempt } from '../rules/access-key-age/parameters';
import {
  type ActionVoice,
  countActions,
  type DeactivationRecord,
  decideDeletion,
  hasDeactivationRecords,
  type LiveKey,
  type PlannedAction,
  planDeactivation,
  planDeletion,
  readDeactivationRecords,
  type RemediationActionKind,
} from './plan';
import { accountOfArn, assessRecord, formatSignedRecordValue, type RecordSigner, type RecordSubject, readRecordTag, recordMessage, recordTagKey, shown } from './records';
import { resolveUser } from './resolve-user';

export { DEACTIVATION_TAG_PREFIX } from './plan';

/** Attempts of one DeleteAccessKey, each after a full re-check. */
export const MAX_DELETE_ATTEMPTS = 4;

/** What the remediation needs to talk to AWS. */
export interface RemediationContext {
  readonly iam: IAMClient;
  readonly caller: AwsCaller;
  readonly log: Logger;
  /** Used only to resolve a user ID to a name through Config's inventory; ListUsers otherwise. */
  readonly config?: ConfigServiceClient;
  /**
   * Signs a record when keyage deactivates a key, and verifies it before keyage deletes one
   * (`kmsRecordSigner` over the record key). Without one, records are written unsigned, and no
   * key is ever deleted on the strength of an unsigned or unverifiable record.
   */
  readonly signer?: RecordSigner;
}

/** Runbook 1: deactivate one user's stale keys. Give `userName` or `userId`. */
export interface DeactivateRequest {
  readonly userName?: string;
  readonly userId?: string;
  readonly maxAccessKeyAgeDays: number;
  readonly exemptionTag?: ExemptionTag;
  readonly dryRun: boolean;
  readonly now: Date;
  /** How the reasons name the planned change (`plan.ts` `ActionVoice`). @default 'acting' */
  readonly voice?: ActionVoice;
}

/** Where runbook 2 for every user left off, so that the next run goes on from there. */
export interface DeleteCursor {
  /** The user ID the previous run examined last; `undefined` to start from the first. */
  read(): Promise<string | undefined>;
  write(lastUserId: string): Promise<void>;
}

/** Runbook 2: delete deactivated keys of one user (`userName` or `userId`) or of every user (`allUsers`). */
export interface DeleteRequest {
  readonly userName?: string;
  readonly userId?: string;
  readonly allUsers?: boolean;
  readonly graceDays: number;
  readonly exemptionTag?: ExemptionTag;
  readonly dryRun: boolean;
  readonly now: Date;
  /** How the reasons name the planned change (`plan.ts` `ActionVoice`). @default 'acting' */
  readonly voice?: ActionVoice;
  /** Asked before each user in `allUsers` mode; `true` stops the run early (the Lambda's deadline). */
  readonly shouldStop?: () => boolean;
  /**
   * `allUsers` only: users are examined in user-ID order starting after the user the previous
   * run examined last, so that a run that stops at its deadline is continued, not restarted,
   * and no user waits behind others forever. Without one, every run starts from the first.
   */
  readonly cursor?: DeleteCursor;
  /**
   * Dry run of stage 2 right after a dry run of stage 1 (`keyage remediate --delete`): plan as
   * if these keys had just been deactivated by keyage at `now`, as `--apply` would leave them.
   */
  readonly assumeDeactivated?: readonly string[];
}

/** One planned action and what became of it. */
export interface RemediationAction extends PlannedAction {
  /** True only when keyage changed IAM for this entry in this run. Always false in a dry run. */
  readonly applied: boolean;
  /** What happened when the plan met IAM, when that differs from the plan (e.g. "already deleted"). */
  readonly outcome?: string;
}

export interface ReportUser {
  readonly userName: string;
  readonly userId: string;
}

/** A suspected forged deactivation record: reported in the report, the runbook output and the notification. */
export interface RecordAlert {
  readonly userName: string;
  readonly userId: string;
  readonly accessKeyId: string;
  /** Why keyage cannot have written it. */
  readonly reason: string;
}

export interface ReportSummary {
  /** Planned actions by kind. */
  readonly planned: Record<RemediationActionKind, number>;
  /** Applied actions by kind (all zero in a dry run). */
  readonly applied: Record<RemediationActionKind, number>;
  /** Suspected forged records found. */
  readonly suspectedForgeries: number;
  /** One line for humans and for the runbook's output. */
  readonly text: string;
}

export interface DeactivationReport {
  readonly operation: 'deactivate';
  readonly dryRun: boolean;
  /** The decision clock, ISO. */
  readonly now: string;
  readonly user: ReportUser;
  /** True when the user carries the exemption tag (nothing is deactivated). */
  readonly exempt: boolean;
  /** The key that signs the records written (its ARN), or `null`: records are written unsigned and keyage will never delete these keys. */
  readonly recordKey: string | null;
  readonly actions: readonly RemediationAction[];
  readonly summary: ReportSummary;
}

export interface DeletionReport {
  readonly operation: 'delete';
  readonly dryRun: boolean;
  readonly now: string;
  /** `user`: one user was asked for; `all-users`: every user holding a deactivation record. */
  readonly scope: 'user' | 'all-users';
  /** The users examined. */
  readonly users: readonly ReportUser[];
  readonly actions: readonly RemediationAction[];
  /** Suspected forged records, one per tag. */
  readonly alerts: readonly RecordAlert[];
  readonly summary: ReportSummary;
  /** False when the run stopped early (deadline) or skipped users that vanished; see `notProcessed`. */
  readonly complete: boolean;
  /** Users not examined, with why. */
  readonly notProcessed: readonly { readonly userName: string; readonly reason: string }[];
  /** `all-users` with a cursor: the user ID this run started after, and the last one it examined. */
  readonly cursor: { readonly startedAfter: string | null; readonly lastExamined: string | null } | null;
}

/** Some planned writes failed. The report says what was done and what was not. */
export class RemediationFailedError extends KeyageError {
  constructor(
    public readonly report: DeactivationReport | DeletionReport,
    public readonly failures: readonly { readonly accessKeyId: string; readonly action: RemediationActionKind; readonly error: string }[],
  ) {
    super(
      'RemediationFailed',
      `${failures.length} of ${Math.max(failures.length, report.actions.filter((a) => a.action !== 'keep').length)} planned change(s) failed: ${failures
        .slice(0, 10)
        .map((f) => `${f.action} ${f.accessKeyId}: ${f.error}`)
        .join('; ')}${failures.length > 10 ? '; …' : ''}. ${report.summary.text}`,
    );
  }
}

/** A planned change or a record check that failed. */
export type Failure = { accessKeyId: string; action: RemediationActionKind; error: string };

/** A user to act on, identified every way the records need. */
export interface Target extends ReportUser {
  readonly arn: string;
}

/**
 * Runbook 1: deactivate every active key of the user older than the limit, recording each
 * deactivation first as the user tag `keyage:deactivated:<AccessKeyId>` (signed with the
 * record key when the context has one).
 * @throws NoSuchUserError when the user does not exist.
 * @throws RemediationFailedError when a planned write failed (the others were still made).
 */
export async function deactivateStaleKeys(ctx: RemediationContext, request: DeactivateRequest): Promise<DeactivationReport> {
  checkNow(request.now);
  const user = await resolveUser(ctx, who(request));
  const target: Target = { userName: user.userName, userId: user.userId, arn: user.arn };
  const log = ctx.log.child({ operation: 'deactivate', dryRun: request.dryRun, userName: user.userName, userId: user.userId });
  const facts = await readLiveFacts(ctx, user.userName);
  const plan = planDeactivation(
    { userName: user.userName, keys: facts.keys, tags: facts.tags, ...(request.exemptionTag ? { exemptionTag: request.exemptionTag } : {}) },
    request.now,
    { maxAccessKeyAgeDays: request.maxAccessKeyAgeDays, ...(request.voice ? { voice: request.voice } : {}) },
  );
  const exempt = isExempt(facts.tags, request.exemptionTag);
  const actions: RemediationAction[] = [];
  const failures: Failure[] = [];
  for (const planned of plan) {
    let result: RemediationAction = { ...planned, applied: false };
    if (!request.dryRun && planned.action === 'deactivate') {
      const key = facts.keys.find((k) => k.accessKeyId === planned.accessKeyId) as LiveKey;
      try {
        result = await deactivateKey(ctx, planned, subjectOf(target, key), request.now);
      } catch (err) {
        failures.push({ accessKeyId: planned.accessKeyId, action: planned.action, error: messageOf(err) });
        result = { ...planned, applied: false, outcome: `Failed: ${messageOf(err)}` };
      }
    }
    logAction(log, result);
    actions.push(result);
  }
  const report: DeactivationReport = {
    operation: 'deactivate',
    dryRun: request.dryRun,
    now: request.now.toISOString(),
    user: { userName: user.userName, userId: user.userId },
    exempt,
    recordKey: ctx.signer?.keyId ?? null,
    actions,
    summary: summarize(actions, request.dryRun, `user ${user.userName}`),
  };
  log.info('deactivation finished', { summary: report.summary.text });
  if (failures.length > 0) throw new RemediationFailedError(report, failures);
  return report;
}

/**
 * Runbook 2: delete the keys keyage deactivated, once `graceDays` have passed and the key
 * shows no use since, on records that verify; clear records of keys that are gone or were
 * re-activated by a person; report suspected forged records. With `allUsers`, only users
 * holding a record (or a tag that looks like one) are examined.
 * @throws NoSuchUserError when the one user asked for does not exist.
 * @throws RemediationFailedError when a planned write or a record check failed (the others were still made).
 */
export async function deleteDeactivatedKeys(ctx: RemediationContext, request: DeleteRequest): Promise<DeletionReport> {
  checkNow(request.now);
  const params = { graceDays: request.graceDays };
  const base = ctx.log.child({ operation: 'delete', dryRun: request.dryRun });
  let targets: Target[];
  let startedAfter: string | null = null;
  if (request.allUsers) {
    if (request.userName !== undefined || request.userId !== undefined) throw new TypeError('deleteDeactivatedKeys: give allUsers or a user, not both');
    const everyone = await listAllUsersWithTags(ctx);
    targets = everyone.filter((u) => hasDeactivationRecords(u.tags)).map((u) => ({ userName: u.userName, userId: u.userId, arn: u.arn }));
    if (request.cursor) {
      startedAfter = (await readCursor(request.cursor, base)) ?? null;
      targets = rotateAfter(targets, startedAfter);
    }
  } else {
    const user = await resolveUser(ctx, who(request));
    targets = [{ userName: user.userName, userId: user.userId, arn: user.arn }];
  }
  const actions: RemediationAction[] = [];
  const alerts: RecordAlert[] = [];
  const users: ReportUser[] = [];
  const notProcessed: { userName: string; reason: string }[] = [];
  const failures: Failure[] = [];
  let lastExamined: string | null = null;

  for (const [index, target] of targets.entries()) {
    if (request.shouldStop?.()) {
      for (const rest of targets.slice(index)) notProcessed.push({ userName: rest.userName, reason: 'the run stopped before its deadline; the next run examines this user' });
      base.warn('stopping before the deadline', { remainingUsers: targets.length - index });
      break;
    }
    const log = base.child({ userName: target.userName, userId: target.userId });
    let facts: LiveFacts;
    try {
      facts = await readLiveFacts(ctx, target.userName);
    } catch (err) {
      if (request.allUsers && err instanceof NoSuchUserError) {
        notProcessed.push({ userName: target.userName, reason: 'the user was deleted during the run' });
        log.info('user deleted during the run; skipped');
        lastExamined = target.userId;
        continue;
      }
      throw err;
    }
    users.push({ userName: target.userName, userId: target.userId });
    lastExamined = target.userId;
    const assumed = request.assumeDeactivated?.length ? assumeDeactivated(facts, request.assumeDeactivated, request.now) : undefined;
    if (assumed) facts = assumed.facts;
    let records = await assessRecords(ctx, target, facts, request.now, failures);
    if (assumed) {
      // Stage 1's records would be keyage's own, signed when it has the record key.
      records = records.map((r) =>
        assumed.ids.has(r.accessKeyId) && r.form === 'exact'
          ? {
              ...r,
              assumed: true,
              verdict: ctx.signer ? { status: 'verified', recordedAt: request.now } : { status: 'unsigned', recordedAt: request.now, reason: 'it would be written without the record key, so it would prove nothing' },
            }
          : r,
      );
    }
    const plan = planDeletion(
      { userName: target.userName, keys: facts.keys, tags: facts.tags, records, ...(request.exemptionTag ? { exemptionTag: request.exemptionTag } : {}) },
      request.now,
      { ...params, ...(request.voice ? { voice: request.voice } : {}) },
    );
    for (const planned of plan) {
      let result: RemediationAction = { ...planned, applied: false };
      if (!request.dryRun && (planned.action === 'delete' || planned.action === 'clear-record')) {
        try {
          result =
            planned.action === 'delete'
              ? await deleteKey(ctx, planned, target, facts, request.now, params, request.exemptionTag)
              : await clearRecord(ctx, planned);
        } catch (err) {
          failures.push({ accessKeyId: planned.accessKeyId, action: planned.action, error: messageOf(err) });
          result = { ...planned, applied: false, outcome: `Failed: ${messageOf(err)}` };
        }
      }
      if (result.record === 'suspect') {
        alerts.push({ userName: target.userName, userId: target.userId, accessKeyId: result.accessKeyId, reason: result.reason });
        log.warn('suspected forged deactivation record', { accessKeyId: result.accessKeyId, reason: result.reason });
      }
      logAction(log, result);
      actions.push(result);
    }
  }
  if (request.cursor && lastExamined !== null) await writeCursor(request.cursor, lastExamined, base);

  const scope = request.allUsers ? 'all-users' : 'user';
  const who_ = scope === 'user' ? `user ${targets[0]?.userName ?? '?'}` : `${users.length} user${users.length === 1 ? '' : 's'} with deactivation records`;
  const report: DeletionReport = {
    operation: 'delete',
    dryRun: request.dryRun,
    now: request.now.toISOString(),
    scope,
    users,
    actions,
    alerts,
    summary: summarize(actions, request.dryRun, who_, notProcessed.length),
    complete: notProcessed.length === 0,
    notProcessed,
    cursor: request.allUsers && request.cursor ? { startedAfter, lastExamined } : null,
  };
  base.info('deletion finished', { summary: report.summary.text, users: users.length, notProcessed: notProcessed.length, suspectedForgeries: alerts.length });
  if (failures.length > 0) throw new RemediationFailedError(report, failures);
  return report;
}

interface LiveFacts {
  readonly keys: LiveKey[];
  readonly tags: Tag[];
}

/** A user's keys (with last use) and tags, read live. A key deleted while reading is left out. */
async function readLiveFacts(ctx: RemediationContext, userName: string): Promise<LiveFacts> {
  const keys = await readUserKeys(ctx, userName);
  const live: LiveKey[] = [];
  for (const key of keys) {
    const lastUsedAt = await readLastUsed(ctx, key.accessKeyId as string);
    if (lastUsedAt === 'gone') {
      ctx.log.info('key deleted while being read; left out', { userName, accessKeyId: key.accessKeyId });
      continue;
    }
    live.push({ ...key, accessKeyId: key.accessKeyId as string, lastUsedAt });
  }
  const tags = await readUserTags(ctx, userName);
  return { keys: live, tags };
}

/**
 * Every record of the user with its verdict (kms:VerifyMac for each well-formed signed record
 * whose key exists). A check that fails is pushed to `failures` (a failure of the run), and its
 * record proves nothing. The live audit calls this too, so that its plan is the runbook's.
 */
export async function assessRecords(
  ctx: Pick<RemediationContext, 'signer'>,
  target: Target,
  facts: { readonly keys: readonly LiveKey[]; readonly tags: readonly Tag[] },
  now: Date,
  failures: Failure[],
): Promise<DeactivationRecord[]> {
  const out: DeactivationRecord[] = [];
  for (const record of readDeactivationRecords(facts.tags)) {
    const key = facts.keys.find((k) => k.accessKeyId === record.accessKeyId);
    const tag = readRecordTag(record.tagKey);
    if (!tag) continue;
    try {
      const verdict = await assessRecord(tag, record.value, key ? subjectOf(target, key) : undefined, now, ctx.signer);
      out.push({ ...record, verdict });
    } catch (err) {
      failures.push({ accessKeyId: record.accessKeyId, action: 'keep', error: `its deactivation record could not be verified: ${messageOf(err)}` });
      out.push({ ...record, verdict: { status: 'unverifiable', recordedAt: record.deactivatedAt ?? now, reason: `the check failed: ${messageOf(err)}` } });
    }
  }
  return out;
}

/**
 * The facts as stage 1 would leave them: these keys Inactive, with keyage's record dated `now`
 * (its verdict is set by the caller: a record that does not exist yet cannot be verified).
 */
function assumeDeactivated(facts: LiveFacts, ids: readonly string[], now: Date): { facts: LiveFacts; ids: Set<string> } {
  const rewritten = new Set(ids.filter((id) => facts.keys.some((k) => k.accessKeyId === id && k.status === 'Active')));
  const keys = facts.keys.map((k) => (rewritten.has(k.accessKeyId) ? { ...k, status: 'Inactive' as const } : k));
  const tags = [...facts.tags.filter((t) => !rewritten.has(readRecordTag(t.Key)?.accessKeyId ?? '')), ...[...rewritten].map((id) => ({ Key: recordTagKey(id), Value: now.toISOString() }))];
  return { facts: { keys, tags }, ids: rewritten };
}

/** When the key was last used: a Date, `null` (never), or 'gone' (no such key). */
async function readLastUsed(ctx: RemediationContext, accessKeyId: string): Promise<Date | null | 'gone'> {
  try {
    const out = await ctx.caller.call('iam:GetAccessKeyLastUsed', () => ctx.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId })));
    const date = out.AccessKeyLastUsed?.LastUsedDate;
    return date ? new Date(date) : null;
  } catch (err) {
    if (isNoSuchEntity(err)) return 'gone';
    throw err;
  }
}

function subjectOf(target: Target, key: LiveKey): RecordSubject {
  const accountId = accountOfArn(target.arn);
  if (!accountId) throw new UnexpectedResponseError('iam', `the ARN of user ${target.userName} (${shown(target.arn)}) names no account`);
  return { accountId, userId: target.userId, accessKeyId: key.accessKeyId, keyCreatedAt: key.createdAt };
}

/** The record's value: signed with the record key, or a bare time when there is none. */
async function recordValue(ctx: RemediationContext, subject: RecordSubject, now: Date): Promise<string> {
  if (!ctx.signer) return now.toISOString();
  return formatSignedRecordValue(now, await ctx.signer.sign(recordMessage(subject, now)));
}

/**
 * Record first, then deactivate, then make sure the record survived: a run of runbook 2 that
 * read the key as Active (re-activated) before this UpdateAccessKey may clear its record
 * meanwhile; keyage knows this deactivation is its own, so it writes the record again.
 * A key or user that vanished meanwhile is a result, not an error.
 */
async function deactivateKey(ctx: RemediationContext, planned: PlannedAction, subject: RecordSubject, now: Date): Promise<RemediationAction> {
  const tagKey = recordTagKey(planned.accessKeyId);
  const value = await recordValue(ctx, subject, now);
  const tagUser = () => ctx.caller.call('iam:TagUser', () => ctx.iam.send(new TagUserCommand({ UserName: planned.userName, Tags: [{ Key: tagKey, Value: value }] })));
  try {
    await tagUser();
    await ctx.caller.call('iam:UpdateAccessKey', () =>
      ctx.iam.send(new UpdateAccessKeyCommand({ UserName: planned.userName, AccessKeyId: planned.accessKeyId, Status: 'Inactive' })),
    );
  } catch (err) {
    if (!isNoSuchEntity(err)) throw err;
    await untagQuietly(ctx, planned.userName, tagKey);
    return { ...planned, applied: false, outcome: 'The key or its user no longer exists; nothing to deactivate.' };
  }
  const done: RemediationAction = { ...planned, deactivatedAt: now.toISOString(), record: ctx.signer ? 'verified' : 'unsigned', applied: true };
  let tags: Tag[];
  try {
    tags = await readUserTags(ctx, planned.userName);
  } catch (err) {
    if (err instanceof NoSuchUserError) return { ...done, outcome: 'The user was deleted right after the key was deactivated.' };
    throw err;
  }
  if (tags.some((t) => t.Key === tagKey)) return done;
  await tagUser();
  return { ...done, outcome: 'The record was cleared by another run right after the deactivation; it was written again.' };
}

type Recheck =
  | { readonly kind: 'delete'; readonly record: DeactivationRecord }
  | { readonly kind: 'gone'; readonly record?: DeactivationRecord }
  | { readonly kind: 'keep'; readonly outcome: string };

/**
 * Re-read everything the decision rests on and decide again: the exemption, the record and its
 * MAC, the key's last use and, LAST, its status, right before the delete, so that a person
 * re-activating the key has the shortest possible window (IAM has no conditional delete).
 */
async function recheckBeforeDelete(
  ctx: RemediationContext,
  planned: PlannedAction,
  target: Target,
  createdAt: Date,
  now: Date,
  params: { graceDays: number },
  exemptionTag: ExemptionTag | undefined,
): Promise<Recheck> {
  const { userName, accessKeyId } = planned;
  let tags: Tag[];
  try {
    tags = await readUserTags(ctx, userName);
  } catch (err) {
    if (err instanceof NoSuchUserError) return { kind: 'keep', outcome: 'The user no longer exists; nothing to delete.' };
    throw err;
  }
  if (exemptionTag && isExempt(tags, exemptionTag)) {
    return { kind: 'keep', outcome: 'Re-checked before deleting: the user now carries the exemption tag, so the key is not deleted.' };
  }
  const found = readDeactivationRecords(tags).filter((r) => r.accessKeyId === accessKeyId);
  const record = found.find((r) => r.form === 'exact');
  const lastUsedAt = await readLastUsed(ctx, accessKeyId);
  if (lastUsedAt === 'gone') return { kind: 'gone', ...(record ? { record } : {}) };
  if (!record) return { kind: 'keep', outcome: 'Re-checked before deleting: the deactivation record is gone, so the key is not deleted.' };
  if (found.length > 1) return { kind: 'keep', outcome: 'Re-checked before deleting: a second tag that looks like its record appeared; the key is not deleted.' };
  const tag = readRecordTag(record.tagKey);
  const subject = subjectOf(target, { ...planned, accessKeyId, createdAt, status: 'Inactive', slot: planned.slot ?? 1, lastUsedAt });
  const verdict = tag ? await assessRecord(tag, record.value, subject, now, ctx.signer) : undefined;
  let keys: Awaited<ReturnType<typeof readUserKeys>>;
  try {
    keys = await readUserKeys(ctx, userName);
  } catch (err) {
    if (err instanceof NoSuchUserError) return { kind: 'keep', outcome: 'The user no longer exists; nothing to delete.' };
    throw err;
  }
  const key = keys.find((k) => k.accessKeyId === accessKeyId);
  if (!key) return { kind: 'gone', record };
  if (key.createdAt.getTime() !== createdAt.getTime()) return { kind: 'keep', outcome: 'Re-checked before deleting: the key changed; it is not deleted.' };
  const checked: DeactivationRecord = { ...record, ...(verdict ? { verdict } : {}) };
  const decision = decideDeletion({ ...key, accessKeyId, lastUsedAt }, checked, now, params);
  if (decision.action !== 'delete') return { kind: 'keep', outcome: `Re-checked before deleting: ${decision.reason}` };
  return { kind: 'delete', record: checked };
}

/**
 * Delete one key, never blindly: each attempt of DeleteAccessKey follows a full re-check, and
 * a retryable failure (throttled, or an answer lost on the way back) leads to another re-check,
 * not to a resend. A key found gone after an attempt whose answer was lost was deleted by that
 * attempt: it is reported as this run's deletion.
 */
async function deleteKey(
  ctx: RemediationContext,
  planned: PlannedAction,
  target: Target,
  facts: LiveFacts,
  now: Date,
  params: { graceDays: number },
  exemptionTag: ExemptionTag | undefined,
): Promise<RemediationAction> {
  const { userName, accessKeyId } = planned;
  const createdAt = facts.keys.find((k) => k.accessKeyId === accessKeyId)?.createdAt;
  if (!createdAt) return { ...planned, applied: false, outcome: 'The key is no longer listed; nothing to delete.' };
  const alreadyDeleted = 'Already deleted (by another run or a person); its record is cleared.';
  const lostAnswer =
    'Deleted by this run: IAM\'s answer to DeleteAccessKey was lost on the way back, and the re-check finds the key gone (a delete by another run at the same moment would look the same); its record is cleared.';
  let sent = 0;
  for (let attempt = 1; ; attempt++) {
    const check = await recheckBeforeDelete(ctx, planned, target, createdAt, now, params, exemptionTag);
    if (check.kind === 'keep') return { ...planned, applied: false, outcome: check.outcome };
    if (check.kind === 'gone') {
      if (check.record) await untagQuietly(ctx, userName, check.record.tagKey);
      return sent > 0 ? { ...planned, applied: true, outcome: lostAnswer } : { ...planned, applied: false, outcome: alreadyDeleted };
    }
    try {
      sent += 1;
      await ctx.caller.callOnce('iam:DeleteAccessKey', () => ctx.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId })));
    } catch (err) {
      if (isNoSuchEntity(err)) {
        await untagQuietly(ctx, userName, check.record.tagKey);
        return sent > 1 ? { ...planned, applied: true, outcome: lostAnswer } : { ...planned, applied: false, outcome: alreadyDeleted };
      }
      if (ctx.caller.retryable(err) && attempt < MAX_DELETE_ATTEMPTS) {
        ctx.log.info('DeleteAccessKey failed retryably; re-checking before another attempt', { accessKeyId, attempt, error: messageOf(err) });
        await ctx.caller.backoff('iam:DeleteAccessKey', attempt, err);
        continue;
      }
      throw err;
    }
    await untagQuietly(ctx, userName, check.record.tagKey);
    return { ...planned, applied: true, ...(attempt > 1 ? { outcome: `Deleted after ${attempt} attempts, each after a full re-check.` } : {}) };
  }
}

/**
 * Clear a record, after checking it still says what the plan saw (another run may have
 * rewritten it). IAM has no conditional untag: when the key is found switched off right after
 * the untag, a person or another keyage run did it, and keyage cannot tell which. It writes no
 * record of its own for it (a person's deactivation must never become deletable); the key stays
 * Inactive and is reported.
 */
async function clearRecord(ctx: RemediationContext, planned: PlannedAction): Promise<RemediationAction> {
  const { userName, accessKeyId } = planned;
  let tags: Tag[];
  let keys: Awaited<ReturnType<typeof readUserKeys>>;
  try {
    tags = await readUserTags(ctx, userName);
    keys = await readUserKeys(ctx, userName);
  } catch (err) {
    if (err instanceof NoSuchUserError) return { ...planned, applied: false, outcome: 'The user no longer exists.' };
    throw err;
  }
  const record = readDeactivationRecords(tags).find((r) => r.form === 'exact' && r.accessKeyId === accessKeyId);
  if (!record) return { ...planned, applied: false, outcome: 'The record was already cleared.' };
  const key = keys.find((k) => k.accessKeyId === accessKeyId);
  const same = (record.deactivatedAt?.toISOString() ?? null) === planned.deactivatedAt;
  const stillSo = planned.status === 'Missing' ? key === undefined : key?.status === planned.status;
  if (!same || !stillSo) {
    return { ...planned, applied: false, outcome: 'Re-checked before clearing: the key or its record changed meanwhile; left for the next run.' };
  }
  const changed = await untagQuietly(ctx, userName, record.tagKey);
  if (!changed) return { ...planned, applied: false, outcome: 'The user no longer exists.' };
  if (planned.status === 'Missing') return { ...planned, applied: true };
  try {
    const after = (await readUserKeys(ctx, userName)).find((k) => k.accessKeyId === accessKeyId);
    const recorded = readDeactivationRecords(await readUserTags(ctx, userName)).some((r) => r.form === 'exact' && r.accessKeyId === accessKeyId);
    if (after && after.status !== 'Active' && !recorded) {
      return {
        ...planned,
        applied: true,
        outcome:
          'Record cleared, but the key was switched off meanwhile by a person or by another keyage run, and keyage cannot tell which: it records nothing for it, so it will never delete this key. If keyage should, re-activate it and let runbook 1 deactivate it.',
      };
    }
  } catch (err) {
    if (!(err instanceof NoSuchUserError || isNoSuchEntity(err))) throw err;
  }
  return { ...planned, applied: true };
}

/** UntagUser, treating a user that no longer exists as done. Returns false in that case. */
async function untagQuietly(ctx: RemediationContext, userName: string, tagKey: string): Promise<boolean> {
  try {
    await ctx.caller.call('iam:UntagUser', () => ctx.iam.send(new UntagUserCommand({ UserName: userName, TagKeys: [tagKey] })));
    return true;
  } catch (err) {
    if (isNoSuchEntity(err)) return false;
    throw err;
  }
}

async function readCursor(cursor: DeleteCursor, log: Logger): Promise<string | undefined> {
  try {
    return await cursor.read();
  } catch (err) {
    // The cursor only orders the users; without it the run starts from the first, safely.
    log.warn('could not read where the last run stopped; starting from the first user', { error: messageOf(err) });
    return undefined;
  }
}

async function writeCursor(cursor: DeleteCursor, lastUserId: string, log: Logger): Promise<void> {
  try {
    await cursor.write(lastUserId);
  } catch (err) {
    log.warn('could not save where this run stopped; the next run starts from the first user', { error: messageOf(err) });
  }
}

/** `targets` in user-ID order, starting with the first user after `after` and wrapping round. */
export function rotateAfter<T extends { userId: string }>(targets: readonly T[], after: string | null | undefined): T[] {
  const sorted = [...targets].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  if (!after) return sorted;
  const start = sorted.findIndex((t) => t.userId > after);
  return start <= 0 ? sorted : [...sorted.slice(start), ...sorted.slice(0, start)];
}

const VERBS: Record<RemediationActionKind, { will: string; did: string; noun: string }> = {
  deactivate: { will: 'would deactivate', did: 'deactivated', noun: 'key' },
  delete: { will: 'would delete', did: 'deleted', noun: 'key' },
  'clear-record': { will: 'would clear', did: 'cleared', noun: 'record' },
  keep: { will: 'would keep', did: 'kept', noun: 'key' },
};

function summarize(actions: readonly RemediationAction[], dryRun: boolean, subject: string, notProcessed = 0): ReportSummary {
  const planned = countActions(actions);
  const applied = countActions(actions.filter((a) => a.applied));
  const parts: string[] = [];
  for (const kind of ['deactivate', 'delete', 'clear-record'] as const) {
    const list = actions.filter((a) => a.action === kind && (dryRun || a.applied));
    if (list.length === 0) continue;
    const ids = listed(list.map((a) => a.accessKeyId));
    const { will, did, noun } = VERBS[kind];
    parts.push(`${dryRun ? will : did} ${list.length} ${noun}${list.length === 1 ? '' : 's'} (${ids})`);
  }
  const notDone = dryRun ? 0 : actions.filter((a) => a.action !== 'keep' && !a.applied).length;
  if (notDone > 0) parts.push(`${notDone} planned change${notDone === 1 ? '' : 's'} not made (see outcome)`);
  const kept = planned.keep;
  parts.push(`${kept} key${kept === 1 ? '' : 's'} left as ${kept === 1 ? 'it is' : 'they are'}`);
  const suspects = actions.filter((a) => a.record === 'suspect');
  if (suspects.length > 0) {
    parts.push(`${suspects.length} SUSPECTED FORGED record${suspects.length === 1 ? '' : 's'} (${listed(suspects.map((a) => a.accessKeyId))}): nothing deleted on ${suspects.length === 1 ? 'it' : 'them'}`);
  }
  if (notProcessed > 0) parts.push(`${notProcessed} user${notProcessed === 1 ? '' : 's'} not examined`);
  const text = `${dryRun ? 'DRY RUN, nothing changed: ' : ''}${subject}: ${parts.join('; ')}.`;
  return { planned, applied, suspectedForgeries: suspects.length, text };
}

/** At most ten IDs, then how many more: the summary is one line whatever the number of keys. */
function listed(ids: readonly string[]): string {
  return ids.length <= 10 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more`;
}

function logAction(log: Logger, a: RemediationAction): void {
  log.info(a.action === 'keep' ? 'key kept' : a.applied ? `key ${a.action} applied` : `key ${a.action} planned`, {
    accessKeyId: a.accessKeyId,
    slot: a.slot,
    status: a.status,
    ageDays: a.ageDays,
    lastUsed: a.lastUsed,
    deactivatedAt: a.deactivatedAt,
    record: a.record,
    action: a.action,
    applied: a.applied,
    reason: a.reason,
    ...(a.outcome ? { outcome: a.outcome } : {}),
  });
}

function who(request: { userName?: string; userId?: string }): { userName?: string; userId?: string } {
  if (request.userName === undefined && request.userId === undefined) throw new TypeError('give a userName or a userId');
  return {
    ...(request.userName !== undefined ? { userName: request.userName } : {}),
    ...(request.userId !== undefined ? { userId: request.userId } : {}),
  };
}

function checkNow(now: Date): void {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError('remediation: now must be a valid Date');
}
