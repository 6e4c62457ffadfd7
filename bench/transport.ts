/**
 * The benchmark's transport: SDK middleware that sits on a real IAM or Config client, under
 * the SDK's own retry loop, and
 *   - counts every request the client sends (per `service:Operation`), independently of what
 *     the code under test says it sent;
 *   - adds a per-request latency;
 *   - throttles IAM with a token bucket, answering beyond it exactly what IAM answers
 *     (HTTP 400, `<Code>Throttling</Code>`, "Rate exceeded"), so the SDK's retry strategy and
 *     keyage's `AwsCaller` both see a real throttling error;
 *   - models IAM's paging of ListUsers at the wire (moto returns every user in one answer; IAM
 *     returns at most `MaxItems`, 100 when unset, 1,000 at most): moto's raw answer is cut into
 *     IAM-sized pages as text, before the SDK parses anything, so the SDK only ever parses one
 *     page, as it does against IAM;
 *   - records the evaluations that Config accepted.
 *
 * The `moto` model only counts (paging off: moto's one answer reaches the SDK as it is; the
 * benchmark's `--moto-paging on` turns IAM's paging on for the memory runs); the `throttled`
 * model is the stand-in for real IAM.
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
  /**
   * Serve ListUsers in pages as IAM does (`MaxItems`, default 100, at most 1,000), cut from
   * moto's raw answer before the SDK parses it.
   */
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
  /** ListUsers pages after the first, served by the paging model from the raw text it kept of moto's answer, without reaching moto. */
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
  /** ListUsers answers being paged: the raw `<member>…</member>` entries, by listing number. */
  private readonly listings = new Map<number, string[]>();
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
    // Inside the SDK's retry loop and the deserializer: sees every attempt, answers raw HTTP
    // (and pages ListUsers there, so the SDK's parser only ever sees one page).
    stack.add(this.wire(service), { step: 'deserialize', priority: 'low', name: `keyageBenchWire${id}` });
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
      const paging = this.model.iamPaging && operation === 'iam:ListUsers';
      const input = args.input as { MaxItems?: number; Marker?: string };
      if (paging && input.Marker !== undefined) {
        // A later page: served from the kept text; moto is not asked again.
        const page = this.laterPage(input.Marker, pageSize(input.MaxItems));
        count.paged++;
        return { response: listUsersResponse(page.members, page.marker, randomUUID()) };
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
      if (paging) return { ...out, response: await this.firstPage(out.response as HttpResponseLike | undefined, pageSize(input.MaxItems)) };
      return out;
    };
  }

  /**
   * The first page of a listing, from moto's raw answer: an error answer goes on untouched; a
   * 200 answer is split into its `<member>` entries as text, the first `size` go to the SDK,
   * the rest are kept for the Marker handed out with them.
   */
  private async firstPage(response: HttpResponseLike | undefined, size: number): Promise<HttpResponseLike | undefined> {
    if (!response || response.statusCode !== 200) return response;
    const { members, truncated } = splitListUsers(await bodyText(response.body));
    if (truncated) throw new Error('moto answered ListUsers with IsTruncated true; the IAM paging model expects every user in one answer');
    let marker: string | undefined;
    if (members.length > size) {
      const listingId = ++this.listingSeq;
      this.listings.set(listingId, members);
      marker = `bench:${listingId}:${size}`;
    }
    const requestId = response.headers['x-amzn-requestid'] ?? randomUUID();
    return { ...listUsersResponse(members.slice(0, size), marker, requestId), headers: { ...withoutLength(response.headers), 'x-amzn-requestid': requestId } };
  }

  /** A page after the first, from the listing the Marker names; the listing is dropped after its last page. */
  private laterPage(marker: string, size: number): { members: string[]; marker: string | undefined } {
    const m = /^bench:(\d+):(\d+)$/.exec(marker);
    const members = m ? this.listings.get(Number(m[1])) : undefined;
    const offset = m ? Number(m[2]) : NaN;
    if (!m || !members || offset >= members.length) throw new Error(`the IAM paging model does not know Marker ${JSON.stringify(marker)}`);
    const end = offset + size;
    if (end >= members.length) {
      this.listings.delete(Number(m[1]));
      return { members: members.slice(offset), marker: undefined };
    }
    return { members: members.slice(offset, end), marker: `bench:${m[1]}:${end}` };
  }
}

/** IAM's page size for a request's `MaxItems`: 100 when unset, at most 1,000. */
export function pageSize(maxItems: number | undefined): number {
  return Math.min(IAM_MAX_PAGE, maxItems ?? IAM_DEFAULT_PAGE);
}

const USERS_OPEN = '<Users>';
const USERS_CLOSE = '</Users>';
const USERS_EMPTY = '<Users/>';
const MEMBER_OPEN = '<member>';
const MEMBER_CLOSE = '</member>';

/**
 * The `<member>…</member>` entries of a ListUsers answer (its XML text), in order, each as the
 * raw text it came as, and whether the answer says IsTruncated. Plain string scanning with
 * `indexOf`, no XML parse: an entry ends at the `</member>` that closes it (nested `<member>`s,
 * as in tags, stay inside it).
 * @throws Error when the answer has no `<Users>` element, or one that is not closed or holds
 *   anything but `<member>` entries.
 */
export function splitListUsers(xml: string): { members: string[]; truncated: boolean } {
  const truncated = xml.includes('<IsTruncated>true</IsTruncated>');
  if (xml.includes(USERS_EMPTY) && !xml.includes(USERS_OPEN)) return { members: [], truncated };
  const open = xml.indexOf(USERS_OPEN);
  const close = xml.lastIndexOf(USERS_CLOSE);
  if (open === -1 || close < open) throw new Error('moto’s ListUsers answer has no <Users>…</Users> element');
  const members: string[] = [];
  let at = open + USERS_OPEN.length;
  for (;;) {
    at = skipSpace(xml, at);
    if (at === close) break;
    if (!xml.startsWith(MEMBER_OPEN, at)) throw new Error(`moto’s ListUsers answer holds something other than <member> in <Users>, at character ${at}`);
    const end = memberEnd(xml, at);
    members.push(xml.slice(at, end));
    at = end;
  }
  return { members, truncated };
}

/** Where the `<member>` entry starting at `start` ends (just past its own `</member>`). */
function memberEnd(xml: string, start: number): number {
  let depth = 1;
  let at = start + MEMBER_OPEN.length;
  while (depth > 0) {
    const nextClose = xml.indexOf(MEMBER_CLOSE, at);
    if (nextClose === -1) throw new Error(`moto’s ListUsers answer has a <member> at character ${start} that is never closed`);
    const nextOpen = xml.indexOf(MEMBER_OPEN, at);
    if (nextOpen !== -1 && nextOpen < nextClose) {
      depth++;
      at = nextOpen + MEMBER_OPEN.length;
    } else {
      depth--;
      at = nextClose + MEMBER_CLOSE.length;
    }
  }
  return at;
}

function skipSpace(xml: string, at: number): number {
  while (at < xml.length && /\s/.test(xml[at] as string)) at++;
  return at;
}

/** A ListUsers answer as IAM writes it: Users, IsTruncated, and Marker when truncated. */
function listUsersResponse(members: readonly string[], marker: string | undefined, requestId: string): HttpResponseLike {
  const users = members.length ? `<Users>${members.join('')}</Users>` : '<Users/>';
  const more = marker === undefined ? '<IsTruncated>false</IsTruncated>' : `<IsTruncated>true</IsTruncated><Marker>${marker}</Marker>`;
  const body = Buffer.from(
    `<ListUsersResponse xmlns="${IAM_XMLNS}"><ListUsersResult>${users}${more}</ListUsersResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></ListUsersResponse>`,
  );
  return { statusCode: 200, headers: { 'content-type': 'text/xml', 'content-length': String(body.length), 'x-amzn-requestid': requestId }, body: Readable.from([body]) };
}

function withoutLength(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'content-length') out[k] = v;
  return out;
}

/** An HTTP answer's body as text: Node's answer is a stream of Buffers. */
async function bodyText(body: unknown): Promise<string> {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
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

/** Sum of one counter over the operations of a service (`iam`, `config`) or all. */
export function total(counts: TransportCounts, field: keyof OperationCount, service?: BenchService): number {
  return Object.entries(counts.operations)
    .filter(([op]) => service === undefined || op.startsWith(`${service}:`))
    .reduce((sum, [, c]) => sum + c[field], 0);
}
