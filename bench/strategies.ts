/**
 * One measured run of one strategy on one transport: build the clients, put the transport
 * under them, run, and report what the strategy says it did next to what the transport saw.
 *
 *   keyage   — the real rule handler (`createHandler`) on a ScheduledNotification: the sweep.
 *   baseline — the naive strategy of `baseline.ts`.
 *   change   — the real rule handler on one ConfigurationItemChangeNotification.
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { createLogger } from '../lib/log';
import { createHandler } from '../rules/access-key-age/handler';
import { fakeContext } from '../test/harness/context';
import { changeEvent, scheduledEvent, userConfigurationItem } from '../test/harness/events';
import { BaselineFailedError, type BaselineResult, runBaseline } from './baseline';
import { type BenchAccount, clientConfig } from './moto';
import { BenchTransport, type OperationCount, total, type TransportModel } from './transport';
import { type RunCost, startMeasuring } from './measure';

/** The strategies a run can measure. */
export const STRATEGIES = ['keyage', 'baseline', 'change'] as const;
/** One of `STRATEGIES`. */
export type StrategyName = (typeof STRATEGIES)[number];

/** Everything a run needs. Plain data: it is sent to a worker process as JSON. */
export interface StrategyJob {
  readonly strategy: StrategyName;
  readonly transport: TransportModel;
  readonly account: BenchAccount;
  /** The decision clock (ISO 8601). */
  readonly now: string;
  readonly maxAccessKeyAgeDays: number;
  /** @default 'TESTMODE' (moto accepts PutEvaluations only in TestMode) */
  readonly resultToken?: string;
  /** The user a `change` run evaluates. */
  readonly changeUser?: { readonly userName: string; readonly userId: string };
}

/** What the code under test reported about its own calls. */
export interface SelfReport {
  readonly iamCalls: number;
  readonly configCalls: number;
  /** Retries after "Rate exceeded" (keyage: AwsCaller's count; baseline: SDK attempts beyond the first). */
  readonly throttledRetries: number;
  readonly evaluations: number;
}

/** One measured run. Plain data: it comes back from a worker process as JSON. */
export interface StrategyRun {
  readonly strategy: StrategyName;
  readonly transport: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly wallMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** Peak resident set size of the process running the strategy, in bytes. */
  readonly peakRssBytes: number;
  /** RSS when the run started (modules loaded, nothing done), in bytes. */
  readonly startRssBytes: number;
  /** `maxRSS` when the run had a process of its own; else the highest of samples taken every 10 ms. */
  readonly rssSource: 'maxRSS' | 'sampled';
  /** Transport totals: every attempt sent, throttled answers and paged ListUsers included. */
  readonly iamCalls: number;
  readonly configCalls: number;
  readonly throttled: number;
  readonly operations: Record<string, OperationCount>;
  /** Evaluations Config accepted (counted at the transport). */
  readonly evaluationsPut: number;
  readonly self: SelfReport;
  /** The strategy's own counters equal the transport's. */
  readonly countersAgree: boolean;
  /** Accepted verdict per user ID. */
  readonly verdicts: Record<string, string>;
}

/** How a run is measured. */
export interface RunOptions {
  /** The run has this process to itself: report `process.resourceUsage().maxRSS`. */
  readonly ownProcess?: boolean;
}

/** Run one job in this process and measure it. */
export async function runStrategy(job: StrategyJob, options: RunOptions = {}): Promise<StrategyRun> {
  const transport = new BenchTransport(job.transport);
  const keyageClients = job.strategy !== 'baseline';
  // keyage builds its clients with maxAttempts 1 (AwsCaller retries); the baseline keeps the SDK default (standard, 3).
  const iam = transport.attach(new IAMClient({ ...clientConfig(job.account), ...(keyageClients ? { maxAttempts: 1 } : {}) }), 'iam');
  const config = transport.attach(new ConfigServiceClient({ ...clientConfig(job.account), ...(keyageClients ? { maxAttempts: 1 } : {}) }), 'config');
  const resultToken = job.resultToken ?? 'TESTMODE';
  const now = new Date(job.now);

  const measuring = startMeasuring(options.ownProcess === true);

  let self: SelfReport;
  let error: string | undefined;
  let cost: RunCost;
  try {
    if (job.strategy === 'baseline') {
      let r: BaselineResult;
      try {
        r = await runBaseline({ iam, config, now, maxAccessKeyAgeDays: job.maxAccessKeyAgeDays, resultToken, orderingTimestamp: new Date() });
      } catch (err) {
        if (!(err instanceof BaselineFailedError)) throw err;
        r = err.partial;
        error = err.message;
      }
      self = { iamCalls: r.iamAttempts, configCalls: r.configAttempts, throttledRetries: r.retries, evaluations: r.evaluations };
    } else {
      const out = await runHandler(job, iam, config, now, resultToken);
      self = out.self;
      error = out.error;
    }
  } finally {
    cost = measuring.stop();
  }
  iam.destroy();
  config.destroy();

  const counts = transport.counts();
  const iamCalls = total(counts, 'attempts', 'iam');
  const configCalls = total(counts, 'attempts', 'config');
  const throttled = total(counts, 'throttled');
  const ok = error === undefined;
  return {
    strategy: job.strategy,
    transport: job.transport.name,
    ok,
    ...(error !== undefined ? { error } : {}),
    wallMs: cost.wallMs,
    cpuUserMs: cost.cpuUserMs,
    cpuSystemMs: cost.cpuSystemMs,
    peakRssBytes: cost.peakRssBytes,
    startRssBytes: cost.startRssBytes,
    rssSource: cost.rssSource,
    iamCalls,
    configCalls,
    throttled,
    operations: counts.operations,
    evaluationsPut: counts.evaluations,
    self,
    countersAgree:
      self.iamCalls === iamCalls && self.configCalls === configCalls && (!ok || (self.throttledRetries === throttled && self.evaluations === counts.evaluations)),
    verdicts: counts.verdicts,
  };
}

/** The real handler, on a scheduled event (`keyage`) or one change event (`change`). */
async function runHandler(
  job: StrategyJob,
  iam: IAMClient,
  config: ConfigServiceClient,
  now: Date,
  resultToken: string,
): Promise<{ self: SelfReport; error?: string }> {
  let throttledRetries = 0;
  let failure: { iamCalls?: number; configCalls?: number } = {};
  // The production logger at its production level; lines are read here instead of printed.
  const log = createLogger({
    level: 'info',
    sink: (line) => {
      if (line.includes('"AWS call retried"')) {
        if ((JSON.parse(line) as { reason?: string }).reason === 'throttled') throttledRetries++;
      } else if (line.includes('"evaluation failed')) {
        failure = JSON.parse(line) as typeof failure;
      }
    },
  });
  const handler = createHandler({
    iam,
    config,
    now: () => now,
    log,
    // moto stamps every credential report 2015-02-02; by the real clock it is never fresh.
    maxReportAgeMs: Number.POSITIVE_INFINITY,
  });
  let event: Record<string, unknown>;
  if (job.strategy === 'change') {
    if (!job.changeUser) throw new Error('a change run needs changeUser');
    const item = userConfigurationItem({ resourceId: job.changeUser.userId, resourceName: job.changeUser.userName, awsAccountId: job.account.accountId });
    event = changeEvent(item, {}, { accountId: job.account.accountId, resultToken });
  } else {
    event = scheduledEvent({}, { accountId: job.account.accountId, resultToken, notificationCreationTime: new Date().toISOString() });
  }
  try {
    const result = await handler(event, fakeContext({ remainingMs: 900_000 }));
    return { self: { iamCalls: result.iamCalls, configCalls: result.configCalls, throttledRetries, evaluations: result.evaluations } };
  } catch (err) {
    return {
      self: { iamCalls: failure.iamCalls ?? Number.NaN, configCalls: failure.configCalls ?? Number.NaN, throttledRetries, evaluations: Number.NaN },
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    };
  }
}
