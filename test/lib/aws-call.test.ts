import { AwsCaller, classifyError, isNoSuchEntity } from '../../lib/aws-call';
import { AwsAccessDeniedError, AwsCallError } from '../../lib/errors';

const err = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${name} happened`), { name, ...extra });

describe('classifyError', () => {
  it.each<[string, unknown, string]>([
    ['IAM throttling', err('Throttling', { message: 'Rate exceeded' }), 'throttled'],
    ['a 429', err('Whatever', { $metadata: { httpStatusCode: 429 } }), 'throttled'],
    ['"Rate exceeded" under any name', Object.assign(new Error('Rate exceeded'), { name: 'Unknown' }), 'throttled'],
    ['a 500', err('InternalFailure', { $metadata: { httpStatusCode: 500 } }), 'transient'],
    ['a connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'transient'],
    ['AccessDenied', err('AccessDenied'), 'access-denied'],
    ['NoSuchEntity', err('NoSuchEntityException'), 'other'],
    ['a validation error', err('ValidationError', { $metadata: { httpStatusCode: 400 } }), 'other'],
  ])('%s is %s', (_name, e, kind) => {
    expect(classifyError(e)).toBe(kind);
  });
});

describe('AwsCaller', () => {
  const caller = (maxAttempts = 4) => {
    const sleeps: number[] = [];
    const c = new AwsCaller({ retry: { maxAttempts, baseDelayMs: 100, maxDelayMs: 1000 }, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 });
    return { c, sleeps };
  };

  it('retries throttling with exponential backoff and counts every attempt', async () => {
    const { c, sleeps } = caller();
    const fn = jest.fn().mockRejectedValueOnce(err('Throttling')).mockRejectedValueOnce(err('Throttling')).mockResolvedValue('ok');
    await expect(c.call('iam:ListUsers', fn)).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(sleeps).toEqual([50, 100]);
    expect(c.stats).toEqual({ attempts: { 'iam:ListUsers': 3 }, throttledRetries: 2, transientRetries: 0 });
    expect(c.count('iam')).toBe(3);
    expect(c.count('config')).toBe(0);
  });

  it('caps the backoff at maxDelayMs', async () => {
    const { c, sleeps } = caller(8);
    const fn = jest.fn().mockRejectedValue(err('ServiceUnavailable', { $metadata: { httpStatusCode: 503 } }));
    await expect(c.call('config:PutEvaluations', fn)).rejects.toThrow(AwsCallError);
    expect(sleeps).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect(c.stats.transientRetries).toBe(7);
  });

  it('gives up after the budget with an AwsCallError that keeps the cause', async () => {
    const { c } = caller(2);
    const cause = err('Throttling', { message: 'Rate exceeded' });
    const e = await c.call('iam:ListAccessKeys', () => Promise.reject(cause)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AwsCallError);
    expect((e as AwsCallError).cause).toBe(cause);
    expect((e as Error).message).toBe('iam:ListAccessKeys failed after 2 attempts: Rate exceeded');
  });

  it('never retries AccessDenied', async () => {
    const { c } = caller();
    const fn = jest.fn().mockRejectedValue(err('AccessDenied'));
    await expect(c.call('iam:ListUsers', fn)).rejects.toThrow(AwsAccessDeniedError);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('does not retry other errors, and NoSuchEntity stays recognisable through the wrapper', async () => {
    const { c } = caller();
    const fn = jest.fn().mockRejectedValue(err('NoSuchEntityException'));
    const e = await c.call('iam:GetUser', fn).catch((x: unknown) => x);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(isNoSuchEntity(e)).toBe(true);
  });

  it('refuses a retry budget below one attempt', () => {
    expect(() => new AwsCaller({ retry: { maxAttempts: 0 } })).toThrow(/maxAttempts must be a whole number/);
  });
});
