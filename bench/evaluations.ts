/**
 * `npm run bench -- evaluations` — the AWS Config evaluations the daily sweep records in an
 * account-month, putting every verdict ("put all", `EvaluationRefreshDays: 0`) or only what
 * changed ("put changed", the default refresh window), and the dollars that is at list price:
 *
 *   npm run bench -- evaluations --users 100,1000,5000 --change-rate 0.001 --days 60
 *
 * For each population, the real rule handler (`createHandler`) sweeps the same account once a
 * simulated day, twice: once into a Config store with `EvaluationRefreshDays: 0`, once into a
 * store with the refresh window. The account is in memory (test/harness/fake-iam.ts), so keys
 * can be of any age and a day can pass; the stores (test/harness/config-store.ts) record what
 * PutEvaluations sends and page it back through GetComplianceDetailsByConfigRule, as Config does,
 * counting every evaluation recorded — what AWS Config bills. moto_server records no evaluation
 * outside TestMode, so it cannot measure this.
 *
 * Each day, `--change-rate` of the users change verdict (0.1% by default): by turns a compliant
 * user's key crosses the limit that day (a key ages: no IAM change at all), and a non-compliant
 * user rotates the stale key. After every sweep the two stores are compared user by user with
 * each other and with the policy's verdict for the account; a difference fails the benchmark.
 *
 * Month 1 is days 1-30 (the first sweep records every user: the rule holds nothing yet); month 2,
 * days 31-60, is the steady state.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { InvalidParameterError, KeyageError } from '../lib/errors';
import { createLogger } from '../lib/log';
import { createHandler } from '../rules/access-key-age/handler';
import { DEFAULT_EVALUATION_REFRESH_DAYS, MAX_EVALUATION_REFRESH_DAYS } from '../rules/access-key-age/parameters';
import { DAY_MS, evaluateAccessKeys } from '../rules/access-key-age/policy';
import { ConfigEvaluationStore } from '../test/harness/config-store';
import { RULE_NAME, scheduledEvent } from '../test/harness/events';
import { FakeIamAccount } from '../test/harness/fake-iam';
import { table } from './report';

/** The first argument that selects this benchmark. */
export { EVALUATIONS_COMMAND } from './commands';

/** AWS Config's list price for rule evaluations recorded, per account and Region and month (public Regions). */
export const RULE_EVALUATION_PRICE_TIERS: readonly { readonly upTo: number; readonly usd: number }[] = [
  { upTo: 100_000, usd: 0.001 },
  { upTo: 500_000, usd: 0.0008 },
  { upTo: Number.POSITIVE_INFINITY, usd: 0.0005 },
];

/** The list price of `evaluations` recorded in one month, tier by tier. */
export function listPriceUsd(evaluations: number): number {
  let usd = 0;
  let from = 0;
  for (const tier of RULE_EVALUATION_PRICE_TIERS) {
    const n = Math.max(0, Math.min(evaluations, tier.upTo) - from);
    usd += n * tier.usd;
    from = tier.upTo;
    if (evaluations <= from) break;
  }
  return usd;
}

export interface EvaluationsBenchOptions {
  readonly users: readonly number[];
  /** Share of the users whose verdict changes each day. */
  readonly changeRate: number;
  readonly days: number;
  readonly refreshDays: number;
  /** Share of users NON_COMPLIANT on day 1. */
  readonly nonCompliantShare: number;
  /** Share of users carrying the exemption tag (NOT_APPLICABLE). */
  readonly exemptShare: number;
  readonly out?: string;
}

export const EVALUATIONS_USAGE = `usage: npm run bench -- evaluations [options]
  --users LIST            users per account, e.g. 100,1000,5000 (default 100,1000,5000; 1-5000)
  --change-rate SHARE     share of users whose verdict changes each day, e.g. 0.001 or 0.1% (default 0.001)
  --days N                simulated days, one sweep a day (default 60: month 1 and the steady month 2; 1-90)
  --refresh-days N        "put changed": the rule's EvaluationRefreshDays (default ${DEFAULT_EVALUATION_REFRESH_DAYS}; 1-${MAX_EVALUATION_REFRESH_DAYS})
  --noncompliant SHARE    share of users NON_COMPLIANT on day 1 (default 0.01)
  --exempt SHARE          share of users carrying the exemption tag, NOT_APPLICABLE (default 0.01)
  --out FILE              JSON output (default bench/results/evaluations-<time>.json)`;

function share(name: string, raw: string): number {
  const pct = raw.trim().endsWith('%');
  const n = Number(pct ? raw.trim().slice(0, -1) : raw) / (pct ? 100 : 1);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidParameterError(name, raw, 'a share from 0 to 1 (0.001) or a percentage (0.1%)');
  return n;
}

function int(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max) throw new InvalidParameterError(name, raw, `a whole number from ${min} to ${max}`);
  return n;
}

/** Parse the evaluations benchmark's command line. @throws InvalidParameterError naming the option. */
export function parseEvaluationsCli(argv: readonly string[]): EvaluationsBenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        users: { type: 'string', default: '100,1000,5000' },
        'change-rate': { type: 'string', default: '0.001' },
        days: { type: 'string', default: '60' },
        'refresh-days': { type: 'string', default: String(DEFAULT_EVALUATION_REFRESH_DAYS) },
        noncompliant: { type: 'string', default: '0.01' },
        exempt: { type: 'string', default: '0.01' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).replace(/^\w*Error \[[A-Z_]+\]: /, '');
    throw new KeyageError('InvalidParameterValue', `${message} (see npm run bench -- evaluations --help)`);
  }
  if (values.help) return 'help';
  const users = values.users
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => int('--users', s, 1, 5000));
  if (users.length === 0) throw new InvalidParameterError('--users', values.users, 'at least one number of users');
  return {
    users,
    changeRate: share('--change-rate', values['change-rate']),
    days: int('--days', values.days, 1, 90),
    refreshDays: int('--refresh-days', values['refresh-days'], 1, MAX_EVALUATION_REFRESH_DAYS),
    nonCompliantShare: share('--noncompliant', values.noncompliant),
    exemptShare: share('--exempt', values.exempt),
    ...(values.out ? { out: values.out } : {}),
  };
}

/** What one strategy did over one stretch of days. */
export interface StrategyTotals {
  /** Evaluations recorded (billed). */
  readonly recorded: number;
  readonly putCalls: number;
  /** GetComplianceDetailsByConfigRule calls. */
  readonly readCalls: number;
}

export interface MonthResult {
  readonly month: number;
  readonly days: readonly [number, number];
  readonly putAll: StrategyTotals;
  readonly putChanged: StrategyTotals;
  /** The read the sweep made before this change: cleanup only, COMPLIANT and NON_COMPLIANT results. */
  readonly cleanupOnlyReadCalls: number;
  readonly verdictChanges: number;
}

export interface EvaluationsScenario {
  readonly users: number;
  readonly changeRate: number;
  readonly refreshDays: number;
  readonly nonCompliantAtStart: number;
  readonly exempt: number;
  readonly months: readonly MonthResult[];
  /** Evaluations recorded each day (index 0 = day 1). */
  readonly daily: { readonly putAll: readonly number[]; readonly putChanged: readonly number[]; readonly verdictChanges: readonly number[] };
  /** Sweeps after which both stores held the policy's verdict and the same annotation for every user. */
  readonly sweepsIdentical: number;
  readonly sweeps: number;
  readonly wallMs: number;
}

const START = new Date('2027-01-01T06:00:00.000Z');
const EXEMPT_TAG = 'keyage-exempt';
const dayAt = (d: number) => new Date(START.getTime() + d * DAY_MS);

type Change = { readonly day: number; readonly kind: 'cross' } | { readonly day: number; readonly kind: 'rotate' };

/** Run one population through `days` daily sweeps with both strategies. */
export async function runEvaluationsScenario(users: number, opts: Omit<EvaluationsBenchOptions, 'users' | 'out'>, say: (line: string) => void = () => undefined): Promise<EvaluationsScenario> {
  const started = Date.now();
  const clock = { now: START };
  const iam = new FakeIamAccount(() => clock.now);
  const iamClient = new IAMClient({ region: 'us-east-1' });
  iam.attach(iamClient);
  const stores = { putAll: new ConfigEvaluationStore(RULE_NAME, () => clock.now), putChanged: new ConfigEvaluationStore(RULE_NAME, () => clock.now) };
  const clients = { putAll: new ConfigServiceClient({ region: 'us-east-1' }), putChanged: new ConfigServiceClient({ region: 'us-east-1' }) };
  stores.putAll.attach(clients.putAll);
  stores.putChanged.attach(clients.putChanged);
  try {
    // The changes of every day: floor(rate × users × day) of them by the end of each day, cross and rotate by turns.
    const changes: Change[] = [];
    for (let d = 1; d <= opts.days; d++) {
      const n = Math.floor(opts.changeRate * users * d + 1e-9) - Math.floor(opts.changeRate * users * (d - 1) + 1e-9);
      for (let i = 0; i < n; i++) changes.push({ day: d, kind: changes.length % 2 === 0 ? 'cross' : 'rotate' });
    }
    // The population: stale users, users whose key crosses on a planned day, keyless users, and young keys that stay young.
    const stale = Math.round(users * opts.nonCompliantShare);
    const exempt = Math.round(users * opts.exemptShare);
    const crossing = changes.filter((c) => c.kind === 'cross');
    if (stale + exempt + crossing.length > users) {
      throw new InvalidParameterError('--change-rate', String(opts.changeRate), `a rate that changes at most ${users - stale - exempt} of ${users} users over ${opts.days} days`);
    }
    const staleNames: string[] = [];
    const crossDay = new Map<number, string[]>();
    for (let i = 0; i < users; i++) {
      const name = `user${String(i).padStart(4, '0')}`;
      const exemptUser = i >= users - exempt;
      iam.createUser(name, { createdAt: new Date(START.getTime() - 400 * DAY_MS), ...(exemptUser ? { tags: [{ Key: EXEMPT_TAG, Value: 'true' }] } : {}) });
      if (exemptUser) {
        iam.createKey(name, new Date(START.getTime() - 300 * DAY_MS)); // a stale key, exempted
      } else if (i < stale) {
        iam.createKey(name, new Date(START.getTime() - 200 * DAY_MS));
        staleNames.push(name);
      } else if (i < stale + crossing.length) {
        const day = (crossing[i - stale] as Change).day;
        // over the limit from this day's sweep on: 91 days and a minute old at it, 90 the day before
        iam.createKey(name, new Date(dayAt(day).getTime() - 91 * DAY_MS - 60_000));
        crossDay.set(day, [...(crossDay.get(day) ?? []), name]);
      } else if (i % 3 === 0) {
        // keyless
      } else {
        // young, and still within the limit on the last day
        iam.createKey(name, new Date(START.getTime() - ((i * 7919) % Math.max(1, 90 - opts.days)) * DAY_MS - 3_600_000));
      }
    }
    const nonCompliant = [...staleNames];
    const handler = (config: ConfigServiceClient) =>
      createHandler({ iam: iamClient, config, now: () => clock.now, wallClock: () => clock.now, sleep: async () => undefined, pacing: false, log: createLogger({ level: 'error', sink: () => undefined }) });
    const params = (refreshDays: number) => ({ MaxAccessKeyAge: '90', EvaluationRefreshDays: String(refreshDays), ...(exempt > 0 ? { ExemptionTag: EXEMPT_TAG } : {}) });

    const daily: { putAll: StrategyTotals; putChanged: StrategyTotals; cleanupOnlyReadCalls: number; verdictChanges: number }[] = [];
    let sweepsIdentical = 0;
    for (let d = 1; d <= opts.days; d++) {
      clock.now = new Date(dayAt(d).getTime() - 3_600_000);
      // the day's rotations, an hour before the sweep (the crossings need no action: the keys age)
      let verdictChanges = crossDay.get(d)?.length ?? 0;
      nonCompliant.push(...(crossDay.get(d) ?? []));
      for (const c of changes.filter((x) => x.day === d && x.kind === 'rotate')) {
        const name = nonCompliant.shift();
        if (!name) continue;
        const old = iam.user(name).keys[0];
        iam.createKey(name, clock.now);
        if (old) iam.deleteKey(name, old.accessKeyId);
        verdictChanges++;
        void c;
      }
      clock.now = dayAt(d);
      const cleanupOnly = stores.putAll.countByCompliance();
      const cleanupOnlyReadCalls = Math.max(1, Math.ceil(((cleanupOnly.COMPLIANT ?? 0) + (cleanupOnly.NON_COMPLIANT ?? 0)) / 100));
      const before = { putAll: { ...counters(stores.putAll) }, putChanged: { ...counters(stores.putChanged) } };
      const event = (refreshDays: number) => scheduledEvent(params(refreshDays), { resultToken: 'bench-token', notificationCreationTime: clock.now.toISOString() });
      await handler(clients.putAll)(event(0));
      await handler(clients.putChanged)(event(opts.refreshDays));
      const diff = (k: 'putAll' | 'putChanged') => ({
        recorded: stores[k].recorded - before[k].recorded,
        putCalls: stores[k].putCalls - before[k].putCalls,
        readCalls: stores[k].readCalls - before[k].readCalls,
      });
      daily.push({ putAll: diff('putAll'), putChanged: diff('putChanged'), cleanupOnlyReadCalls, verdictChanges });
      const wrong = compare(iam, stores.putAll, stores.putChanged, clock.now);
      if (wrong.length > 0) throw new KeyageError('BenchmarkFailed', `day ${d}, ${users} users: the stores differ from each other or from the policy for ${wrong.length} user(s), e.g. ${wrong.slice(0, 3).join('; ')}`);
      sweepsIdentical++;
      iam.forgetCalls();
      stores.putAll.forgetCalls();
      stores.putChanged.forgetCalls();
    }
    const months: MonthResult[] = [];
    for (let m = 0; m * 30 < opts.days; m++) {
      const slice = daily.slice(m * 30, Math.min(opts.days, (m + 1) * 30));
      const sum = (k: 'putAll' | 'putChanged'): StrategyTotals => ({
        recorded: slice.reduce((n, x) => n + x[k].recorded, 0),
        putCalls: slice.reduce((n, x) => n + x[k].putCalls, 0),
        readCalls: slice.reduce((n, x) => n + x[k].readCalls, 0),
      });
      months.push({
        month: m + 1,
        days: [m * 30 + 1, m * 30 + slice.length],
        putAll: sum('putAll'),
        putChanged: sum('putChanged'),
        cleanupOnlyReadCalls: slice.reduce((n, x) => n + x.cleanupOnlyReadCalls, 0),
        verdictChanges: slice.reduce((n, x) => n + x.verdictChanges, 0),
      });
    }
    const result: EvaluationsScenario = { users, changeRate: opts.changeRate, refreshDays: opts.refreshDays, nonCompliantAtStart: stale, exempt, months, daily: { putAll: daily.map((x) => x.putAll.recorded), putChanged: daily.map((x) => x.putChanged.recorded), verdictChanges: daily.map((x) => x.verdictChanges) }, sweepsIdentical, sweeps: opts.days, wallMs: Date.now() - started };
    say(`  ${users} users: ${months.map((m) => `month ${m.month} put all ${m.putAll.recorded}, put changed ${m.putChanged.recorded}`).join('; ')} (${(result.wallMs / 1000).toFixed(1)} s)`);
    return result;
  } finally {
    iam.detach();
    stores.putAll.detach();
    stores.putChanged.detach();
  }
}

function counters(s: ConfigEvaluationStore): StrategyTotals {
  return { recorded: s.recorded, putCalls: s.putCalls, readCalls: s.readCalls };
}

/** Users whose two records differ, or whose verdict is not the policy's. */
function compare(iam: FakeIamAccount, a: ConfigEvaluationStore, b: ConfigEvaluationStore, now: Date): string[] {
  const wrong: string[] = [];
  const sa = a.snapshot();
  const sb = b.snapshot();
  for (const u of iam.users.values()) {
    const keys = [...u.keys].sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime()).map((k, i) => ({ ...k, slot: (i + 1) as 1 | 2 }));
    const expected = u.tags.some((t) => t.Key === EXEMPT_TAG) ? 'NOT_APPLICABLE' : evaluateAccessKeys(keys, now, { maxAccessKeyAgeDays: 90 }).compliance;
    const ea = sa.get(u.userId);
    const eb = sb.get(u.userId);
    if (ea?.compliance !== expected || eb?.compliance !== expected || ea?.annotation !== eb?.annotation) {
      wrong.push(`${u.userName}: expected ${expected}, put all ${ea?.compliance}, put changed ${eb?.compliance}`);
    }
  }
  if (sa.size !== sb.size) wrong.push(`the stores hold ${sa.size} and ${sb.size} evaluations`);
  return wrong;
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const ratio = (a: number, b: number) => (b === 0 ? '—' : `${(a / b).toFixed(1)}×`);

/** The table of every scenario and month. */
export function formatEvaluations(scenarios: readonly EvaluationsScenario[]): string {
  const rows: string[][] = [];
  for (const s of scenarios) {
    for (const m of s.months) {
      rows.push([
        s.users.toLocaleString('en-US'),
        `${m.month} (days ${m.days[0]}-${m.days[1]})`,
        String(m.verdictChanges),
        m.putAll.recorded.toLocaleString('en-US'),
        usd(listPriceUsd(m.putAll.recorded)),
        m.putChanged.recorded.toLocaleString('en-US'),
        usd(listPriceUsd(m.putChanged.recorded)),
        ratio(m.putAll.recorded, m.putChanged.recorded),
        String(m.putAll.putCalls),
        String(m.putChanged.putCalls),
        String(m.cleanupOnlyReadCalls),
        String(m.putChanged.readCalls),
        String(m.putChanged.readCalls - m.cleanupOnlyReadCalls),
        s.sweepsIdentical === s.sweeps ? 'yes' : 'NO',
      ]);
    }
  }
  return table(
    ['users', 'month', 'verdict changes', 'put all: recorded', 'list price', 'put changed: recorded', 'list price', 'fewer', 'PutEvaluations calls: all', 'changed', 'reads: cleanup only', 'reads now', 'extra reads', 'identical'],
    rows,
    2,
  );
}

export interface EvaluationsBenchJson {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Record<string, unknown>;
  readonly argv: readonly string[];
  readonly options: EvaluationsBenchOptions;
  readonly priceTiers: typeof RULE_EVALUATION_PRICE_TIERS;
  readonly scenarios: readonly EvaluationsScenario[];
}

export async function evaluationsMain(argv: readonly string[], machine: () => Record<string, unknown>): Promise<void> {
  const opts = parseEvaluationsCli(argv);
  if (opts === 'help') {
    process.stdout.write(`${EVALUATIONS_USAGE}\n`);
    return;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const startedAt = new Date();
  const host = machine();
  say(`simulating ${opts.days} daily sweeps, ${opts.changeRate * 100}% of users changing verdict a day, refresh window ${opts.refreshDays} days …`);
  const scenarios: EvaluationsScenario[] = [];
  for (const users of opts.users) scenarios.push(await runEvaluationsScenario(users, opts, say));
  const json: EvaluationsBenchJson = { startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine: host, argv, options: opts, priceTiers: RULE_EVALUATION_PRICE_TIERS, scenarios };
  const out = opts.out ?? join(process.cwd(), 'bench', 'results', `evaluations-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`\n${formatEvaluations(scenarios)}\n\nJSON written to ${out}\n`);
}
