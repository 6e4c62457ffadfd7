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
 *   - deactivation writes the record BEFORE setting the key Inactive (see plan.ts);
 *   - before DeleteAccessKey the key's status, its record and its last use are read again
 *     and the decision is made again; anything but "delete" leaves the key alone;
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
import { KeyageError, messageOf, NoSuchUserError } from '../lib/errors';
import type { Logger } from '../lib/log';
import { listAllUsersWithTags, readUserKeys, readUserTags } from '../rules/access-key-age/iam';
import { type ExemptionTag, isExempt } from '../rules/access-key-age/parameters';
import {
  countActions,
  type DeactivationRecord,
  deactivationTagKey,
  decideDeletion,
  hasDeactivationRecords,
  type LiveKey,
  type PlannedAction,
  planDeactivation,
  planDeletion,
  readDeactivationRecords,
  type RemediationActionKind,
} from './plan';
import { resolveUser } from './resolve-user';

export { DEACTIVATION_TAG_PREFIX } from './plan';

/** What the remediation needs to talk to AWS. */
export interface RemediationContext {
  readonly iam: IAMClient;
  readonly caller: AwsCaller;
  readonly log: Logger;
  /** Used only to resolve a user ID to a name through Config's inventory; ListUsers otherwise. */
  readonly config?: ConfigServiceClient;
}

/** Runbook 1: deactivate one user's stale keys. Give `userName` or `userId`. */
export interface DeactivateRequest {
  readonly userName?: string;
  readonly userId?: string;
  readonly maxAccessKeyAgeDays: number;
  readonly exemptionTag?: ExemptionTag;
  readonly dryRun: boolean;
  readonly now: Date;
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
  /** Asked before each user in `allUsers` mode; `true` stops the run early (the Lambda's deadline). */
  readonly shouldStop?: () => boolean;
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

export interface ReportSummary {
  /** Planned actions by kind. */
  readonly planned: Record<RemediationActionKind, number>;
  /** Applied actions by kind (all zero in a dry run). */
  readonly applied: Record<RemediationActionKind, number>;
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
  readonly summary: ReportSummary;
  /** False when the run stopped early (deadline) or skipped users that vanished; see `notProcessed`. */
  readonly complete: boolean;
  /** Users not examined, with why. */
  readonly notProcessed: readonly { readonly userName: string; readonly reason: string }[];
}

/** Some planned writes failed. The report says what was done and what was not. */
export class RemediationFailedError extends KeyageError {
  constructor(
    public readonly report: DeactivationReport | DeletionReport,
    public readonly failures: readonly { readonly accessKeyId: string; readonly action: RemediationActionKind; readonly error: string }[],
  ) {
    super(
      'RemediationFailed',
      `${failures.length} of ${report.actions.filter((a) => a.action !== 'keep').length} planned change(s) failed: ${failures
        .map((f) => `${f.action} ${f.accessKeyId}: ${f.error}`)
        .join('; ')}. ${report.summary.text}`,
    );
  }
}

/**
 * Runbook 1: deactivate every active key of the user older than the limit, recording each
 * deactivation as the user tag `keyage:deactivated:<AccessKeyId>` = `now`.
 * @throws NoSuchUserError when the user does not exist.
 * @throws RemediationFailedError when a planned write failed (the others were still made).
 */
export async function deactivateStaleKeys(ctx: RemediationContext, request: DeactivateRequest): Promise<DeactivationReport> {
  checkNow(request.now);
  const user = await resolveUser(ctx, who(request));
  const log = ctx.log.child({ operation: 'deactivate', dryRun: request.dryRun, userName: user.userName, userId: user.userId });
  const facts = await readLiveFacts(ctx, user.userName);
  const plan = planDeactivation(
    { userName: user.userName, keys: facts.keys, tags: facts.tags, ...(request.exemptionTag ? { exemptionTag: request.exemptionTag } : {}) },
    request.now,
    { maxAccessKeyAgeDays: request.maxAccessKeyAgeDays },
  );
  const exempt = isExempt(facts.tags, request.exemptionTag);
  const actions: RemediationAction[] = [];
  const failures: { accessKeyId: string; action: RemediationActionKind; error: string }[] = [];
  for (const planned of plan) {
    let result: RemediationAction = { ...planned, applied: false };
    if (!request.dryRun && planned.action === 'deactivate') {
      try {
        result = await deactivateKey(ctx, planned, request.now);
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
    actions,
    summary: summarize(actions, request.dryRun, `user ${user.userName}`),
  };
  log.info('deactivation finished', { summary: report.summary.text });
  if (failures.length > 0) throw new RemediationFailedError(report, failures);
  return report;
}

/**
 * Runbook 2: delete the keys keyage deactivated, once `graceDays` have passed and the key
 * shows no use since; clear records of keys that are gone or were re-activated by a person.
 * With `allUsers`, only users holding a deactivation record are examined.
 * @throws NoSuchUserError when the one user asked for does not exist.
 * @throws RemediationFailedError when a planned write failed (the others were still made).
 */
export async function deleteDeactivatedKeys(ctx: RemediationContext, request: DeleteRequest): Promise<DeletionReport> {
  checkNow(request.now);
  const params = { graceDays: request.graceDays };
  let targets: ReportUser[];
  if (request.allUsers) {
    if (request.userName !== undefined || request.userId !== undefined) throw new TypeError('deleteDeactivatedKeys: give allUsers or a user, not both');
    const everyone = await listAllUsersWithTags(ctx);
    targets = everyone.filter((u) => hasDeactivationRecords(u.tags)).map((u) => ({ userName: u.userName, userId: u.userId }));
  } else {
    const user = await resolveUser(ctx, who(request));
    targets = [{ userName: user.userName, userId: user.userId }];
  }
  const base = ctx.log.child({ operation: 'delete', dryRun: request.dryRun });
  const actions: RemediationAction[] = [];
  const users: ReportUser[] = [];
  const notProcessed: { userName: string; reason: string }[] = [];
  const failures: { accessKeyId: string; action: RemediationActionKind; error: string }[] = [];

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
        continue;
      }
      throw err;
    }
    users.push(target);
    const plan = planDeletion(
      { userName: target.userName, keys: facts.keys, tags: facts.tags, ...(request.exemptionTag ? { exemptionTag: request.exemptionTag } : {}) },
      request.now,
      params,
    );
    for (const planned of plan) {
      let result: RemediationAction = { ...planned, applied: false };
      if (!request.dryRun && (planned.action === 'delete' || planned.action === 'clear-record')) {
        try {
          result =
            planned.action === 'delete'
              ? await deleteKey(ctx, planned, request.now, params, request.exemptionTag)
              : await clearRecord(ctx, planned, request.now);
        } catch (err) {
          failures.push({ accessKeyId: planned.accessKeyId, action: planned.action, error: messageOf(err) });
          result = { ...planned, applied: false, outcome: `Failed: ${messageOf(err)}` };
        }
      }
      logAction(log, result);
      actions.push(result);
    }
  }

  const scope = request.allUsers ? 'all-users' : 'user';
  const who_ = scope === 'user' ? `user ${targets[0]?.userName ?? '?'}` : `${users.length} user${users.length === 1 ? '' : 's'} with deactivation records`;
  const report: DeletionReport = {
    operation: 'delete',
    dryRun: request.dryRun,
    now: request.now.toISOString(),
    scope,
    users,
    actions,
    summary: summarize(actions, request.dryRun, who_, notProcessed.length),
    complete: notProcessed.length === 0,
    notProcessed,
  };
  base.info('deletion finished', { summary: report.summary.text, users: users.length, notProcessed: notProcessed.length });
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

/** Record first, then deactivate. A key or user that vanished meanwhile is a result, not an error. */
async function deactivateKey(ctx: RemediationContext, planned: PlannedAction, now: Date): Promise<RemediationAction> {
  const tagKey = deactivationTagKey(planned.accessKeyId);
  const recordedAt = now.toISOString();
  try {
    await ctx.caller.call('iam:TagUser', () =>
      ctx.iam.send(new TagUserCommand({ UserName: planned.userName, Tags: [{ Key: tagKey, Value: recordedAt }] })),
    );
    await ctx.caller.call('iam:UpdateAccessKey', () =>
      ctx.iam.send(new UpdateAccessKeyCommand({ UserName: planned.userName, AccessKeyId: planned.accessKeyId, Status: 'Inactive' })),
    );
  } catch (err) {
    if (!isNoSuchEntity(err)) throw err;
    await untagQuietly(ctx, planned.userName, tagKey);
    return { ...planned, applied: false, outcome: 'The key or its user no longer exists; nothing to deactivate.' };
  }
  return { ...planned, deactivatedAt: recordedAt, applied: true };
}

/** Re-read everything the decision rests on, decide again, and delete only if the answer is still "delete". */
async function deleteKey(
  ctx: RemediationContext,
  planned: PlannedAction,
  now: Date,
  params: { graceDays: number },
  exemptionTag: ExemptionTag | undefined,
): Promise<RemediationAction> {
  const { userName, accessKeyId } = planned;
  const alreadyDeleted = 'Already deleted (by another run or a person); its record is cleared.';
  // Re-read everything the decision rests on. The key's status is read LAST, right before the
  // delete, so that a person re-activating the key has the shortest possible window (one round
  // trip: IAM has no conditional delete).
  let tags: Tag[];
  try {
    tags = await readUserTags(ctx, userName);
  } catch (err) {
    if (err instanceof NoSuchUserError) return { ...planned, applied: false, outcome: 'The user no longer exists; nothing to delete.' };
    throw err;
  }
  if (exemptionTag && isExempt(tags, exemptionTag)) {
    return { ...planned, applied: false, outcome: 'Re-checked before deleting: the user now carries the exemption tag, so the key is not deleted.' };
  }
  const record = readDeactivationRecords(tags).find((r) => r.accessKeyId.toUpperCase() === accessKeyId.toUpperCase());
  const lastUsedAt = await readLastUsed(ctx, accessKeyId);
  if (lastUsedAt === 'gone') {
    if (record) await untagQuietly(ctx, userName, record.tagKey);
    return { ...planned, applied: false, outcome: alreadyDeleted };
  }
  if (!record) return { ...planned, applied: false, outcome: 'Re-checked before deleting: the deactivation record is gone, so the key is not deleted.' };
  let keys: Awaited<ReturnType<typeof readUserKeys>>;
  try {
    keys = await readUserKeys(ctx, userName);
  } catch (err) {
    if (err instanceof NoSuchUserError) return { ...planned, applied: false, outcome: 'The user no longer exists; nothing to delete.' };
    throw err;
  }
  const key = keys.find((k) => k.accessKeyId === accessKeyId);
  if (!key) {
    await untagQuietly(ctx, userName, record.tagKey);
    return { ...planned, applied: false, outcome: alreadyDeleted };
  }
  const fresh: LiveKey = { ...key, accessKeyId, lastUsedAt };
  const decision = decideDeletion(fresh, record, now, params);
  if (decision.action !== 'delete') {
    return { ...planned, applied: false, outcome: `Re-checked before deleting: ${decision.reason}` };
  }
  try {
    await ctx.caller.call('iam:DeleteAccessKey', () => ctx.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId })));
  } catch (err) {
    if (!isNoSuchEntity(err)) throw err;
    await untagQuietly(ctx, userName, record.tagKey);
    return { ...planned, applied: false, outcome: alreadyDeleted };
  }
  await untagQuietly(ctx, userName, record.tagKey);
  return { ...planned, applied: true };
}

/** Clear a record, after checking it still says what the plan saw (another run may have rewritten it). */
async function clearRecord(ctx: RemediationContext, planned: PlannedAction, now: Date): Promise<RemediationAction> {
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
  const record: DeactivationRecord | undefined = readDeactivationRecords(tags).find((r) => r.accessKeyId.toUpperCase() === accessKeyId.toUpperCase());
  if (!record) return { ...planned, applied: false, outcome: 'The record was already cleared.' };
  const key = keys.find((k) => k.accessKeyId === accessKeyId);
  const seen = planned.deactivatedAt;
  const same = (record.deactivatedAt?.toISOString() ?? null) === seen;
  const stillSo = planned.status === 'Missing' ? key === undefined : key?.status === planned.status;
  if (!same || !stillSo) {
    return { ...planned, applied: false, outcome: 'Re-checked before clearing: the key or its record changed meanwhile; left for the next run.' };
  }
  const changed = await untagQuietly(ctx, userName, record.tagKey);
  if (!changed) return { ...planned, applied: false, outcome: 'The user no longer exists.' };
  // IAM has no conditional untag. If another run recorded a new deactivation and switched the
  // key off between the re-read and the untag, the key is now Inactive with no record, and
  // keyage would never delete it: write a fresh record (restarting its grace period, the safe way).
  return (await rerecordIfDeactivatedMeanwhile(ctx, planned, now)) ?? { ...planned, applied: true };
}

async function rerecordIfDeactivatedMeanwhile(ctx: RemediationContext, planned: PlannedAction, now: Date): Promise<RemediationAction | undefined> {
  const { userName, accessKeyId } = planned;
  try {
    const key = (await readUserKeys(ctx, userName)).find((k) => k.accessKeyId === accessKeyId);
    if (!key || key.status === 'Active') return undefined;
    const recorded = readDeactivationRecords(await readUserTags(ctx, userName)).some((r) => r.accessKeyId.toUpperCase() === accessKeyId.toUpperCase());
    if (recorded) return undefined;
    const tagKey = deactivationTagKey(accessKeyId);
    await ctx.caller.call('iam:TagUser', () => ctx.iam.send(new TagUserCommand({ UserName: userName, Tags: [{ Key: tagKey, Value: now.toISOString() }] })));
    return {
      ...planned,
      applied: true,
      outcome: 'Record cleared, but another run deactivated the key meanwhile: a fresh record was written, restarting its grace period.',
    };
  } catch (err) {
    if (err instanceof NoSuchUserError || isNoSuchEntity(err)) return undefined;
    throw err;
  }
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
    const ids = list.map((a) => a.accessKeyId).join(', ');
    const { will, did, noun } = VERBS[kind];
    parts.push(`${dryRun ? will : did} ${list.length} ${noun}${list.length === 1 ? '' : 's'} (${ids})`);
  }
  const notDone = dryRun ? 0 : actions.filter((a) => a.action !== 'keep' && !a.applied).length;
  if (notDone > 0) parts.push(`${notDone} planned change${notDone === 1 ? '' : 's'} not made (see outcome)`);
  const kept = planned.keep;
  parts.push(`${kept} key${kept === 1 ? '' : 's'} left as ${kept === 1 ? 'it is' : 'they are'}`);
  if (notProcessed > 0) parts.push(`${notProcessed} user${notProcessed === 1 ? '' : 's'} not examined`);
  const text = `${dryRun ? 'DRY RUN, nothing changed: ' : ''}${subject}: ${parts.join('; ')}.`;
  return { planned, applied, text };
}

function logAction(log: Logger, a: RemediationAction): void {
  log.info(a.action === 'keep' ? 'key kept' : a.applied ? `key ${a.action} applied` : `key ${a.action} planned`, {
    accessKeyId: a.accessKeyId,
    slot: a.slot,
    status: a.status,
    ageDays: a.ageDays,
    lastUsed: a.lastUsed,
    deactivatedAt: a.deactivatedAt,
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
