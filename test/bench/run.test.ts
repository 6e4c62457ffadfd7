/**
 * The benchmark's command line: defaults that measure the target scenario, and a named
 * error for every bad value, naming the option, the value and what is allowed.
 */
import { parseCli } from '../../bench/run';
import { MOTO_TRANSPORT, THROTTLED_TRANSPORT } from '../../bench/transport';
import { InvalidParameterError, KeyageError } from '../../lib/errors';

describe('parseCli', () => {
  const saved = process.env.KEYAGE_MOTO_ENDPOINT;
  beforeEach(() => {
    delete process.env.KEYAGE_MOTO_ENDPOINT;
  });
  afterAll(() => {
    if (saved !== undefined) process.env.KEYAGE_MOTO_ENDPOINT = saved;
  });

  it('defaults to the target scenario: 5,000 users, 1%, both transports, both strategies, isolated runs', () => {
    expect(parseCli([])).toEqual({
      users: [5000],
      nonCompliant: [0.01],
      transports: [MOTO_TRANSPORT, THROTTLED_TRANSPORT],
      strategies: ['keyage', 'baseline'],
      change: true,
      extras: true,
      isolate: true,
      seedConcurrency: 8,
      workerNodeArgs: [],
    });
  });

  it('reads lists, percentages and the throttled transport’s model', () => {
    const opts = parseCli(['--users', '100,1000', '--noncompliant', '1%,0.2', '--transport', 'throttled', '--latency-ms', '5', '--iam-rps', '20', '--paging', 'off', '--endpoint', 'http://127.0.0.1:1']);
    expect(opts).toMatchObject({
      users: [100, 1000],
      nonCompliant: [0.01, 0.2],
      transports: [{ ...THROTTLED_TRANSPORT, latencyMs: 5, iamRps: 20, iamBurst: 20, iamPaging: false }],
      endpoint: 'http://127.0.0.1:1',
    });
  });

  it('leaves moto unpaged unless --moto-paging on, which pages ListUsers as IAM does and changes nothing else', () => {
    expect(parseCli(['--transport', 'moto'])).toMatchObject({ transports: [MOTO_TRANSPORT] });
    expect(MOTO_TRANSPORT.iamPaging).toBe(false);
    expect(parseCli(['--transport', 'moto', '--moto-paging', 'on'])).toMatchObject({ transports: [{ ...MOTO_TRANSPORT, iamPaging: true }] });
  });

  it.each([
    [['--moto-paging', 'yes'], 'Invalid value for parameter --moto-paging: "yes". Allowed: on or off.'],
    [['--users', '6000'], 'Invalid value for parameter --users: "6000". Allowed: whole numbers from 1 to 5000, comma-separated.'],
    [['--noncompliant', '120%'], 'Invalid value for parameter --noncompliant: "120%". Allowed: shares from 0 to 1 (0.01) or percentages (1%), comma-separated.'],
    [['--transport', 'aws'], 'Invalid value for parameter --transport: "aws". Allowed: moto, throttled.'],
    [['--strategies', 'fast'], 'Invalid value for parameter --strategies: "fast". Allowed: keyage, baseline.'],
    [['--latency-ms=-1'], 'Invalid value for parameter --latency-ms: "-1". Allowed: a number from 0 to 10000.'],
    [['--isolate', 'maybe'], 'Invalid value for parameter --isolate: "maybe". Allowed: on or off.'],
  ])('%j is refused with a named error', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(InvalidParameterError);
    expect(() => parseCli(argv)).toThrow(message);
  });

  it('an unknown option is refused with a named error that points to --help', () => {
    let err: unknown;
    try {
      parseCli(['--userz', '5']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KeyageError);
    expect((err as KeyageError).code).toBe('InvalidParameterValue');
    expect((err as Error).message).toMatch(/^Unknown option '--userz'.*\(see npm run bench -- --help\)$/s);
  });
});
