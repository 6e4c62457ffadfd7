/**
 * The benchmark's transport: the token bucket on a fake clock, and the middleware on real SDK
 * clients against moto_server — a throttled request is answered exactly as IAM answers it, the
 * SDK and keyage's AwsCaller both see throttling, ListUsers is paged as IAM pages it.
 */
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { CreateUserCommand, IAMClient, ListAccessKeysCommand, ListUsersCommand, type ListUsersCommandOutput } from '@aws-sdk/client-iam';
import { Readable } from 'node:stream';
import { AwsCaller, classifyError } from '../../lib/aws-call';
import { AwsCallError } from '../../lib/errors';
import { BenchTransport, IAM_DEFAULT_PAGE, IAM_MAX_PAGE, MOTO_TRANSPORT, pageSize, splitListUsers, THROTTLED_TRANSPORT, TokenBucket, type TransportModel } from '../../bench/transport';
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

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const member = (i: number) =>
  `<member><Path>/</Path><UserName>u-${String(i).padStart(4, '0')}</UserName><UserId>AIDA${String(i).padStart(16, '0')}</UserId><Arn>arn:aws:iam::123456789012:user/u-${String(i).padStart(4, '0')}</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate></member>`;
/** ListUsers as moto answers it: every user in one answer, whatever MaxItems says. */
const motoListUsers = (n: number) =>
  `<ListUsersResponse xmlns="${XMLNS}"><ListUsersResult><Users>${Array.from({ length: n }, (_, i) => member(i)).join('')}</Users><IsTruncated>false</IsTruncated></ListUsersResult><ResponseMetadata><RequestId>moto-request</RequestId></ResponseMetadata></ListUsersResponse>`;

describe('splitListUsers', () => {
  it('returns the <member> entries as the raw text they came as, in order, nested members kept inside their entry', () => {
    const tagged = '<member><UserName>t</UserName><Tags><member><Key>k</Key><Value>v</Value></member></Tags></member>';
    const xml = `<ListUsersResponse><ListUsersResult><Users>${member(0)}\n  ${tagged}${member(1)}</Users><IsTruncated>false</IsTruncated></ListUsersResult></ListUsersResponse>`;
    expect(splitListUsers(xml)).toEqual({ members: [member(0), tagged, member(1)], truncated: false });
  });

  it('reads an empty listing and says when the answer is truncated', () => {
    expect(splitListUsers('<ListUsersResult><Users/><IsTruncated>false</IsTruncated></ListUsersResult>')).toEqual({ members: [], truncated: false });
    expect(splitListUsers(`<ListUsersResult><Users>${member(0)}</Users><IsTruncated>true</IsTruncated><Marker>m</Marker></ListUsersResult>`)).toEqual({ members: [member(0)], truncated: true });
  });

  it('refuses an answer it cannot split, saying what was wrong', () => {
    expect(() => splitListUsers('<ListUsersResult></ListUsersResult>')).toThrow('moto’s ListUsers answer has no <Users>…</Users> element');
    expect(() => splitListUsers('<Users><member><UserName>a</UserName></Users>')).toThrow('moto’s ListUsers answer has a <member> at character 7 that is never closed');
    expect(() => splitListUsers('<Users><user/></Users>')).toThrow('moto’s ListUsers answer holds something other than <member> in <Users>, at character 7');
  });
});

describe('pageSize', () => {
  it('is IAM’s: 100 when MaxItems is unset, MaxItems up to 1,000, never more', () => {
    expect([pageSize(undefined), pageSize(1), pageSize(250), pageSize(1000), pageSize(1001), pageSize(5000)]).toEqual([IAM_DEFAULT_PAGE, 1, 250, 1000, IAM_MAX_PAGE, IAM_MAX_PAGE]);
    expect([IAM_DEFAULT_PAGE, IAM_MAX_PAGE]).toEqual([100, 1000]);
  });
});

describe('BenchTransport’s ListUsers paging at the wire, on a real IAMClient over an answer as moto gives it', () => {
  const USERS = 2500;
  let requests: string[];
  let seenBySdk: string[];
  let made: IAMClient[] = [];

  /** An IAM client whose HTTP handler answers like moto (all users at once); a spy records each body the SDK's parser is given. */
  const client = (model: TransportModel = { ...MOTO_TRANSPORT, name: 'paging', iamPaging: true }) => {
    const transport = new BenchTransport(model, { sleep: async () => undefined });
    const iam = new IAMClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 1,
      requestHandler: {
        handle: async (request: { body?: unknown }) => {
          requests.push(String(request.body));
          const body = Buffer.from(motoListUsers(USERS));
          return { response: { statusCode: 200, headers: { 'content-type': 'text/xml', 'content-length': String(body.length), 'x-amzn-requestid': 'moto-request' }, body: Readable.from([body]) } };
        },
      },
    });
    transport.attach(iam, 'iam');
    (iam.middlewareStack as unknown as { addRelativeTo: (mw: unknown, o: object) => void }).addRelativeTo(
      (next: (a: unknown) => Promise<{ response: { body: unknown } }>) => async (args: unknown) => {
        const out = await next(args);
        const chunks: Buffer[] = [];
        for await (const c of out.response.body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
        const text = Buffer.concat(chunks).toString('utf8');
        seenBySdk.push(text);
        out.response.body = Buffer.from(text);
        return out;
      },
      { relation: 'after', toMiddleware: 'deserializerMiddleware', name: 'spyOnWhatTheSdkParses' },
    );
    made.push(iam);
    return { transport, iam };
  };
  const listAll = async (iam: IAMClient, maxItems?: number) => {
    const pages: ListUsersCommandOutput[] = [];
    let marker: string | undefined;
    do {
      const page = await iam.send(new ListUsersCommand({ ...(maxItems !== undefined ? { MaxItems: maxItems } : {}), ...(marker ? { Marker: marker } : {}) }));
      pages.push(page);
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return pages;
  };
  const members = (xml: string) => xml.split('<member>').length - 1;
  const allNames = Array.from({ length: USERS }, (_, i) => `u-${String(i).padStart(4, '0')}`);

  beforeEach(() => {
    requests = [];
    seenBySdk = [];
  });
  afterEach(() => {
    for (const c of made) c.destroy();
    made = [];
  });

  it('without MaxItems: pages of 100 in moto’s order, every user exactly once, one request to moto', async () => {
    const { transport, iam } = client();
    const pages = await listAll(iam);
    expect(pages.map((p) => p.Users?.length)).toEqual(Array.from({ length: 25 }, () => 100));
    expect(pages.flatMap((p) => (p.Users ?? []).map((u) => u.UserName))).toEqual(allNames);
    expect(pages.map((p) => p.IsTruncated)).toEqual([...Array.from({ length: 24 }, () => true), false]);
    expect(pages[24]?.Marker).toBeUndefined();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toContain('Action=ListUsers');
    expect(transport.counts().operations['iam:ListUsers']).toEqual({ attempts: 25, throttled: 0, forwarded: 1, paged: 24, motoMs: expect.any(Number) });
  });

  it('MaxItems is honoured up to IAM’s 1,000, and never more: 2,500 users come as 1,000, 1,000, 500', async () => {
    for (const [maxItems, sizes] of [
      [1000, [1000, 1000, 500]],
      [5000, [1000, 1000, 500]],
      [700, [700, 700, 700, 400]],
    ] as const) {
      const { iam } = client();
      const pages = await listAll(iam, maxItems);
      expect({ maxItems, sizes: pages.map((p) => p.Users?.length) }).toEqual({ maxItems, sizes });
      expect(pages.flatMap((p) => (p.Users ?? []).map((u) => u.UserName))).toEqual(allNames);
    }
  });

  it('the SDK parses only one page per call, in IAM’s shape: Users, then IsTruncated, then the Marker when truncated', async () => {
    const { iam } = client();
    await listAll(iam, 1000);
    expect(seenBySdk.map(members)).toEqual([1000, 1000, 500]);
    const shape = /^<ListUsersResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><ListUsersResult><Users>(<member>.*?<\/member>)+<\/Users><IsTruncated>(true<\/IsTruncated><Marker>[^<]+<\/Marker>|false<\/IsTruncated>)<\/ListUsersResult><ResponseMetadata><RequestId>[^<]+<\/RequestId><\/ResponseMetadata><\/ListUsersResponse>$/s;
    for (const body of seenBySdk) expect(body).toMatch(shape);
    expect(seenBySdk.map((b) => b.includes('<IsTruncated>true</IsTruncated>'))).toEqual([true, true, false]);
    expect(seenBySdk[0]).toContain('<RequestId>moto-request</RequestId>'); // the first page is moto's answer, cut
    seenBySdk = [];
    await listAll(iam);
    expect(Math.max(...seenBySdk.map(members))).toBe(100);
  });

  it('a Marker comes back to the page after it, again if asked twice, and is refused once the listing is done', async () => {
    const { transport, iam } = client();
    const first = await iam.send(new ListUsersCommand({ MaxItems: 1000 }));
    const marker = first.Marker as string;
    const second = await iam.send(new ListUsersCommand({ MaxItems: 1000, Marker: marker }));
    const again = await iam.send(new ListUsersCommand({ MaxItems: 1000, Marker: marker }));
    expect([second.Users?.[0]?.UserName, again.Users?.[0]?.UserName, second.Users?.length]).toEqual(['u-1000', 'u-1000', 1000]);
    expect(second.Marker).toBe(again.Marker);
    const last = await iam.send(new ListUsersCommand({ MaxItems: 1000, Marker: second.Marker as string }));
    expect({ first: last.Users?.[0]?.UserName, n: last.Users?.length, truncated: last.IsTruncated, marker: last.Marker }).toEqual({ first: 'u-2000', n: 500, truncated: false, marker: undefined });
    await expect(iam.send(new ListUsersCommand({ Marker: marker }))).rejects.toThrow(`the IAM paging model does not know Marker ${JSON.stringify(marker)}`);
    expect(requests).toHaveLength(1);
    expect(transport.counts().operations['iam:ListUsers']).toMatchObject({ attempts: 5, forwarded: 1, paged: 3 });
  });

  it('with paging off, moto’s one answer reaches the SDK as it is', async () => {
    const { transport, iam } = client(MOTO_TRANSPORT);
    const page = await iam.send(new ListUsersCommand({ MaxItems: 100 }));
    expect({ n: page.Users?.length, truncated: page.IsTruncated, parsed: seenBySdk.map(members) }).toEqual({ n: USERS, truncated: false, parsed: [USERS] });
    expect(transport.counts().operations['iam:ListUsers']).toMatchObject({ attempts: 1, forwarded: 1, paged: 0 });
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
