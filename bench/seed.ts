/**
 * The benchmark's population: N IAM users in a moto account, a share of them NON_COMPLIANT.
 *
 * moto stamps a key's CreateDate with the time it was created and cannot backdate it, so the
 * decision clock moves forward instead, and the two kinds of key are created a few seconds
 * apart:
 *   1. every user is created;
 *   2. the "old" cohort: one active key for each non-compliant user;
 *   3. a pause of `cohortGapMs` (2 s), then the "young" cohort: the keys of compliant users,
 *      and a second, newer key for every fourth non-compliant user (a rotation left half done);
 *   4. `now` = the newest old key + 91 days. Every old key is then 91 days old (stale) and
 *      every young key 90 days old (compliant: the limit is inclusive) — by the ages IAM and
 *      the credential report both give, the report's being rounded down to the second.
 * So every compliant user with a key holds an active key, as in a real account, and the
 * credential report shows it; 1 in 10 compliant users has no key, 1 in 5 has two.
 */
import { CreateAccessKeyCommand, CreateUserCommand, GenerateCredentialReportCommand, IAMClient } from '@aws-sdk/client-iam';
import { DAY_MS } from '../rules/access-key-age/policy';
import { type BenchAccount, clientConfig } from './moto';

/** The population to seed. */
export interface SeedOptions {
  readonly users: number;
  /** Share of users that are NON_COMPLIANT, 0–1. */
  readonly nonCompliantShare: number;
  /** Requests in flight while seeding. @default 8 */
  readonly concurrency?: number;
  /** @default 2000 */
  readonly cohortGapMs?: number;
  /** @default 'bench-user-' */
  readonly prefix?: string;
}

/** The verdict a seeded user must get. */
export type ExpectedCompliance = 'COMPLIANT' | 'NON_COMPLIANT';

/** One seeded user and the verdict it must get. */
export interface SeededUser {
  readonly userName: string;
  readonly userId: string;
  readonly expected: ExpectedCompliance;
  readonly keys: number;
}

/** A seeded account: its users, the decision clock that makes the old keys stale, and the cost of seeding. */
export interface Population {
  readonly account: BenchAccount;
  readonly users: readonly SeededUser[];
  readonly nonCompliant: number;
  /** The decision clock for every strategy (ISO 8601). */
  readonly now: string;
  /** MaxAccessKeyAge the population was built for. */
  readonly maxAccessKeyAgeDays: number;
  readonly seedMs: number;
  /** IAM calls made to seed (users, keys, one GenerateCredentialReport). */
  readonly seedCalls: number;
}

/** How many keys user `i` gets, and in which cohort; deterministic, spread evenly. */
export function plan(index: number, users: number, share: number): { expected: ExpectedCompliance; oldKeys: number; youngKeys: number } {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`the non-compliant share must be between 0 and 1, got ${share}`);
  const count = Math.round(users * share);
  // integer arithmetic: exactly `count` users, evenly spread
  const nonCompliant = Math.floor(((index + 1) * count) / users) > Math.floor((index * count) / users);
  if (nonCompliant) {
    const rank = Math.floor((index * count) / users); // 0, 1, 2 … among non-compliant users
    return { expected: 'NON_COMPLIANT', oldKeys: 1, youngKeys: rank % 4 === 3 ? 1 : 0 };
  }
  if (index % 10 === 9) return { expected: 'COMPLIANT', oldKeys: 0, youngKeys: 0 };
  return { expected: 'COMPLIANT', oldKeys: 0, youngKeys: index % 5 === 2 ? 2 : 1 };
}

/** Seed a population into `account`. */
export async function seedPopulation(account: BenchAccount, options: SeedOptions): Promise<Population> {
  const started = performance.now();
  const concurrency = options.concurrency ?? 8;
  const prefix = options.prefix ?? 'bench-user-';
  const width = String(options.users).length;
  const iam = new IAMClient({ ...clientConfig(account), maxAttempts: 3 });
  let calls = 0;
  try {
    const plans = Array.from({ length: options.users }, (_, i) => ({ i, userName: `${prefix}${String(i + 1).padStart(width, '0')}`, ...plan(i, options.users, options.nonCompliantShare) }));
    const ids = new Map<string, string>();
    await forEachLimit(plans, concurrency, async (p) => {
      calls++;
      const out = await iam.send(new CreateUserCommand({ UserName: p.userName }));
      if (!out.User?.UserId) throw new Error(`CreateUser ${p.userName} returned no UserId`);
      ids.set(p.userName, out.User.UserId);
    });

    const createKey = async (userName: string): Promise<number> => {
      calls++;
      const out = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      const created = out.AccessKey?.CreateDate;
      if (!created) throw new Error(`CreateAccessKey for ${userName} returned no CreateDate`);
      return new Date(created).getTime();
    };
    let newestOld = 0;
    await forEachLimit(plans.filter((p) => p.oldKeys > 0), concurrency, async (p) => {
      const created = await createKey(p.userName); // read the max only after the await: workers interleave
      newestOld = Math.max(newestOld, created);
    });
    const gap = options.cohortGapMs ?? 2000;
    if (newestOld > 0) await new Promise((r) => setTimeout(r, Math.max(0, newestOld + gap - Date.now())));
    let oldestYoung = Number.POSITIVE_INFINITY;
    await forEachLimit(plans.filter((p) => p.youngKeys > 0), concurrency, async (p) => {
      for (let k = 0; k < p.youngKeys; k++) {
        const created = await createKey(p.userName);
        oldestYoung = Math.min(oldestYoung, created);
      }
    });

    const limit = 90;
    const anchor = newestOld > 0 ? newestOld : Date.now() - gap;
    const now = anchor + (limit + 1) * DAY_MS;
    // Young keys must stay under the limit even by the report's second-rounded dates.
    const youngestReportDate = Math.floor(oldestYoung / 1000) * 1000;
    if (Number.isFinite(oldestYoung) && !(now < youngestReportDate + (limit + 1) * DAY_MS)) {
      throw new Error(`the key cohorts are too close (${oldestYoung - newestOld} ms apart); raise cohortGapMs`);
    }
    // A report exists from the start, as after any run in the last 4 hours (see BENCHMARKS.md).
    calls++;
    await iam.send(new GenerateCredentialReportCommand({}));

    const users = plans.map((p) => ({ userName: p.userName, userId: ids.get(p.userName) as string, expected: p.expected, keys: p.oldKeys + p.youngKeys }));
    return {
      account,
      users,
      nonCompliant: users.filter((u) => u.expected === 'NON_COMPLIANT').length,
      now: new Date(now).toISOString(),
      maxAccessKeyAgeDays: limit,
      seedMs: performance.now() - started,
      seedCalls: calls,
    };
  } finally {
    iam.destroy();
  }
}

/** Run `fn` over `items` with at most `limit` in flight; the first failure rejects. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
