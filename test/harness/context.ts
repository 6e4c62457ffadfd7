/**
 * A fake Lambda context, in the spirit of powertools' `ContextExamples`: fixed identifiers and
 * a controllable clock for `getRemainingTimeInMillis`.
 */
import type { Context } from 'aws-lambda';

export interface FakeContextOptions {
  /** Milliseconds left at the start. @default 900_000 (15 minutes) */
  remainingMs?: number;
  /** Where "time passes" comes from. @default Date.now */
  clock?: () => number;
  functionName?: string;
}

export function fakeContext(options: FakeContextOptions = {}): Context {
  const clock = options.clock ?? Date.now;
  const started = clock();
  const budget = options.remainingMs ?? 900_000;
  const functionName = options.functionName ?? 'keyage-access-key-age';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/25/[$LATEST]abcdef0123456789',
    getRemainingTimeInMillis: () => Math.max(0, budget - (clock() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
