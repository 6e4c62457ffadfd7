import { AwsCaller, classifyError, isNoSuchEntity } from '../../lib/aws-call';
import { AwsAccessDeniedError, AwsCallError } from '../../lib/errors';

const err = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${name} happened`), { name, ...extra });

describe('classifyError', () => {
  it.each<[string, string, unknown]>([
    ['IAM throttling', 'throttled', err('Throttling', { message: 'Rate exceeded' })],
    ['a 429', 'throttled', err('Whatever', { $metadata: { httpStatusCode: 429 } })],
    ['"Rate exceeded" under any name', 'throttled', Object.assign(new Error('Rate exceeded'), { name: 'Unknown' })],
    ['a 500', 'transient', err('InternalFailure', { $metadata: { httpStatusCode: 500 } })],
    ['a connection reset', 'transient', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['AccessDenied', 'access-denied', err('AccessDenied')],
    ['NoSuchEntity', 'other', err('NoSuchEntityException')],
    ['a validation error', 'other', err('ValidationError', { $metadata: { httpStatusCode: 400 } })],
  ])('%s is %s', (_name, kind, e) => {
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

describe('AwsCaller pacing', () => {
  const throttle = () => Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });

  function paced() {
    let now = 0;
    const waits: number[] = [];
    const c = new AwsCaller({
      pacing: true,
      clock: () => now,
      random: () => 0,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    });
    return { c, waits, advance: (ms: number) => (now += ms) };
  }

  it('does not pace a service that has not throttled', async () => {
    const { c, waits } = paced();
    for (let i = 0; i < 5; i++) await c.call('iam:ListAccessKeys', async () => 'ok');
    expect(waits).toEqual([]);
    expect(c.pacer('iam')?.intervalMs).toBe(0);
  });

  it('after a throttle, spaces the starts of calls to that service 100 ms apart, and only that service', async () => {
    const { c, waits } = paced();
    const fn = jest.fn().mockRejectedValueOnce(throttle()).mockResolvedValue('ok');
    await c.call('iam:ListAccessKeys', fn);
    waits.length = 0;
    await Promise.all([c.call('iam:ListAccessKeys', async () => 1), c.call('iam:ListAccessKeys', async () => 2), c.call('iam:ListAccessKeys', async () => 3)]);
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(Math.min(...waits)).toBeGreaterThan(0);
    await c.call('config:PutEvaluations', async () => 'ok');
    expect(c.pacer('config')?.intervalMs).toBe(0);
  });

  it('doubles the spacing on further throttles, once per interval, up to 2 s; shrinks it after successes to no less than 50 ms', () => {
    const { c } = paced();
    const pacer = c.pacer('iam');
    if (!pacer) throw new Error('pacing is on');
    pacer.throttled(0);
    expect(pacer.intervalMs).toBe(100);
    pacer.throttled(10); // thrown by a call in flight at the same time: counts once
    expect(pacer.intervalMs).toBe(100);
    for (let t = 100; t <= 1000; t += 200) pacer.throttled(t * 10);
    expect(pacer.intervalMs).toBe(2000);
    for (let i = 0; i < 500; i++) pacer.succeeded();
    expect(pacer.intervalMs).toBe(50);
  });

  it('holds 40 calls under a 10 calls/s limit to a handful of throttles', async () => {
    const { c, advance } = paced();
    // a token bucket of 10 calls/s with a burst of 10, on the same virtual clock
    let tokens = 10;
    let last = 0;
    let clock = 0;
    const iam = async () => {
      clock = (c as unknown as { clock: () => number }).clock();
      tokens = Math.min(10, tokens + ((clock - last) / 1000) * 10);
      last = clock;
      advance(40); // latency
      if (tokens < 1) throw throttle();
      tokens -= 1;
      return 'ok';
    };
    for (let i = 0; i < 40; i++) await c.call('iam:ListAccessKeys', iam);
    expect(c.stats.attempts['iam:ListAccessKeys']).toBeLessThanOrEqual(46);
    expect(c.stats.throttledRetries).toBeLessThanOrEqual(6);
  });
});
