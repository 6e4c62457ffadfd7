/**
 * The periodic sweep: a verdict for every IAM user of the account, in far fewer IAM calls
 * than one per user.
 *
 *   1. Page ListUsers to the end (GetAccountAuthorizationDetails when an exemption tag is set,
 *      which returns users with their tags, 1,000 a page).
 *   2. Get a fresh credential report (one CSV for the account). A user whose report row shows
 *      no key — active or not — older than the limit is COMPLIANT on the report alone: any
 *      key created since the report is younger still, and a key re-activated since was young.
 *   3. Every other user is read live with ListAccessKeys: users with an over-limit key in the
 *      report (to confirm with key IDs and live status), users the report does not know (new
 *      since, or re-created under the same name), and everyone when no fresh report can be had.
 *
 * The verdicts all come from the pure policy. Nothing here turns an error into a verdict: a
 * failed IAM call fails the sweep, a user deleted mid-sweep is reported as such.
 */
import { KeyageError, messageOf, NoSuchUserError } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import { type CredentialReportRow, reportRowKeys } from './credential-report';
import { type IamReader, type IamUser, listAllUsers, listAllUsersWithTags, readCredentialReport, readUserKeys } from './iam';
import { formatExemptionTag, isExempt, type RuleParameters } from './parameters';
import { type AccessKey, evaluateAccessKeys, type Verdict } from './policy';

export type UserCompliance = 'COMPLIANT' | 'NON_COMPLIANT' | 'NOT_APPLICABLE';

/** How a user's verdict was reached. */
export type VerdictSource = 'credential-report' | 'iam' | 'exempt' | 'deleted';

export interface UserEvaluation {
  readonly userName: string;
  readonly userId: string;
  readonly arn: string;
  readonly compliance: UserCompliance;
  readonly annotation: string;
  /** The policy's verdict; absent for exempt and deleted users. */
  readonly verdict?: Verdict;
  readonly source: VerdictSource;
}

export interface SweepOptions {
  /** The decision clock: ages are counted to this instant. */
  readonly now: Date;
  /** The real clock, for the credential report's freshness. @default () => new Date() */
  readonly wallClock?: () => Date;
  /** Use the credential report at all. @default true */
  readonly useCredentialReport?: boolean;
  /** A report older than this (by the wall clock) is not used. @default 4 hours */
  readonly maxReportAgeMs?: number;
  /** Live ListAccessKeys calls in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Milliseconds left before the caller must stop (the Lambda context's clock). */
  readonly remainingMs?: () => number;
  /** Stop starting new IAM reads when fewer than this many ms remain. @default 30_000 */
  readonly safetyMarginMs?: number;
  /** Waits between polls for the credential report. @default real setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called after each user is decided (progress indicators). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SweepResult {
  /** One entry per user decided, in ListUsers order. */
  readonly users: readonly UserEvaluation[];
  /** Every user ID ListUsers returned (decided or not, deleted during the sweep or not). */
  readonly allUserIds: ReadonlySet<string>;
  readonly report: { readonly used: boolean; readonly reason?: string; readonly generatedAt?: Date };
  /** Users read live with ListAccessKeys. */
  readonly readLive: number;
  /** Users not decided because time ran out (empty when the sweep finished). */
  readonly notEvaluated: readonly IamUser[];
}

/** Sweep every IAM user of the account. */
export async function sweepAccount(reader: IamReader, params: RuleParameters, options: SweepOptions): Promise<SweepResult> {
  const log = reader.log;
  const now = options.now;
  const users = params.exemptionTag ? await listAllUsersWithTags(reader) : await listAllUsers(reader);
  const allUserIds = new Set(users.map((u) => u.userId));
  const decided = new Map<string, UserEvaluation>();
  let done = 0;
  const record = (e: UserEvaluation) => {
    decided.set(e.userId, e);
    done++;
    log.debug('user evaluated', {
      userName: e.userName,
      userId: e.userId,
      compliance: e.compliance,
      source: e.source,
      staleKeys: e.verdict?.staleKeys.map((k) => ({ accessKeyId: k.key.accessKeyId, slot: k.key.slot, ageDays: k.ageDays })) ?? [],
    });
    options.onProgress?.(done, users.length);
  };

  const candidates: IamUser[] = [];
  for (const user of users) {
    if (params.exemptionTag && isExempt(user.tags, params.exemptionTag)) {
      record({ ...identity(user), compliance: 'NOT_APPLICABLE', annotation: exemptAnnotation(params), source: 'exempt' });
    } else {
      candidates.push(user);
    }
  }

  let reportInfo: SweepResult['report'] = { used: false, reason: 'disabled' };
  const live: IamUser[] = [];
  if (options.useCredentialReport !== false && candidates.length > 0) {
    const got = await readCredentialReport(reader, {
      wallClock: options.wallClock ?? (() => new Date()),
      ...(options.maxReportAgeMs !== undefined ? { maxReportAgeMs: options.maxReportAgeMs } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    if (got.kind === 'report') {
      reportInfo = { used: true, generatedAt: got.generatedAt };
      const rows = new Map(got.report.users.map((r) => [r.arn, r]));
      if (got.report.root?.keys.some((k) => k.active)) {
        log.warn('the root user has active access keys (CIS 1.4 says it should have none); keyage does not evaluate root', {
          rootActiveKeys: got.report.root.keys.filter((k) => k.active).map((k) => k.slot),
        });
      }
      for (const user of candidates) {
        const row = rows.get(user.arn);
        if (!row || !sameUser(row, user)) {
          live.push(user);
          continue;
        }
        const keys = reportRowKeys(row);
        const verdict = evaluateAccessKeys(keys, now, params);
        if (verdict.keys.some((k) => k.overLimit)) live.push(user); // confirm with key IDs and live status
        else record({ ...identity(user), compliance: verdict.compliance, annotation: verdict.annotation, verdict, source: 'credential-report' });
      }
    } else {
      reportInfo = { used: false, reason: got.reason };
      log.warn('credential report not used; reading every user live', { reason: got.reason });
      live.push(...candidates);
    }
  } else {
    live.push(...candidates);
  }

  const { notStarted: notEvaluated, failure } = await readLive(live, options, async (user) => {
    let keys: AccessKey[];
    try {
      keys = await readUserKeys(reader, user.userName);
    } catch (err) {
      if (err instanceof NoSuchUserError) {
        // It keeps its place in allUserIds: it has its evaluation here, so cleanup must not add another.
        record({ ...identity(user), compliance: 'NOT_APPLICABLE', annotation: `User ${user.userName} was deleted during the evaluation.`, source: 'deleted' });
        return;
      }
      throw err;
    }
    const verdict = evaluateAccessKeys(keys, now, params);
    record({ ...identity(user), compliance: verdict.compliance, annotation: verdict.annotation, verdict, source: 'iam' });
  }, log);

  const result: SweepResult = {
    users: users.filter((u) => decided.has(u.userId)).map((u) => decided.get(u.userId) as UserEvaluation),
    allUserIds,
    report: reportInfo,
    readLive: live.length - notEvaluated.length,
    notEvaluated: failure === undefined ? notEvaluated : users.filter((u) => !decided.has(u.userId)),
  };
  if (failure !== undefined) throw new SweepIncompleteError(result, failure);
  return result;
}

/**
 * An IAM read failed for good part-way through the sweep. `partial` holds the users decided
 * before the failure (their verdicts are sound and may be put); the others have no verdict.
 */
export class SweepIncompleteError extends KeyageError {
  constructor(
    public readonly partial: SweepResult,
    cause: unknown,
  ) {
    super(
      cause instanceof KeyageError ? cause.code : 'SweepIncomplete',
      `The sweep stopped after ${partial.users.length} user(s): ${messageOf(cause)}; ${partial.notEvaluated.length} user(s) were not evaluated.`,
      { cause },
    );
  }
}

/** The annotation of a user exempted by tag. */
export function exemptAnnotation(params: RuleParameters): string {
  return params.exemptionTag ? `Exempt: the user carries the exemption tag ${formatExemptionTag(params.exemptionTag)}.` : 'Exempt.';
}

/**
 * Run `work` for each user with bounded concurrency, stopping (without starting more) when
 * the time left falls under the safety margin. The first failure stops the pool; it is
 * returned once the reads in flight have settled, with the users not started.
 */
async function readLive(
  users: readonly IamUser[],
  options: SweepOptions,
  work: (u: IamUser) => Promise<void>,
  log: Logger,
): Promise<{ notStarted: IamUser[]; failure: unknown }> {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const margin = options.safetyMarginMs ?? 30_000;
  let next = 0;
  let failure: unknown;
  let stopped = false;
  const worker = async () => {
    while (failure === undefined && !stopped && next < users.length) {
      if (options.remainingMs && options.remainingMs() < margin) {
        if (!stopped) log.warn('stopping the sweep before the Lambda timeout', { remainingMs: options.remainingMs(), notStarted: users.length - next });
        stopped = true;
        return;
      }
      const user = users[next++] as IamUser;
      try {
        await work(user);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, users.length) }, worker));
  return { notStarted: users.slice(next), failure };
}

function identity(user: IamUser): Pick<UserEvaluation, 'userName' | 'userId' | 'arn'> {
  return { userName: user.userName, userId: user.userId, arn: user.arn };
}

/**
 * The report row is this user, not an earlier user of the same name: the report has no user
 * IDs, so compare creation times (the report has second precision).
 */
function sameUser(row: CredentialReportRow, user: IamUser): boolean {
  return row.userCreationTime !== undefined && Math.abs(row.userCreationTime.getTime() - user.createdAt.getTime()) < 2000;
}
