/**
 * An AWS Config evaluation store for one custom rule, behind a real `ConfigServiceClient`
 * (aws-sdk-client-mock on that one client): PutEvaluations records, GetComplianceDetailsByConfigRule
 * pages back what is recorded. moto_server records nothing outside TestMode and does not answer
 * GetComplianceDetailsByConfigRule for custom rules, so tests and the benchmark that need Config
 * to remember use this.
 *
 * It behaves like Config where the rule depends on it (AWS Config API Reference):
 *   - PutEvaluations: 0 to 100 evaluations a call; ComplianceType COMPLIANT, NON_COMPLIANT or
 *     NOT_APPLICABLE (INSUFFICIENT_DATA refused); Annotation 1-256 characters when given;
 *     OrderingTimestamp, ComplianceResourceType and ComplianceResourceId required; `TestMode`
 *     validates and records nothing. Each evaluation recorded replaces the resource's last one
 *     and gets ResultRecordedTime and ConfigRuleInvokedTime from the store's clock.
 *   - GetComplianceDetailsByConfigRule: the rule's name must match; `ComplianceTypes` filters
 *     (INSUFFICIENT_DATA refused as a filter), absent means every type; `Limit` 0 means 10, more
 *     than 100 is refused; NextToken pages through results in a stable order.
 *
 * Every evaluation recorded is counted: that is what AWS Config bills.
 *
 * Two ways to put it behind a client: `attach` (aws-sdk-client-mock replaces `send`: quick, but
 * no middleware runs) and `serve` (a middleware next to the HTTP handler answers the two
 * operations as Config's JSON 1.1 wire answers, so the SDK deserializes them and any
 * middleware in front, the fault injector among them, acts as it would before a real service).
 */
import {
  type ConfigServiceClient,
  type EvaluationResult,
  GetComplianceDetailsByConfigRuleCommand,
  type GetComplianceDetailsByConfigRuleCommandInput,
  PutEvaluationsCommand,
  type PutEvaluationsCommandInput,
} from '@aws-sdk/client-config-service';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

export interface StoredEvaluation {
  readonly resourceType: string;
  readonly resourceId: string;
  readonly compliance: string;
  readonly annotation?: string;
  readonly orderingTimestamp: Date;
  readonly recordedAt: Date;
}

/** A fault to raise for one read call; `undefined` lets the call through. */
export type ReadFault = (call: { readonly page: number; readonly nextToken?: string }) => Error | undefined;

const COMPLIANCE_TYPES = ['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE'];

/** An error shaped as the SDK builds it from a Config JSON error answer. */
export function configError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), { name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });
}

export class ConfigEvaluationStore {
  private readonly evaluations = new Map<string, StoredEvaluation>();
  private stub?: { restore(): void; resetHistory(): void };
  /** Evaluations recorded (billed), since the store was made. */
  recorded = 0;
  putCalls = 0;
  readCalls = 0;
  /** Evaluations seen in TestMode calls (validated, not recorded). */
  testModeEvaluations = 0;
  /** Set to make chosen read calls fail. */
  readFault?: ReadFault;

  constructor(
    readonly ruleName: string,
    private readonly clock: () => Date,
  ) {}

  /** Answer `client`'s PutEvaluations and GetComplianceDetailsByConfigRule from this store. */
  attach(client: ConfigServiceClient): this {
    const stub = mockClient(client);
    stub.on(PutEvaluationsCommand).callsFake((input: PutEvaluationsCommandInput) => this.put(input));
    stub.on(GetComplianceDetailsByConfigRuleCommand).callsFake((input: GetComplianceDetailsByConfigRuleCommandInput) => this.read(input));
    this.stub = stub;
    return this;
  }

  /**
   * Answer `client`'s PutEvaluations and GetComplianceDetailsByConfigRule from this store at the
   * wire: add it after the fault injector (same step and priority, so it runs inside it), and a
   * fault "before" never reaches the store while a fault "after" loses an answer the store gave.
   * Every other operation goes on to the client's own HTTP handler.
   */
  serve(client: ConfigServiceClient): this {
    type Next = (args: { input: unknown }) => Promise<unknown>;
    const middleware = (next: Next, context: { commandName?: string }) => async (args: { input: unknown }) => {
      const answer =
        context.commandName === 'PutEvaluationsCommand'
          ? () => this.put(args.input as PutEvaluationsCommandInput)
          : context.commandName === 'GetComplianceDetailsByConfigRuleCommand'
            ? () => this.read(args.input as GetComplianceDetailsByConfigRuleCommandInput)
            : undefined;
      if (!answer) return next(args);
      try {
        return { response: wireResponse(200, answer()) };
      } catch (err) {
        const e = err as Error & { $metadata?: { httpStatusCode?: number } };
        return { response: wireResponse(e.$metadata?.httpStatusCode ?? 400, { __type: e.name, message: e.message }) };
      }
    };
    (client.middlewareStack as unknown as { add: (m: unknown, o: Record<string, unknown>) => void }).add(middleware, {
      step: 'deserialize',
      priority: 'low',
      name: `keyageConfigStore${serveCounter++}`,
    });
    return this;
  }

  /** Undo `attach`. */
  detach(): void {
    this.stub?.restore();
    this.stub = undefined;
  }

  /** Drop the mock's record of the calls answered so far (a long run would keep every answer). */
  forgetCalls(): void {
    this.stub?.resetHistory();
  }

  /** What the store holds now, by resource ID. */
  snapshot(): Map<string, StoredEvaluation> {
    return new Map([...this.evaluations.values()].map((e) => [e.resourceId, e]));
  }

  /** How many evaluations the store holds of each ComplianceType. */
  countByCompliance(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const e of this.evaluations.values()) counts[e.compliance] = (counts[e.compliance] ?? 0) + 1;
    return counts;
  }

  /** Forget everything, as Config does for a deleted and re-created rule. */
  clear(): void {
    this.evaluations.clear();
  }

  private put(input: PutEvaluationsCommandInput) {
    this.putCalls++;
    if (!input.ResultToken) throw configError('InvalidResultTokenException', 'The result token is missing.');
    const list = input.Evaluations ?? [];
    if (list.length > 100) throw configError('ValidationException', `1 validation error detected: Value at 'evaluations' failed to satisfy constraint: Member must have length less than or equal to 100`);
    for (const e of list) {
      if (!e.ComplianceResourceType || !e.ComplianceResourceId || !e.OrderingTimestamp) throw configError('ValidationException', 'An evaluation lacks ComplianceResourceType, ComplianceResourceId or OrderingTimestamp.');
      if (!COMPLIANCE_TYPES.includes(String(e.ComplianceType))) throw configError('InvalidParameterValueException', `ComplianceType ${String(e.ComplianceType)} is not supported.`);
      if (e.Annotation !== undefined && (e.Annotation.length < 1 || e.Annotation.length > 256)) throw configError('ValidationException', 'The annotation must be 1 to 256 characters.');
    }
    if (input.TestMode) {
      this.testModeEvaluations += list.length;
      return { FailedEvaluations: [] };
    }
    const now = this.clock();
    for (const e of list) {
      this.evaluations.set(key(e.ComplianceResourceType as string, e.ComplianceResourceId as string), {
        resourceType: e.ComplianceResourceType as string,
        resourceId: e.ComplianceResourceId as string,
        compliance: e.ComplianceType as string,
        ...(e.Annotation !== undefined ? { annotation: e.Annotation } : {}),
        orderingTimestamp: new Date(e.OrderingTimestamp as Date),
        recordedAt: now,
      });
      this.recorded++;
    }
    return { FailedEvaluations: [] };
  }

  private read(input: GetComplianceDetailsByConfigRuleCommandInput) {
    this.readCalls++;
    const offset = input.NextToken ? Number(/^page-(\d+)$/.exec(input.NextToken)?.[1] ?? Number.NaN) : 0;
    if (Number.isNaN(offset)) throw configError('InvalidNextTokenException', 'The specified next token is invalid.');
    const fault = this.readFault?.({ page: Math.floor(offset / Math.max(1, input.Limit || 10)) + 1, ...(input.NextToken ? { nextToken: input.NextToken } : {}) });
    if (fault) throw fault;
    if (input.ConfigRuleName !== this.ruleName) throw configError('NoSuchConfigRuleException', `The ConfigRule '${String(input.ConfigRuleName)}' provided in the request is invalid.`);
    const types = input.ComplianceTypes ?? COMPLIANCE_TYPES;
    if (types.some((t) => !COMPLIANCE_TYPES.includes(t))) throw configError('InvalidParameterValueException', 'INSUFFICIENT_DATA cannot be used as a ComplianceType for filtering results.');
    const limit = input.Limit === undefined || input.Limit === 0 ? 10 : input.Limit;
    if (limit > 100) throw configError('InvalidLimitException', 'You cannot specify a limit greater than 100.');
    const all = [...this.evaluations.values()].filter((e) => types.includes(e.compliance)).sort((a, b) => key(a.resourceType, a.resourceId).localeCompare(key(b.resourceType, b.resourceId)));
    const page = all.slice(offset, offset + limit);
    const results: EvaluationResult[] = page.map((e) => ({
      EvaluationResultIdentifier: {
        EvaluationResultQualifier: { ConfigRuleName: this.ruleName, ResourceType: e.resourceType, ResourceId: e.resourceId, EvaluationMode: 'DETECTIVE' },
        OrderingTimestamp: e.orderingTimestamp,
      },
      ComplianceType: e.compliance as EvaluationResult['ComplianceType'],
      ResultRecordedTime: e.recordedAt,
      ConfigRuleInvokedTime: e.recordedAt,
      ...(e.annotation !== undefined ? { Annotation: e.annotation } : {}),
    }));
    return { EvaluationResults: results, ...(offset + limit < all.length ? { NextToken: `page-${offset + limit}` } : {}) };
  }
}

let serveCounter = 0;

/** A value as Config's JSON 1.1 protocol writes it: timestamps in epoch seconds. */
function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}

/** An HTTP answer as Config sends it (application/x-amz-json-1.1). */
function wireResponse(statusCode: number, body: unknown) {
  return {
    statusCode,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() },
    body: Readable.from([Buffer.from(JSON.stringify(toWire(body)))]),
  };
}

function key(type: string, id: string): string {
  return `${type}/${id}`;
}
