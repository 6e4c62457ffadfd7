/**
 * Assertions on what the rule told AWS Config, shared by the unit and integration tests.
 */
import { type Evaluation, PutEvaluationsCommand, type PutEvaluationsCommandInput } from '@aws-sdk/client-config-service';

/** An aws-sdk-client-mock stub of ConfigServiceClient (only `commandCalls` is used). */
type ConfigMock = { commandCalls: (command: never) => unknown[] };

/** Every PutEvaluations input sent to the mock, in order. */
export function putEvaluationsCalls(config: ConfigMock): PutEvaluationsCommandInput[] {
  const stub = config as unknown as { commandCalls: (c: unknown) => { args: [{ input: PutEvaluationsCommandInput }] }[] };
  const calls = stub.commandCalls(PutEvaluationsCommand);
  return calls.map((c) => c.args[0].input);
}

/** Every evaluation sent, flattened across calls. */
export function evaluationsSent(config: ConfigMock): Evaluation[] {
  return putEvaluationsCalls(config).flatMap((i) => i.Evaluations ?? []);
}

export interface ExpectedEvaluation {
  resourceId: string;
  compliance: 'COMPLIANT' | 'NON_COMPLIANT' | 'NOT_APPLICABLE';
  annotation?: RegExp | string;
  orderingTimestamp?: Date;
}

/** Exactly one evaluation was sent for `resourceId`, with this verdict (and annotation). */
export function expectEvaluation(evaluations: readonly Evaluation[], expected: ExpectedEvaluation): Evaluation {
  const mine = evaluations.filter((e) => e.ComplianceResourceId === expected.resourceId);
  expect(mine).toHaveLength(1);
  const e = mine[0] as Evaluation;
  expect(e.ComplianceResourceType).toBe('AWS::IAM::User');
  expect(e.ComplianceType).toBe(expected.compliance);
  expect(typeof e.Annotation).toBe('string');
  expect((e.Annotation ?? '').length).toBeGreaterThanOrEqual(1);
  expect((e.Annotation ?? '').length).toBeLessThanOrEqual(256);
  if (expected.annotation instanceof RegExp) expect(e.Annotation).toMatch(expected.annotation);
  else if (typeof expected.annotation === 'string') expect(e.Annotation).toBe(expected.annotation);
  if (expected.orderingTimestamp) expect(e.OrderingTimestamp).toEqual(expected.orderingTimestamp);
  return e;
}

/**
 * The invocation failed with `errorClass` and a message matching `message`, and nothing was
 * put: an error never becomes a verdict.
 */
export async function expectCustomerError(
  invocation: Promise<unknown>,
  errorClass: new (...args: never[]) => Error,
  message: RegExp,
  config?: ConfigMock,
): Promise<Error> {
  let caught: unknown;
  try {
    await invocation;
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(errorClass);
  expect((caught as Error).message).toMatch(message);
  if (config) expect(putEvaluationsCalls(config)).toEqual([]);
  return caught as Error;
}
