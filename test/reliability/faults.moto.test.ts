/**
 * The fault-injection middleware itself, on real SDK clients against moto_server: the errors
 * it makes are the SDK's own, a fault `before` leaves the service untouched while a fault
 * `after` lets the call take effect, and its decisions are seeded.
 */
import { DescribeConfigRulesCommand } from '@aws-sdk/client-config-service';
import { CreateUserCommand, GetUserCommand, type IAMClient, ListUsersCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { classifyError } from '../../lib/aws-call';
import { FaultInjector, type FaultRule, mulberry32 } from '../harness/faults';
import { describeWithMoto, type MotoAccount, newMotoAccount } from '../harness/moto';

async function errorOf(p: Promise<unknown>): Promise<Record<string, unknown> & Error> {
  try {
    await p;
  } catch (err) {
    return err as Record<string, unknown> & Error;
  }
  throw new Error('expected the call to fail');
}

describe('mulberry32', () => {
  it('gives the same sequence for the same seed and another for another seed, all in [0, 1)', () => {
    const a = Array.from({ length: 1000 }, mulberry32(42));
    const b = Array.from({ length: 1000 }, mulberry32(42));
    const c = Array.from({ length: 1000 }, mulberry32(43));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describeWithMoto('FaultInjector on real SDK clients', () => {
  let account: MotoAccount;
  let iam: IAMClient;

  beforeEach(async () => {
    account = await newMotoAccount();
    iam = account.iam;
  });

  afterEach(() => {
    account.iam.destroy();
    account.config.destroy();
  });

  const inject = (rules: FaultRule[], seed = 7) => {
    const injector = new FaultInjector({ seed, rules });
    injector.attach(account.iam);
    injector.attach(account.config);
    return injector;
  };

  it('a throttle is the SDK error IAM gives: Throttling, "Rate exceeded", HTTP 400, retryable as throttling', async () => {
    const injector = inject([{ service: 'iam', operation: 'ListUsers', kinds: { throttle: 1 }, times: 1 }]);
    const err = await errorOf(iam.send(new ListUsersCommand({})));
    expect(err.name).toBe('Throttling');
    expect(err.message).toBe('Rate exceeded');
    expect(err.$metadata).toMatchObject({ httpStatusCode: 400 });
    expect(err.$fault).toBe('client');
    expect(classifyError(err)).toBe('throttled');
    await expect(iam.send(new ListUsersCommand({}))).resolves.toMatchObject({ Users: [] });
    expect(injector.stats).toMatchObject({ calls: 2, reachedService: 1, byKind: { throttle: 1, 'server-error': 0, 'connection-reset': 0, slow: 0 } });
  });

  it('a 500 is InternalFailure with HTTP 500 (transient); Config’s throttle is ThrottlingException', async () => {
    inject([
      { service: 'iam', kinds: { 'server-error': 1 }, times: 1 },
      { service: 'config', kinds: { throttle: 1 }, times: 1 },
    ]);
    const e500 = await errorOf(iam.send(new ListUsersCommand({})));
    expect(e500.name).toBe('InternalFailure');
    expect(e500.$metadata).toMatchObject({ httpStatusCode: 500 });
    expect(classifyError(e500)).toBe('transient');
    const throttled = await errorOf(account.config.send(new DescribeConfigRulesCommand({})));
    expect(throttled.name).toBe('ThrottlingException');
    expect(throttled.message).toBe('Rate exceeded');
    expect(throttled.$metadata).toMatchObject({ httpStatusCode: 400 });
    expect(classifyError(throttled)).toBe('throttled');
  });

  it('a connection reset is the error Node raises: ECONNRESET, "socket hang up"', async () => {
    inject([{ operation: 'ListUsers', kinds: { 'connection-reset': 1 } }]);
    const err = await errorOf(iam.send(new ListUsersCommand({})));
    expect(err).toMatchObject({ name: 'Error', message: 'socket hang up', code: 'ECONNRESET' });
    expect(classifyError(err)).toBe('transient');
  });

  it('a fault before the request leaves IAM untouched; a fault after it lets the write take effect and loses the answer', async () => {
    const injector = inject([
      { operation: 'CreateUser', match: (c) => c.input.UserName === 'before', kinds: { 'server-error': 1 }, timing: 'before' },
      { operation: 'CreateUser', match: (c) => c.input.UserName === 'after', kinds: { 'connection-reset': 1 }, timing: 'after' },
    ]);
    await errorOf(iam.send(new CreateUserCommand({ UserName: 'before' })));
    await errorOf(iam.send(new CreateUserCommand({ UserName: 'after' })));
    injector.setEnabled(false);
    await expect(iam.send(new GetUserCommand({ UserName: 'before' }))).rejects.toBeInstanceOf(NoSuchEntityException);
    await expect(iam.send(new GetUserCommand({ UserName: 'after' }))).resolves.toMatchObject({ User: { UserName: 'after' } });
    expect(injector.calls.slice(0, 2).map((c) => [c.input.UserName, c.outcome, c.reachedService])).toEqual([
      ['before', 'fault-before', false],
      ['after', 'fault-after', true],
    ]);
    expect(injector.stats.byTiming).toEqual({ before: 1, after: 1 });
  });

  it('a slow answer waits, then succeeds', async () => {
    const waited: number[] = [];
    const injector = new FaultInjector({ seed: 1, rules: [{ kinds: { slow: 1 }, slowMs: [40, 60] }], delay: async (ms) => void waited.push(ms) });
    injector.attach(iam);
    await expect(iam.send(new ListUsersCommand({}))).resolves.toMatchObject({ Users: [] });
    expect(waited).toHaveLength(1);
    expect(waited[0]).toBeGreaterThanOrEqual(40);
    expect(waited[0]).toBeLessThanOrEqual(60);
    expect(injector.stats.slowMs).toBe(waited[0]);
  });

  it('an action runs at the moment of the call, before or after the service answers', async () => {
    const order: string[] = [];
    const injector = inject([
      { operation: 'CreateUser', timing: 'before', action: (c) => void order.push(`before ${String(c.input.UserName)}`) },
      { operation: 'GetUser', timing: 'after', action: (c) => void order.push(`after ${String(c.input.UserName)}`) },
    ]);
    await iam.send(new CreateUserCommand({ UserName: 'x' }));
    order.push('created');
    await iam.send(new GetUserCommand({ UserName: 'x' }));
    order.push('got');
    expect(order).toEqual(['before x', 'created', 'after x', 'got']);
    expect(injector.stats.actions).toBe(2);
  });

  it('decisions depend on the seed and the call, not on timing: the same seed hits the same calls', async () => {
    const rules: FaultRule[] = [{ operation: 'GetUser', rate: 0.3, kinds: { throttle: 1 } }];
    const pattern = async (seed: number) => {
      const injector = inject(rules, seed);
      const names = Array.from({ length: 40 }, (_, i) => `nobody-${i}`);
      await Promise.all(names.map((n) => iam.send(new GetUserCommand({ UserName: n })).catch(() => undefined)));
      injector.clearRules();
      return names.filter((n) => injector.injected.some((f) => f.input.UserName === n));
    };
    const first = await pattern(11);
    const again = await pattern(11);
    const other = await pattern(12);
    expect(first.length).toBeGreaterThan(3);
    expect(first.length).toBeLessThan(25);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('honours times and maxConsecutive, and rate 0 never fires', async () => {
    const injector = inject([
      { operation: 'ListUsers', kinds: { throttle: 1 }, maxConsecutive: 2 },
      { operation: 'GetUser', rate: 0, kinds: { throttle: 1 } },
    ]);
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) outcomes.push(await iam.send(new ListUsersCommand({})).then(() => 'ok', (e: Error) => e.name));
    expect(outcomes).toEqual(['Throttling', 'Throttling', 'ok', 'Throttling', 'Throttling', 'ok']);
    for (let i = 0; i < 5; i++) await iam.send(new GetUserCommand({ UserName: 'nobody' })).catch(() => undefined);
    expect(injector.count(undefined, 'iam:GetUser')).toBe(0);
    expect(() => new FaultInjector({ seed: 1, rules: [{ rate: 2 }] })).toThrow(RangeError);
    expect(() => new FaultInjector({ seed: 1, rules: [{ kinds: { meteor: 1 } as never }] })).toThrow(/unknown fault kind meteor/);
  });
});
