/**
 * Fault injection for real SDK v3 clients: a middleware added to a client's stack that makes
 * chosen calls fail the way AWS fails, at seeded rates, per service and per operation.
 *
 * Faults it injects:
 *   - `throttle`          — the answer IAM gives when pushed: HTTP 400, code `Throttling`,
 *                           message "Rate exceeded" (Config: `ThrottlingException`);
 *   - `server-error`      — HTTP 500, code `InternalFailure`;
 *   - `connection-reset`  — the socket dies: an `Error` with `code: 'ECONNRESET'`,
 *                           message "socket hang up", as Node's HTTP client raises it;
 *   - `slow`              — the answer comes late (the call still succeeds).
 *
 * Throttles and 500s are built as raw HTTP responses (XML for IAM's query protocol, JSON for
 * Config) and handed to the client's own deserializer, so the error the code under test sees
 * is the one the SDK would build from a real AWS answer.
 *
 * Timing matters for writes. A fault `before` the request leaves the service untouched (the
 * call had no effect); a fault `after` lets the request reach the service and take effect,
 * then loses the answer — the caller sees a failure for a call that worked, and must cope
 * when it tries again (UpdateAccessKey, DeleteAccessKey, TagUser must be idempotent).
 *
 * Decisions are seeded and do not depend on scheduling: whether a call is hit depends on the
 * seed, the operation, its input and how many times that same call was made before. So a
 * sweep with four reads in flight meets the same faults on every run.
 */

/** The kinds of fault the injector can produce. */
export type FaultKind = 'throttle' | 'server-error' | 'connection-reset' | 'slow';

/** `before`: the request never reaches the service. `after`: it took effect; the answer is lost. */
export type FaultTiming = 'before' | 'after';

export const FAULT_KINDS: readonly FaultKind[] = ['throttle', 'server-error', 'connection-reset', 'slow'];

/** One call as the injector sees it. */
export interface InterceptedCall {
  /** `iam`, `config`, … */
  readonly service: string;
  /** The operation without the `Command` suffix: `ListAccessKeys`. */
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
  /** 1 for the first time this exact call (operation and input) is made, 2 for the next, … */
  readonly occurrence: number;
  /** 1 for the first call the injector sees, 2 for the next, … (every attempt counts). */
  readonly sequence: number;
}

/** Which calls a rule applies to and what it does to them. */
export interface FaultRule {
  /** Services the rule applies to. @default every service */
  readonly service?: string | readonly string[];
  /** Operations (no `Command` suffix), or a pattern. @default every operation */
  readonly operation?: string | readonly string[] | RegExp;
  /** A further filter on the call (e.g. one user name). */
  readonly match?: (call: InterceptedCall) => boolean;
  /** Probability in [0, 1] that a matching call is hit. @default 1 */
  readonly rate?: number;
  /** Relative weights of the kinds of fault. @default { throttle: 1 } (none when `action` is set) */
  readonly kinds?: Partial<Record<FaultKind, number>>;
  /** When the fault strikes; `mixed` draws `before` or `after` evenly. @default 'before' */
  readonly timing?: FaultTiming | 'mixed';
  /** Stop after this many hits. @default unlimited */
  readonly times?: number;
  /** Never hit the same call (operation and input) more than this many times in a row. @default unlimited */
  readonly maxConsecutive?: number;
  /** Delay range of a `slow` answer, in ms. @default [5, 25] */
  readonly slowMs?: readonly [number, number];
  /**
   * Something that happens to the world at the moment of the call (a person changing a key
   * between a read and a write): run before the request is forwarded (`timing: 'before'`) or
   * after the service answered and before the caller sees the answer (`'after'`).
   */
  readonly action?: (call: InterceptedCall) => Promise<void> | void;
}

export interface FaultInjectorOptions {
  /** Seed of every random decision. */
  readonly seed: number;
  readonly rules?: readonly FaultRule[];
  /** How a slow answer waits. @default a real timer */
  readonly delay?: (ms: number) => Promise<void>;
}

/** One fault injected (or action run). */
export interface InjectedFault {
  readonly service: string;
  readonly operation: string;
  readonly kind: FaultKind | 'action';
  readonly timing: FaultTiming;
  readonly occurrence: number;
  readonly input: Readonly<Record<string, unknown>>;
}

/** How a call ended, as the caller saw it. */
export type CallOutcome = 'ok' | 'error' | 'fault-before' | 'fault-after';

/** One call that went through the injector. */
export interface CallRecord extends InterceptedCall {
  readonly outcome: CallOutcome;
  /** The request reached the service (and, for a write, took effect). */
  readonly reachedService: boolean;
}

export interface FaultStats {
  /** Calls seen (every attempt counts). */
  calls: number;
  /** Calls the service received. */
  reachedService: number;
  /** Faults per kind. */
  byKind: Record<FaultKind, number>;
  /** Failing faults (not `slow`) per timing. */
  byTiming: Record<FaultTiming, number>;
  /** Faults per `service:Operation` and kind. */
  byOperation: Record<string, Partial<Record<FaultKind, number>>>;
  /** Actions run. */
  actions: number;
  /** Real or virtual ms spent in slow answers. */
  slowMs: number;
}

/** A tiny seeded PRNG (mulberry32): uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** 32-bit FNV-1a hash of a string. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A raw HTTP response, the shape the SDK's deserializers read. */
interface RawResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Services that speak the AWS query protocol (XML errors); the others here speak JSON. */
const QUERY_PROTOCOL = new Set(['iam', 'sts']);

/**
 * The raw HTTP answer AWS gives for a throttled or failed call, in the service's protocol.
 * The client's deserializer turns it into the SDK error (name, message, `$metadata`).
 */
export function faultResponse(service: string, kind: 'throttle' | 'server-error', requestId: string): RawResponse {
  const status = kind === 'throttle' ? 400 : 500;
  const code = kind === 'throttle' ? (QUERY_PROTOCOL.has(service) ? 'Throttling' : 'ThrottlingException') : 'InternalFailure';
  const message = kind === 'throttle' ? 'Rate exceeded' : 'An internal error occurred. Try again.';
  if (QUERY_PROTOCOL.has(service)) {
    const xml =
      `<ErrorResponse xmlns="https://${service}.amazonaws.com/doc/2010-05-08/">` +
      `<Error><Type>${kind === 'throttle' ? 'Sender' : 'Receiver'}</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`;
    return { statusCode: status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: Buffer.from(xml) };
  }
  const json = JSON.stringify({ __type: code, message });
  return {
    statusCode: status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'x-amzn-errortype': code },
    body: Buffer.from(json),
  };
}

/** The error Node's HTTP client raises when the connection is reset. */
export function connectionResetError(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

interface MiddlewareStackClient {
  middlewareStack: {
    add: (middleware: unknown, options: { step: 'deserialize'; priority: 'low'; name: string }) => void;
    remove: (name: string) => boolean;
  };
}

type Next = (args: { input: Record<string, unknown> }) => Promise<{ response?: unknown; output?: unknown }>;
type Context = { commandName?: string; clientName?: string };

/**
 * Adds seeded faults to real SDK clients and counts what it did. One injector can serve
 * several clients (IAM and Config); rules can be added or cleared between phases of a test.
 */
export class FaultInjector {
  public readonly stats: FaultStats = emptyFaultStats();
  /** Every fault injected and action run, in order. */
  public readonly injected: InjectedFault[] = [];
  /** Every call seen, with how it ended. */
  public readonly calls: CallRecord[] = [];
  private rules: FaultRule[];
  private readonly hits = new Map<FaultRule, number>();
  private readonly occurrences = new Map<string, number>();
  private readonly consecutive = new Map<string, number>();
  private readonly seed: number;
  private readonly delay: (ms: number) => Promise<void>;
  private enabled = true;

  constructor(options: FaultInjectorOptions) {
    this.seed = options.seed >>> 0;
    this.rules = [...(options.rules ?? [])];
    this.delay = options.delay ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    for (const r of this.rules) checkRule(r);
  }

  /**
   * Add the fault middleware to a client.
   * @param service the service name rules refer to; @default derived from the client (`IAMClient` → `iam`)
   * @returns a function that removes the middleware again
   */
  attach(client: unknown, service?: string): () => void {
    const stack = (client as MiddlewareStackClient).middlewareStack;
    const name = `keyageFaultInjector${attachCounter++}`;
    const middleware = (next: Next, context: Context) => async (args: { input: Record<string, unknown> }) =>
      this.handle(next, context, args, service ?? serviceOf(context.clientName));
    // In the deserialize step at low priority: inside the client's deserializer, next to the
    // HTTP handler, so a forged HTTP answer is deserialized like a real one.
    stack.add(middleware, { step: 'deserialize', priority: 'low', name });
    return () => void stack.remove(name);
  }

  /** Add a rule (it takes precedence after the existing ones). */
  addRule(rule: FaultRule): this {
    checkRule(rule);
    this.rules.push(rule);
    return this;
  }

  /** Drop every rule; calls pass through untouched from now on (they are still counted). */
  clearRules(): this {
    this.rules = [];
    return this;
  }

  /** Turn injection off or on without dropping the rules. */
  setEnabled(enabled: boolean): this {
    this.enabled = enabled;
    return this;
  }

  /** Faults injected for `service:Operation` (or all), per kind. */
  count(kind?: FaultKind | 'action', operation?: string): number {
    return this.injected.filter((f) => (kind === undefined || f.kind === kind) && (operation === undefined || `${f.service}:${f.operation}` === operation || f.operation === operation)).length;
  }

  private async handle(next: Next, context: Context, args: { input: Record<string, unknown> }, service: string) {
    const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
    const input = (args.input ?? {}) as Record<string, unknown>;
    const identity = `${service}:${operation}:${stableJson(input)}`;
    const occurrence = (this.occurrences.get(identity) ?? 0) + 1;
    this.occurrences.set(identity, occurrence);
    this.stats.calls++;
    const call: InterceptedCall = { service, operation, input, occurrence, sequence: this.stats.calls };

    const decision = this.enabled ? this.decide(call, identity) : undefined;
    const record = (outcome: CallOutcome, reachedService: boolean) => {
      if (reachedService) this.stats.reachedService++;
      this.calls.push({ ...call, outcome, reachedService });
    };
    const forward = async () => {
      try {
        const out = await next(args);
        record('ok', true);
        return out;
      } catch (err) {
        // A real error from the service (NoSuchEntity, …) or the deserializer: it got there.
        record('error', !isNetworkError(err));
        throw err;
      }
    };

    if (!decision) return forward();
    const { rule, kind, timing } = decision;
    const note = (k: FaultKind | 'action', t: FaultTiming) => {
      this.injected.push({ service, operation, kind: k, timing: t, occurrence, input });
      if (k === 'action') {
        this.stats.actions++;
        return;
      }
      this.stats.byKind[k]++;
      if (k !== 'slow') this.stats.byTiming[t]++;
      const op = (this.stats.byOperation[`${service}:${operation}`] ??= {});
      op[k] = (op[k] ?? 0) + 1;
    };

    if (kind === undefined) {
      // An action only: the world changes at this moment; the call itself is untouched.
      if (timing === 'before') {
        note('action', timing);
        await rule.action?.(call);
        return forward();
      }
      const out = await forward();
      note('action', timing);
      await rule.action?.(call);
      return out;
    }

    if (rule.action && timing === 'before') await rule.action(call);
    if (kind === 'slow') {
      const [lo, hi] = rule.slowMs ?? [5, 25];
      const ms = Math.round(lo + this.draw(`${identity}#${occurrence}#slow`) * (hi - lo));
      note('slow', timing);
      this.stats.slowMs += ms;
      await this.delay(ms);
      return forward();
    }

    let reached = false;
    if (timing === 'after') {
      // The request reaches the service and takes effect; its answer is read and thrown away.
      const out = await next(args).catch(() => undefined);
      reached = true;
      await drain(out?.response);
      if (rule.action) await rule.action(call);
    }
    note(kind, timing);
    this.stats.reachedService += reached ? 1 : 0;
    this.calls.push({ ...call, outcome: timing === 'after' ? 'fault-after' : 'fault-before', reachedService: reached });
    if (kind === 'connection-reset') throw connectionResetError();
    const requestId = `fault-${fnv1a(`${identity}#${occurrence}`).toString(16)}`;
    return { response: faultResponse(service, kind, requestId) };
  }

  private decide(call: InterceptedCall, identity: string): { rule: FaultRule; kind: FaultKind | undefined; timing: FaultTiming } | undefined {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i] as FaultRule;
      if (!applies(rule, call)) continue;
      if (rule.times !== undefined && (this.hits.get(rule) ?? 0) >= rule.times) continue;
      const runKey = `${i}:${identity}`;
      if (rule.maxConsecutive !== undefined && (this.consecutive.get(runKey) ?? 0) >= rule.maxConsecutive) {
        this.consecutive.set(runKey, 0);
        continue;
      }
      const salt = `${i}:${identity}#${call.occurrence}`;
      if (this.draw(`${salt}#rate`) >= (rule.rate ?? 1)) {
        this.consecutive.set(runKey, 0);
        continue;
      }
      this.hits.set(rule, (this.hits.get(rule) ?? 0) + 1);
      const kind = rule.kinds || !rule.action ? pickKind(rule.kinds ?? { throttle: 1 }, this.draw(`${salt}#kind`)) : undefined;
      if (kind !== undefined && kind !== 'slow') this.consecutive.set(runKey, (this.consecutive.get(runKey) ?? 0) + 1);
      const t = rule.timing ?? 'before';
      const timing: FaultTiming = t === 'mixed' ? (this.draw(`${salt}#timing`) < 0.5 ? 'before' : 'after') : t;
      return { rule, kind, timing };
    }
    return undefined;
  }

  /** A number in [0, 1) that depends only on the seed and `salt`. */
  private draw(salt: string): number {
    return mulberry32(this.seed ^ fnv1a(salt))();
  }
}

let attachCounter = 0;

/** Zeroed counters. */
export function emptyFaultStats(): FaultStats {
  return {
    calls: 0,
    reachedService: 0,
    byKind: { throttle: 0, 'server-error': 0, 'connection-reset': 0, slow: 0 },
    byTiming: { before: 0, after: 0 },
    byOperation: {},
    actions: 0,
    slowMs: 0,
  };
}

function checkRule(rule: FaultRule): void {
  const rate = rule.rate ?? 1;
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`fault rule rate must be in [0, 1], got ${rate}`);
  for (const [k, w] of Object.entries(rule.kinds ?? {})) {
    if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new RangeError(`unknown fault kind ${k}; expected one of ${FAULT_KINDS.join(', ')}`);
    if (!(typeof w === 'number' && w >= 0)) throw new RangeError(`fault kind weight for ${k} must be ≥ 0, got ${String(w)}`);
  }
}

function applies(rule: FaultRule, call: InterceptedCall): boolean {
  if (rule.service !== undefined && !(typeof rule.service === 'string' ? [rule.service] : rule.service).includes(call.service)) return false;
  if (rule.operation !== undefined) {
    if (rule.operation instanceof RegExp) {
      if (!rule.operation.test(call.operation)) return false;
    } else if (!(typeof rule.operation === 'string' ? [rule.operation] : rule.operation).includes(call.operation)) return false;
  }
  return rule.match === undefined || rule.match(call);
}

function pickKind(weights: Partial<Record<FaultKind, number>>, u: number): FaultKind {
  const entries = FAULT_KINDS.map((k) => [k, weights[k] ?? 0] as const).filter(([, w]) => w > 0);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  if (total === 0) throw new RangeError('a fault rule needs at least one kind with a weight above 0');
  let x = u * total;
  for (const [k, w] of entries) {
    if (x < w) return k;
    x -= w;
  }
  return (entries[entries.length - 1] as readonly [FaultKind, number])[0];
}

function serviceOf(clientName: string | undefined): string {
  const name = (clientName ?? 'unknown').replace(/Client$/, '');
  if (name === 'ConfigService') return 'config';
  return name.toLowerCase();
}

function isNetworkError(err: unknown): boolean {
  const e = err as { code?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  return typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code) && e.$metadata?.httpStatusCode === undefined;
}

/** Read a real HTTP answer to its end so the connection is free again. */
async function drain(response: unknown): Promise<void> {
  const body = (response as { body?: unknown } | undefined)?.body;
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    for await (const chunk of body as AsyncIterable<unknown>) void chunk;
  }
}

/** JSON with sorted keys, so that equal inputs give equal identities. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
