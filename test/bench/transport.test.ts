/**
 * The benchmark's transport: the token bucket on a fake clock, and the middleware on real SDK
 * clients against moto_server — a throttled request is answered exactly as IAM answers it, the
 * SDK and keyage's AwsCaller both see throttling, ListUsers is paged as IAM pages it.
 */
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { CreateUserCommand, IAMClient, ListAccessKeysCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { AwsCaller, classifyError } from '../../lib/aws-call';
import { AwsCallError } from '../../lib/errors';
import { BenchTransport, MOTO_TRANSPORT, THROTTLED_TRANSPORT, TokenBucket, type TransportModel } from '../../bench/transport';
import { describeWithMoto, type MotoAccount, newMotoAccount } from '../harness/moto';

describe('TokenBucket', () => {
  it('starts full, refuses when empty and refills at its rate up to its capacity', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now = 99; // 0.99 of a token
    expect(bucket.take()).toBe(false);
    now = 100;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now = 10_000; // long quiet spell: capped at capacity
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });

  it('refuses a rate or capacity that cannot work', () => {
    expect(() => new TokenBucket(0, 1)).toThrow('a token bucket needs rate > 0 and capacity ≥ 1 (got 0, 1)');
    expect(() => new TokenBucket(5, 0.5)).toThrow('a token bucket needs rate > 0 and capacity ≥ 1 (got 5, 0.5)');
  });
});

describeWithMoto('BenchTransport on real SDK clients against moto_server', () => {
  let account: MotoAccount;
  let now: number;
  let slept: number[];
  let made: { destroy(): void }[] = [];
  const clock = () => now;
  const sleep = async (ms: number) => {
    slept.push(ms);
  };
  const clients = (model: TransportModel, maxAttempts?: number) => {
    const transport = new BenchTransport(model, { clock, sleep });
    const common = { endpoint: account.endpoint, region: account.region, credentials: account.credentials, ...(maxAttempts ? { maxAttempts } : {}) };
    const iam = transport.attach(new IAMClient(common), 'iam');
    const config = transport.attach(new ConfigServiceClient(common), 'config');
    made.push(iam, config);
    return { transport, iam, config };
  };

  beforeAll(async () => {
    account = await newMotoAccount();
    for (let i = 0; i < 250; i++) await account.iam.send(new CreateUserCommand({ UserName: `paged-${String(i).padStart(3, '0')}` }));
  }, 30_000);

  beforeEach(() => {
    now = 0;
    slept = [];
  });

  afterEach(() => {
    for (const c of made) c.destroy();
    made = [];
  });

  afterAll(() => {
    account.iam.destroy();
    account.config.destroy();
  });

  it('answers beyond the bucket the way IAM throttles: Throttling, "Rate exceeded", HTTP 400, without reaching moto', async () => {
    const { transport, iam } = clients({ ...THROTTLED_TRANSPORT, iamRps: 1, iamBurst: 1, latencyMs: 40 }, 1);
    await iam.send(new ListAccessKeysCommand({ UserName: 'paged-000' }));
    const err = await iam.send(new ListAccessKeysCommand({ UserName: 'paged-000' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    expect(classifyError(err)).toBe('throttled');
    expect(transport.counts().operations).toEqual({ 'iam:ListAccessKeys': { attempts: 2, throttled: 1, forwarded: 1, paged: 0, motoMs: expect.any(Number) } });
    expect(slept).toEqual([40, 40]); // the throttled answer costs a round trip too
  });

  it('keyage’s AwsCaller counts the throttled attempt, backs off and succeeds; the transport saw the same attempts', async () => {
    const { transport, iam } = clients({ ...THROTTLED_TRANSPORT, iamRps: 1, iamBurst: 1, latencyMs: 0 }, 1);
    const caller = new AwsCaller({
      sleep: async () => {
        now += 1000; // the backoff lets the bucket refill
      },
      random: () => 0.5,
    });
    await caller.call('iam:ListAccessKeys', () => iam.send(new ListAccessKeysCommand({ UserName: 'paged-001' })));
    await caller.call('iam:ListAccessKeys', () => iam.send(new ListAccessKeysCommand({ UserName: 'paged-001' })));
    expect(caller.stats).toEqual({ attempts: { 'iam:ListAccessKeys': 3 }, throttledRetries: 1, transientRetries: 0 });
    expect(transport.counts().operations['iam:ListAccessKeys']).toMatchObject({ attempts: 3, throttled: 1, forwarded: 2 });
  });

  it('the SDK’s standard retry retries the throttled answer itself and reports the attempts in $metadata', async () => {
    // 1 token a second; each request's latency moves the fake clock 0.6 s: the second request
    // finds 0.6 of a token (throttled), its retry 1.2 tokens (sent).
    const transport = new BenchTransport({ ...THROTTLED_TRANSPORT, iamRps: 1, iamBurst: 1, latencyMs: 1 }, { clock, sleep: async () => void (now += 600) });
    const iam = transport.attach(new IAMClient({ endpoint: account.endpoint, region: account.region, credentials: account.credentials }), 'iam');
    made.push(iam);
    const first = await iam.send(new ListAccessKeysCommand({ UserName: 'paged-002' }));
    const second = await iam.send(new ListAccessKeysCommand({ UserName: 'paged-002' }));
    expect([first.$metadata.attempts, second.$metadata.attempts]).toEqual([1, 2]);
    expect(transport.counts().operations['iam:ListAccessKeys']).toMatchObject({ attempts: 3, throttled: 1, forwarded: 2 });
  });

  it('pages ListUsers as IAM does: 100 by default, MaxItems up to 1,000, and moto sees only the first page', async () => {
    const { transport, iam } = clients({ ...MOTO_TRANSPORT, name: 'paging', iamPaging: true });
    const sizes: number[] = [];
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page = await iam.send(new ListUsersCommand(marker ? { Marker: marker } : {}));
      sizes.push(page.Users?.length ?? 0);
      names.push(...(page.Users ?? []).map((u) => u.UserName ?? ''));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    expect(sizes).toEqual([100, 100, 50]);
    expect(names).toEqual(Array.from({ length: 250 }, (_, i) => `paged-${String(i).padStart(3, '0')}`));
    const big = await iam.send(new ListUsersCommand({ MaxItems: 1000 }));
    expect({ users: big.Users?.length, truncated: big.IsTruncated }).toEqual({ users: 250, truncated: false });
    expect(transport.counts().operations['iam:ListUsers']).toMatchObject({ attempts: 4, throttled: 0, forwarded: 2, paged: 2 });
  });

  it('refuses a Marker it did not hand out', async () => {
    const { iam } = clients({ ...MOTO_TRANSPORT, name: 'paging', iamPaging: true });
    await expect(iam.send(new ListUsersCommand({ Marker: 'bench:999:100' }))).rejects.toThrow('the IAM paging model does not know Marker "bench:999:100"');
  });

  it('throttles Config with its JSON error when a Config rate is set, and records only the evaluations Config accepted', async () => {
    const { transport, config } = clients({ ...MOTO_TRANSPORT, name: 'config-throttled', configRps: 1, configBurst: 1 }, 1);
    const put = (id: string, type: 'COMPLIANT' | 'NON_COMPLIANT') =>
      config.send(
        new PutEvaluationsCommand({
          Evaluations: [{ ComplianceResourceType: 'AWS::IAM::User', ComplianceResourceId: id, ComplianceType: type, OrderingTimestamp: new Date() }],
          ResultToken: 'TESTMODE',
          TestMode: true,
        }),
      );
    await put('AIDAACCEPTED', 'NON_COMPLIANT');
    const err = await put('AIDAREFUSED', 'COMPLIANT').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    expect(classifyError(err)).toBe('throttled');
    const counts = transport.counts();
    expect(counts.evaluations).toBe(1);
    expect(counts.verdicts).toEqual({ AIDAACCEPTED: 'NON_COMPLIANT' });
    expect(counts.operations['config:PutEvaluations']).toMatchObject({ attempts: 2, throttled: 1, forwarded: 1 });
  });

  it('an AwsCaller out of attempts fails with the named error, not a verdict', async () => {
    const { iam } = clients({ ...THROTTLED_TRANSPORT, iamRps: 1, iamBurst: 1, latencyMs: 0 }, 1);
    const caller = new AwsCaller({ retry: { maxAttempts: 3 }, sleep: async () => undefined });
    await iam.send(new ListAccessKeysCommand({ UserName: 'paged-003' }));
    await expect(caller.call('iam:ListAccessKeys', () => iam.send(new ListAccessKeysCommand({ UserName: 'paged-003' })))).rejects.toBeInstanceOf(AwsCallError);
    expect(caller.stats.throttledRetries).toBe(2);
  });
});
