/**
 * The benchmark matrix: for each population size and non-compliant share, seed one moto
 * account, then run every strategy on every transport against it (the sweep and the baseline
 * only read IAM, and moto keeps nothing of TestMode evaluations, so the account is reused),
 * and check every run's verdicts against the seeded population.
 */
import { newBenchAccount } from './moto';
import { type Population, seedPopulation } from './seed';
import { runStrategy, type StrategyJob, type StrategyName, type StrategyRun } from './strategies';
import type { TransportModel } from './transport';
import { runInWorker } from './worker';

/** Called around every run. */
export interface BenchmarkHooks {
  /** Called just before a run starts (the test snapshots moto's request counts here). */
  beforeRun?(label: RunLabel): void | Promise<void>;
  afterRun?(label: RunLabel, run: StrategyRun): void | Promise<void>;
}

/** Which run: population, transport, strategy. */
export interface RunLabel {
  readonly users: number;
  readonly nonCompliantShare: number;
  readonly transport: string;
  readonly strategy: StrategyName;
}

/** The matrix to run and where. */
export interface BenchmarkOptions {
  /** A running moto_server. */
  readonly endpoint: string;
  readonly users: readonly number[];
  readonly nonCompliantShares: readonly number[];
  readonly transports: readonly TransportModel[];
  /** Sweep strategies to compare; `change` is added by `change`. */
  readonly strategies: readonly Exclude<StrategyName, 'change'>[];
  /** Also time one change-triggered evaluation per transport. @default true */
  readonly change?: boolean;
  /** @default 8 */
  readonly seedConcurrency?: number;
  /** Run each strategy in its own process executing this file (the bundled benchmark); in this process when absent. */
  readonly workerEntry?: string;
  /** Arguments for node in each worker process (heap limits). */
  readonly workerNodeArgs?: readonly string[];
  readonly progress?: (line: string) => void;
  readonly hooks?: BenchmarkHooks;
}

/** One run as reported: the measurements, and how its verdicts compare with the population. */
export type ReportedRun = Omit<StrategyRun, 'verdicts'> & {
  /** Users whose accepted verdict differs from the seeded one (or who got none). */
  readonly verdictMismatches: number;
  readonly verdictMismatchExamples: readonly string[];
};

/** One population: how it was seeded, and every run against it. */
export interface ScenarioResult {
  readonly users: number;
  readonly nonCompliantShare: number;
  readonly nonCompliant: number;
  readonly accountId: string;
  readonly now: string;
  readonly seedMs: number;
  readonly seedCalls: number;
  readonly runs: readonly ReportedRun[];
}

/** Run the whole matrix. */
export async function runBenchmark(options: BenchmarkOptions): Promise<ScenarioResult[]> {
  const say = options.progress ?? (() => undefined);
  const scenarios: ScenarioResult[] = [];
  for (const users of options.users) {
    for (const share of options.nonCompliantShares) {
      say(`seeding ${users} users, ${share * 100}% non-compliant …`);
      const account = await newBenchAccount(options.endpoint);
      const population = await seedPopulation(account, { users, nonCompliantShare: share, ...(options.seedConcurrency ? { concurrency: options.seedConcurrency } : {}) });
      say(`  seeded in ${(population.seedMs / 1000).toFixed(1)} s (${population.seedCalls} IAM calls)`);
      const runs: ReportedRun[] = [];
      for (const transport of options.transports) {
        const strategies: StrategyName[] = [...options.strategies, ...(options.change !== false ? (['change'] as const) : [])];
        for (const strategy of strategies) {
          const label: RunLabel = { users, nonCompliantShare: share, transport: transport.name, strategy };
          const job = jobFor(strategy, transport, population);
          await options.hooks?.beforeRun?.(label);
          const run = options.workerEntry ? await runInWorker(options.workerEntry, job, options.workerNodeArgs) : await runStrategy(job);
          await options.hooks?.afterRun?.(label, run);
          const reported = withVerdictCheck(run, population, strategy === 'change' ? job.changeUser?.userId : undefined);
          say(
            `  ${transport.name.padEnd(9)} ${strategy.padEnd(8)} ${run.ok ? 'ok' : `FAILED (${run.error})`}: ${(run.wallMs / 1000).toFixed(2)} s, IAM ${run.iamCalls}, Config ${run.configCalls}, throttled ${run.throttled}, verdict mismatches ${reported.verdictMismatches}`,
          );
          runs.push(reported);
        }
      }
      scenarios.push({
        users,
        nonCompliantShare: share,
        nonCompliant: population.nonCompliant,
        accountId: account.accountId,
        now: population.now,
        seedMs: population.seedMs,
        seedCalls: population.seedCalls,
        runs,
      });
    }
  }
  return scenarios;
}

function jobFor(strategy: StrategyName, transport: TransportModel, population: Population): StrategyJob {
  const base = { strategy, transport, account: population.account, now: population.now, maxAccessKeyAgeDays: population.maxAccessKeyAgeDays };
  if (strategy !== 'change') return base;
  // A non-compliant user if there is one: the case that matters, and the one remediation follows.
  const user = population.users.find((u) => u.expected === 'NON_COMPLIANT') ?? population.users[0];
  if (!user) throw new Error('a change run needs at least one user');
  return { ...base, changeUser: { userName: user.userName, userId: user.userId } };
}

/** Compare the verdicts Config accepted with the seeded ones (all users, or the one a change run evaluated). */
export function withVerdictCheck(run: StrategyRun, population: Population, onlyUserId?: string): ReportedRun {
  const { verdicts, ...rest } = run;
  const expected = onlyUserId ? population.users.filter((u) => u.userId === onlyUserId) : population.users;
  const wrong: string[] = [];
  for (const u of expected) {
    const got = verdicts[u.userId];
    if (got !== u.expected) wrong.push(`${u.userName}: expected ${u.expected}, got ${got ?? 'no verdict'}`);
  }
  const known = new Set(expected.map((u) => u.userId));
  for (const id of Object.keys(verdicts)) if (!known.has(id)) wrong.push(`${id}: a verdict for a user that was not seeded`);
  return { ...rest, verdictMismatches: wrong.length, verdictMismatchExamples: wrong.slice(0, 5) };
}
