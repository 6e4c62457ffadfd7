/**
 * `keyage audit` without a file: the audit of the account the AWS credentials reach, with
 * read-only IAM calls only — iam:GetAccountAuthorizationDetails (users with their tags, 1,000
 * a page), iam:ListAccessKeys and iam:GetAccessKeyLastUsed. Every call goes through the
 * `AwsCaller` (retries, backoff on "Rate exceeded"); every list is paged to the end.
 *
 * The verdicts come from the rule's policy; the planned actions come from the runbooks' own
 * plan functions (`remediation/plan.ts`) on the same live facts the runbooks read — keys with
 * their IDs and last use, and the user's tags (exemption, keyage's deactivation records) — so
 * the audit shows what runbook 1 would deactivate and what runbook 2 would delete. Root keys
 * are not visible this way: audit a credential report for them.
 */
import { GetAccessKeyLastUsedCommand } from '@aws-sdk/client-iam';
import { isNoSuchEntity } from '../lib/aws-call';
import { messageOf, NoSuchUserError, UnexpectedResponseError } from '../lib/errors';
import { type IamReader, listAllUsersWithTags, readUserKeys } from '../rules/access-key-age/iam';
import { formatExemptionTag, isExempt } from '../rules/access-key-age/parameters';
import type { AccessKey } from '../rules/access-key-age/policy';
import { assessRecords, type Failure } from '../remediation/core';
import { type LiveKey, type PlannedAction as RunbookAction, planDeactivation, planDeletion, type UserFacts } from '../remediation/plan';
import type { RecordSigner } from '../remediation/records';
import {
  accountOf,
  AUDIT_SCHEMA_VERSION,
  type AuditReport,
  type AuditUser,
  auditUser,
  type DecisionParameters,
  deletedUser,
  type KeyUsage,
  type PlannedAction,
  summarize,
} from './audit-report';
import { mapWithConcurrency } from './pool';

export { LIVE_AUDIT_ACTIONS } from './permissions';

/** How to audit the live account. */
export interface LiveAuditOptions {
  /** The decision clock. */
  readonly now: Date;
  readonly params: DecisionParameters;
  /** Runbook 2's grace period, for the delete plan. */
  readonly graceDays: number;
  readonly region: string;
  readonly profile: string | null;
  /** Verifies deactivation records, so that runbook 2's plan is exact; without one no deletion is planned. */
  readonly signer?: RecordSigner;
  /** Where the parameters came from, for the report. */
  readonly parameterSources?: { readonly maxAccessKeyAgeDays: string; readonly exemptionTag: string; readonly graceDays: string };
  /** Users read at once. @default 8 */
  readonly concurrency?: number;
  /** Called after each user is read. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Audit every IAM user of the account, live. */
export async function auditAccount(reader: IamReader, options: LiveAuditOptions): Promise<AuditReport> {
  const exemption = options.params.exemptionTag;
  const listed = await listAllUsersWithTags(reader);
  let done = 0;
  const users = await mapWithConcurrency(listed, options.concurrency ?? 8, async (user): Promise<AuditUser> => {
    let entry: AuditUser;
    try {
      const keys = await readLiveKeys(reader, user.userName);
      const live = keys.map((k) => k.key);
      const tags = user.tags ?? [];
      const failures: Failure[] = [];
      const records = await assessRecords(options.signer ? { signer: options.signer } : {}, user, { keys: live, tags }, options.now, failures);
      for (const f of failures) reader.log.warn('a deactivation record could not be verified; no deletion is planned for its key', { userName: user.userName, accessKeyId: f.accessKeyId, error: f.error });
      const facts: UserFacts = { userName: user.userName, keys: live, tags, records, ...(exemption ? { exemptionTag: exemption } : {}) };
      entry = auditUser(
        {
          userName: user.userName,
          userId: user.userId,
          arn: user.arn,
          createdAt: user.createdAt,
          keys: facts.keys,
          usage: new Map(keys.map((k) => [k.key.slot, k.usage])),
          exempt: isExempt(user.tags, exemption),
          plan: runbookPlan(facts, options),
        },
        options.now,
        options.params,
      );
    } catch (err) {
      if (!(err instanceof NoSuchUserError)) throw err;
      reader.log.warn('user deleted during the audit', { userName: user.userName, userId: user.userId });
      entry = deletedUser(user.userName, user.userId, user.arn);
    }
    options.onProgress?.(++done, listed.length);
    return entry;
  });
  let account: ReturnType<typeof accountOf>;
  try {
    account = accountOf(listed);
  } catch (err) {
    throw new UnexpectedResponseError('iam:GetAccountAuthorizationDetails', `user ARNs keyage cannot read (${messageOf(err)})`);
  }
  const { accountId, partition } = account;
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    command: 'audit',
    now: options.now.toISOString(),
    parameters: {
      maxAccessKeyAgeDays: options.params.maxAccessKeyAgeDays,
      exemptionTag: exemption ? formatExemptionTag(exemption) : null,
      graceDays: options.graceDays,
      ...(options.parameterSources ? { sources: options.parameterSources, recordKey: options.signer?.keyId ?? null } : {}),
    },
    source: { kind: 'live', region: options.region, profile: options.profile },
    accountId,
    partition,
    region: options.region,
    summary: summarize(users, null),
    root: null,
    users,
  };
}

/**
 * Both runbooks' plans for one user, merged per key: runbook 1's `deactivate` first, then
 * runbook 2's `delete` or `clear-record`; otherwise nothing, with the most telling reason
 * (runbook 2's for an inactive key keyage deactivated, runbook 1's for the rest).
 */
function runbookPlan(facts: UserFacts, options: LiveAuditOptions): Map<1 | 2, { action: PlannedAction; reason: string }> {
  // An audit only reads: the runbooks' reasons are given in the conditional ("keyage would deactivate it").
  const first = bySlot(planDeactivation(facts, options.now, { maxAccessKeyAgeDays: options.params.maxAccessKeyAgeDays, voice: 'conditional' }));
  const second = bySlot(planDeletion(facts, options.now, { graceDays: options.graceDays, voice: 'conditional' }));
  const plan = new Map<1 | 2, { action: PlannedAction; reason: string }>();
  for (const key of facts.keys) {
    const d = first.get(key.slot);
    const e = second.get(key.slot);
    if (d?.action === 'deactivate') plan.set(key.slot, { action: 'deactivate', reason: d.reason });
    else if (e && (e.action === 'delete' || e.action === 'clear-record')) plan.set(key.slot, { action: e.action, reason: e.reason });
    else if (e && key.status !== 'Active' && e.deactivatedAt !== null) plan.set(key.slot, { action: 'none', reason: e.reason });
    else if (d) plan.set(key.slot, { action: 'none', reason: d.reason });
  }
  return plan;
}

function bySlot(actions: readonly RunbookAction[]): Map<1 | 2, RunbookAction> {
  const map = new Map<1 | 2, RunbookAction>();
  for (const a of actions) if (a.slot !== null) map.set(a.slot, a);
  return map;
}

/** A user's keys with their last use. A key deleted while being read is left out. */
async function readLiveKeys(reader: IamReader, userName: string): Promise<{ key: LiveKey; usage: KeyUsage }[]> {
  const keys = await readUserKeys(reader, userName);
  const read = await mapWithConcurrency(keys, 2, (k) => readLastUse(reader, userName, k));
  return read.filter((r): r is { key: LiveKey; usage: KeyUsage } => r !== undefined);
}

/**
 * A key with its last use (GetAccessKeyLastUsed). A key never used has no LastUsedDate and
 * ServiceName "N/A"; a key deleted since it was listed is `undefined`.
 */
async function readLastUse(reader: IamReader, userName: string, key: AccessKey): Promise<{ key: LiveKey; usage: KeyUsage } | undefined> {
  const id = key.accessKeyId as string;
  try {
    const out = await reader.caller.call('iam:GetAccessKeyLastUsed', () => reader.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id })));
    const last = out.AccessKeyLastUsed;
    const known = (v: string | undefined) => (v && v !== 'N/A' ? v : undefined);
    const service = known(last?.ServiceName);
    const region = known(last?.Region);
    return {
      key: { ...key, accessKeyId: id, lastUsedAt: last?.LastUsedDate ? new Date(last.LastUsedDate) : null },
      usage: { ...(service ? { lastUsedService: service } : {}), ...(region ? { lastUsedRegion: region } : {}) },
    };
  } catch (err) {
    if (isNoSuchEntity(err)) {
      reader.log.info('key deleted during the audit; left out', { userName, accessKeyId: id });
      return undefined;
    }
    throw err;
  }
}
