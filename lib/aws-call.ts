/**
 * One place where every AWS call keyage makes is sent, retried and counted.
 *
 * IAM publishes no rate limits and answers "Rate exceeded" when it is pushed; Config throttles
 * PutEvaluations too. The SDK clients are built with `maxAttempts: 1` (see `clients.ts`) and
 * this wrapper does the retrying instead, so that
 *   - throttling and transient failures (5xx, connection resets, timeouts) back off with full
 *     jitter and are retried up to a budget,
 *   - AccessDenied is never retried and becomes an `AwsAccessDeniedError`,
 *   - anything else becomes an `AwsCallError` that keeps the SDK error as `cause`,
 *   - every call and every retry is counted (the benchmark and the logs read the counters),
 *   - tests see the same behaviour under aws-sdk-client-mock, which bypasses SDK middleware.
 */
import { AwsAccessDeniedError, AwsCallError } from './errors';

export interface RetryPolicy {
  /** Attempts per call, the first included. @default 8 */
  maxAttempts: number;
  /** First backoff ceiling in ms; doubles each retry. @default 200 */
  baseDelayMs: number;
  /** Largest backoff ceiling in ms. @default 10_000 */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 10_000 };

export interface CallStats {
  /** Calls made per `service:Operation` (each attempt counts). */
  attempts: Record<string, number>;
  /** Retries after a throttling answer. */
  throttledRetries: number;
  /** Retries after a transient (5xx, network) failure. */
  transientRetries: number;
}

/**
 * Client-side pacing, per service, in the spirit of the SDK's adaptive retry mode: IAM's limits
 * are unpublished, so keyage learns them. Unpaced until the first throttle; then call starts
 * are spaced `initialIntervalMs` apart, the spacing doubles on each further throttle (at most
 * once per interval, so calls throttled together count once) and shrinks by `recoveryFactor`
 * after each success, never below half the initial spacing again.
 */
export interface PacingPolicy {
  /** Spacing of call starts after the first throttle, in ms. @default 100 (10 calls/s) */
  initialIntervalMs: number;
  /** Largest spacing, in ms. @default 2_000 */
  maxIntervalMs: number;
  /** Spacing multiplied by this after each success. @default 0.95 */
  recoveryFactor: number;
}

export const DEFAULT_PACING_POLICY: PacingPolicy = { initialIntervalMs: 100, maxIntervalMs: 2_000, recoveryFactor: 0.95 };

export interface AwsCallerOptions {
  retry?: Partial<RetryPolicy>;
  /** Pace calls per service once a service throttles. Off unless given. */
  pacing?: Partial<PacingPolicy> | boolean;
  /** Clock for pacing, in ms. @default Date.now */
  clock?: () => number;
  /** @default real setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Random number in [0, 1) for jitter. @default Math.random */
  random?: () => number;
  /** Told about each retry (for logs). */
  onRetry?: (info: { operation: string; attempt: number; delayMs: number; reason: 'throttled' | 'transient'; error: string }) => void;
}

export type ErrorKind = 'throttled' | 'transient' | 'access-denied' | 'other';

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'LimitExceededException', // Config: "rate of requests exceeded" for some APIs
]);
const TRANSIENT_CODES = new Set([
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceFailure',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN', // a temporary DNS failure; ENOTFOUND (no such host) is not retried
  'UND_ERR_SOCKET',
]);
const ACCESS_DENIED_CODES = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedAccess']);

/** The error code of an SDK error (or of the SDK error wrapped as `cause`). */
export function awsErrorCode(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { name?: unknown; Code?: unknown; code?: unknown; cause?: unknown };
  if (e instanceof AwsCallError || e instanceof AwsAccessDeniedError) return awsErrorCode(e.cause);
  if (typeof e.Code === 'string') return e.Code;
  if (typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code)) return e.code; // node network errors
  if (typeof e.name === 'string') return e.name;
  return undefined;
}

/** True when the (possibly wrapped) SDK error says the IAM entity does not exist. */
export function isNoSuchEntity(err: unknown): boolean {
  const code = awsErrorCode(err);
  return code === 'NoSuchEntity' || code === 'NoSuchEntityException';
}

/** Sort an error into throttled / transient / access-denied / other. */
export function classifyError(err: unknown): ErrorKind {
  const code = awsErrorCode(err) ?? '';
  const e = (err ?? {}) as { message?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  const status = e.$metadata?.httpStatusCode;
  const message = typeof e.message === 'string' ? e.message : '';
  if (ACCESS_DENIED_CODES.has(code)) return 'access-denied';
  if (THROTTLING_CODES.has(code) || status === 429 || /rate exceeded/i.test(message) || e.$retryable?.throttling) return 'throttled';
  if (TRANSIENT_CODES.has(code) || (status !== undefined && status >= 500) || /socket hang up|ECONNRESET/i.test(message)) return 'transient';
  return 'other';
}

/** The spacing of call starts to one service: see {@link PacingPolicy}. */
export class Pacer {
  /** Current spacing in ms; 0 while the service has not throttled. */
  public intervalMs = 0;
  private floorMs = 0;
  private nextAt = Number.NEGATIVE_INFINITY;
  private lastIncreaseAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly policy: PacingPolicy) {}

  /** Reserve the next start slot at or after `now`; returns how long to wait for it. */
  reserve(now: number): number {
    const start = Math.max(now, this.nextAt);
    this.nextAt = start + this.intervalMs;
    return start - now;
  }

  throttled(now: number): void {
    if (this.intervalMs === 0) {
      this.intervalMs = this.policy.initialIntervalMs;
      this.floorMs = this.policy.initialIntervalMs / 2;
    } else if (now - this.lastIncreaseAt >= this.intervalMs) {
      this.intervalMs = Math.min(this.policy.maxIntervalMs, this.intervalMs * 2);
    } else {
      return;
    }
    this.lastIncreaseAt = now;
  }

  succeeded(): void {
    if (this.intervalMs > 0) this.intervalMs = Math.max(this.floorMs, this.intervalMs * this.policy.recoveryFactor);
  }
}

export function emptyStats(): CallStats {
  return { attempts: {}, throttledRetries: 0, transientRetries: 0 };
}

/** Sends calls through the retry policy and counts them. One per invocation or CLI run. */
export class AwsCaller {
  public readonly stats: CallStats = emptyStats();
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onRetry: AwsCallerOptions['onRetry'];
  private readonly pacing: PacingPolicy | undefined;
  private readonly pacers = new Map<string, Pacer>();
  private readonly clock: () => number;

  constructor(options: AwsCallerOptions = {}) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    if (!Number.isInteger(this.policy.maxAttempts) || this.policy.maxAttempts < 1) {
      throw new RangeError(`retry.maxAttempts must be a whole number ≥ 1, got ${this.policy.maxAttempts}`);
    }
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.onRetry = options.onRetry;
    this.clock = options.clock ?? Date.now;
    this.pacing = options.pacing ? { ...DEFAULT_PACING_POLICY, ...(options.pacing === true ? {} : options.pacing) } : undefined;
  }

  /** The pacer of one service (`iam`, `config`), when pacing is on. */
  pacer(service: string): Pacer | undefined {
    if (!this.pacing) return undefined;
    let pacer = this.pacers.get(service);
    if (!pacer) {
      pacer = new Pacer(this.pacing);
      this.pacers.set(service, pacer);
    }
    return pacer;
  }

  /**
   * Run `fn` (one SDK `send`) under the retry policy.
   * @param operation `service:Operation`, e.g. `iam:ListAccessKeys`; used in counters and errors.
   */
  async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return this.attempt(operation, fn, this.policy.maxAttempts);
  }

  /**
   * One attempt of `fn`, never repeated here: for a call whose repetition is not harmless
   * (DeleteAccessKey), where the caller must re-check the world before it tries again. Paced,
   * counted and named like {@link call}; use {@link retryable} and {@link backoff} to try again.
   */
  async callOnce<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return this.attempt(operation, fn, 1);
  }

  /** `throttled` or `transient` when a failure from {@link call} or {@link callOnce} is worth another try; `undefined` otherwise. */
  retryable(err: unknown): 'throttled' | 'transient' | undefined {
    if (err instanceof AwsAccessDeniedError) return undefined;
    const kind = classifyError(err instanceof AwsCallError ? err.cause : err);
    return kind === 'throttled' || kind === 'transient' ? kind : undefined;
  }

  /** The attempts a caller may make of one call, the first included. */
  get maxAttempts(): number {
    return this.policy.maxAttempts;
  }

  /**
   * Wait as {@link call} waits before attempt `attempt + 1` (jittered exponential backoff),
   * counting the retry and telling `onRetry`.
   */
  async backoff(operation: string, attempt: number, err: unknown): Promise<void> {
    const kind = this.retryable(err) ?? 'transient';
    const ceiling = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1));
    const delayMs = Math.floor(this.random() * ceiling);
    if (kind === 'throttled') this.stats.throttledRetries++;
    else this.stats.transientRetries++;
    this.onRetry?.({ operation, attempt, delayMs, reason: kind, error: awsErrorCode(err) ?? 'unknown' });
    await this.sleep(delayMs);
  }

  private async attempt<T>(operation: string, fn: () => Promise<T>, maxAttempts: number): Promise<T> {
    const pacer = this.pacer(operation.split(':')[0] ?? operation);
    for (let attempt = 1; ; attempt++) {
      if (pacer) {
        const wait = pacer.reserve(this.clock());
        if (wait > 0) await this.sleep(wait);
      }
      this.stats.attempts[operation] = (this.stats.attempts[operation] ?? 0) + 1;
      try {
        const result = await fn();
        pacer?.succeeded();
        return result;
      } catch (err) {
        const kind = classifyError(err);
        if (kind === 'throttled') pacer?.throttled(this.clock());
        if (kind === 'access-denied') throw new AwsAccessDeniedError(operation, { cause: err });
        if (kind === 'other' || attempt >= maxAttempts) {
          throw new AwsCallError(operation, attempt, { cause: err });
        }
        await this.backoff(operation, attempt, err);
      }
    }
  }

  /** Total attempts for one service (`iam`, `config`) or all services. */
  count(service?: string): number {
    return Object.entries(this.stats.attempts)
      .filter(([op]) => service === undefined || op.startsWith(`${service}:`))
      .reduce((sum, [, n]) => sum + n, 0);
  }
}
