/**
 * The benchmark's transport: SDK middleware that sits on a real IAM or Config client, under
 * the SDK's own retry loop, and
 *   - counts every request the client sends (per `service:Operation`), independently of what
 *     the code under test says it sent;
 *   - adds a per-request latency;
 *   - throttles IAM with a token bucket, answering beyond it exactly what IAM answers
 *     (HTTP 400, `<Code>Throttling</Code>`, "Rate exceeded"), so the SDK's retry strategy and
 *     keyage's `AwsCaller` both see a real throttling error;
 *   - models IAM's paging of ListUsers (moto returns every user in one page; IAM returns at
 *     most `MaxItems`, 100 when unset, 1,000 at most);
 *   - records the evaluations that Config accepted.
 *
 * The `moto` model only counts; the `throttled` model is the stand-in for real IAM.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

/** How the transport behaves. Plain data: it is passed to worker processes. */
export interface TransportModel {
  /** `moto` (plain moto_server) or `throttled` (moto behind latency, throttle and paging). */
  readonly name: string;
  /** Added to every request, throttled answers included. */
  readonly latencyMs: number;
  /** IAM requests per second the token bucket refills; 0 = no throttle. */
  readonly iamRps: number;
  /** IAM token bucket size (requests that may go at once after a quiet spell). */
  readonly iamBurst: number;
  /** Config requests per second; 0 = no throttle. */
  readonly configRps: number;
  readonly configBurst: number;
  /** Serve ListUsers in pages as IAM does (`MaxItems`, default 100, at most 1,000). */
  readonly iamPaging: boolean;
}

/** moto as it is: counts only. */
export const MOTO_TRANSPORT: TransportModel = { name: 'moto', latencyMs: 0, iamRps: 0, iamBurst: 0, configRps: 0, configBurst: 0, iamPaging: false };

/** The model of real IAM: 40 ms per call, 10 IAM calls per second, IAM's paging. */
export const THROTTLED_TRANSPORT: TransportModel = { name: 'throttled', latencyMs: 40, iamRps: 10, iamBurst: 10, configRps: 0, configBurst: 0, iamPaging: true };

/** IAM's page size when a list call sets no MaxItems. */
export const IAM_DEFAULT_PAGE = 100;
/** IAM's largest page. */
export const IAM_MAX_PAGE = 1000;

/** What the transport saw for one `service:Operation`. */
export interface OperationCount {
  /** Requests the client sent (every SDK attempt, throttled ones included). */
  attempts: number;
  /** Answered "Rate exceeded" by the token bucket. */
  throttled: number;
  /** Passed on to moto_server. */
  forwarded: number;
  /** ListUsers pages after the first, served by the paging model from the first page's listing. */
  paged: number;
  /** Milliseconds spent waiting for moto_server on forwarded requests (its service time, over loopback HTTP). */
  motoMs: number;
}

/** The transport's own counters. */
export interface TransportCounts {
  readonly operations: Record<string, OperationCount>;
  /** Evaluations in PutEvaluations requests that Config answered with HTTP 200. */
  readonly evaluations: number;
  /** The last verdict Config accepted per resource ID. */
  readonly verdicts: Record<string, string>;
}

/** A token bucket: `rate` tokens a second, at most `capacity` banked; starts full. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(rate > 0) || !(capacity >= 1)) throw new RangeError(`a token bucket needs rate > 0 and capacity ≥ 1 (got ${rate}, ${capacity})`);
    this.tokens = capacity;
    this.last = clock();
  }

  /** Take one token if there is one. */
  take(): boolean {
    const now = this.clock();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

/** The services the transport models. */
export type BenchService = 'iam' | 'config';

/** Clock and sleep, injectable for tests. */
export interface TransportOptions {
  /** Milliseconds clock for the token buckets. @default performance.now */
  clock?: () => number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

interface HttpResponseLike {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
}
type Next = (args: { input: unknown; request?: unknown }) => Promise<{ response?: unknown; output?: unknown }>;
type Middleware = (next: Next, context: Record<string, unknown>) => (args: { input: unknown; request?: unknown }) => Promise<{ response?: unknown; output?: unknown }>;
interface StackClient {
  middlewareStack: { add: (mw: Middleware, options: Record<string, unknown>) => void };
}

const PAGED = 'keyageBenchPaged';
const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

/**
 * One transport for one strategy run: attach it to that run's IAM and Config clients, read
 * `counts()` afterwards. Each transport has its own token buckets, starting full.
 */
export class BenchTransport {
  private readonly operations: Record<string, OperationCount> = {};
  private readonly verdicts: Record<string, string> = {};
  private evaluations = 0;
  private readonly buckets: Partial<Record<BenchService, TokenBucket>> = {};
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly listings = new Map<number, unknown[]>();
  private listingSeq = 0;
  private attached = 0;

  constructor(
    public readonly model: TransportModel,
    options: TransportOptions = {},
  ) {
    const clock = options.clock ?? (() => performance.now());
    if (model.iamRps > 0) this.buckets.iam = new TokenBucket(model.iamRps, Math.max(1, model.iamBurst), clock);
    if (model.configRps > 0) this.buckets.config = new TokenBucket(model.configRps, Math.max(1, model.configBurst), clock);
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Put the transport under `client` (an IAMClient or ConfigServiceClient). */
  attach<C>(client: C, service: BenchService): C {
    const stack = (client as unknown as StackClient).middlewareStack;
    const id = `${++this.attached}${Math.random().toString(36).slice(2, 8)}`;
    // Inside the SDK's retry loop and the deserializer: sees every attempt, answers raw HTTP.
    stack.add(this.wire(service), { step: 'deserialize', priority: 'low', name: `keyageBenchWire${id}` });
    if (service === 'iam' && this.model.iamPaging) {
      // Outside everything: slices the parsed ListUsers answer into IAM-sized pages.
      stack.add(this.paging(), { step: 'initialize', priority: 'high', name: `keyageBenchPaging${id}` });
    }
    return client;
  }

  /** A snapshot of the counters. */
  counts(): TransportCounts {
    return { operations: structuredClone(this.operations), evaluations: this.evaluations, verdicts: { ...this.verdicts } };
  }

  private op(name: string): OperationCount {
    let c = this.operations[name];
    if (!c) {
      c = { attempts: 0, throttled: 0, forwarded: 0, paged: 0, motoMs: 0 };
      this.operations[name] = c;
    }
    return c;
  }

  private wire(service: BenchService): Middleware {
    return (next, context) => async (args) => {
      const operation = `${service}:${operationName(context)}`;
      const count = this.op(operation);
      count.attempts++;
      const bucket = this.buckets[service];
      const allowed = bucket ? bucket.take() : true;
      if (this.model.latencyMs > 0) await this.sleep(this.model.latencyMs);
      if (!allowed) {
        count.throttled++;
        return { response: throttlingResponse(service) };
      }
      if (context[PAGED] === true) {
        count.paged++;
        return { response: emptyListUsersResponse() };
      }
      count.forwarded++;
      const sent = performance.now();
      const out = await next(args);
      count.motoMs += performance.now() - sent;
      if (operation === 'config:PutEvaluations' && (out.response as HttpResponseLike | undefined)?.statusCode === 200) {
        const evaluations = (args.input as { Evaluations?: { ComplianceResourceId?: string; ComplianceType?: string }[] }).Evaluations ?? [];
        this.evaluations += evaluations.length;
        for (const e of evaluations) this.verdicts[e.ComplianceResourceId ?? '?'] = e.ComplianceType ?? '?';
      }
      return out;
    };
  }

  private paging(): Middleware {
    return (next, context) => async (args) => {
      if (operationName(context) !== 'ListUsers') return next(args);
      const input = args.input as { MaxItems?: number; Marker?: string };
      const size = Math.min(IAM_MAX_PAGE, input.MaxItems ?? IAM_DEFAULT_PAGE);
      let listingId: number;
      let offset: number;
      let out: { output?: unknown };
      if (input.Marker === undefined) {
        out = await next(args);
        listingId = ++this.listingSeq;
        this.listings.set(listingId, [...((out.output as { Users?: unknown[] }).Users ?? [])]);
        offset = 0;
      } else {
        const m = /^bench:(\d+):(\d+)$/.exec(input.Marker);
        if (!m || !this.listings.has(Number(m[1]))) throw new Error(`the IAM paging model does not know Marker ${JSON.stringify(input.Marker)}`);
        listingId = Number(m[1]);
        offset = Number(m[2]);
        context[PAGED] = true;
        out = await next(args);
      }
      const users = this.listings.get(listingId) as unknown[];
      const end = offset + size;
      const truncated = end < users.length;
      if (!truncated) this.listings.delete(listingId);
      return {
        ...out,
        output: { ...(out.output as object), Users: users.slice(offset, end), IsTruncated: truncated, Marker: truncated ? `bench:${listingId}:${end}` : undefined },
      };
    };
  }
}

/** `ListUsersCommand` → `ListUsers`. */
function operationName(context: Record<string, unknown>): string {
  const name = typeof context.commandName === 'string' ? context.commandName : 'Unknown';
  return name.endsWith('Command') ? name.slice(0, -'Command'.length) : name;
}

/** What IAM (query protocol) and Config (JSON 1.1) answer when they throttle. */
export function throttlingResponse(service: BenchService): HttpResponseLike {
  const requestId = randomUUID();
  if (service === 'iam') {
    return {
      statusCode: 400,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body: Readable.from([
        Buffer.from(`<ErrorResponse xmlns="${IAM_XMLNS}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`),
      ]),
    };
  }
  return {
    statusCode: 400,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
    body: Readable.from([Buffer.from(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }))]),
  };
}

/** A valid, empty ListUsers answer; the paging middleware fills in the page. */
function emptyListUsersResponse(): HttpResponseLike {
  const requestId = randomUUID();
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: Readable.from([
      Buffer.from(`<ListUsersResponse xmlns="${IAM_XMLNS}"><ListUsersResult><Users/><IsTruncated>false</IsTruncated></ListUsersResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></ListUsersResponse>`),
    ]),
  };
}

/** Sum of one counter over the operations of a service (`iam`, `config`) or all. */
export function total(counts: TransportCounts, field: keyof OperationCount, service?: BenchService): number {
  return Object.entries(counts.operations)
    .filter(([op]) => service === undefined || op.startsWith(`${service}:`))
    .reduce((sum, [, c]) => sum + c[field], 0);
}
