/**
 * The organization benchmark: its command line (defaults measure the scenario, bad
 * values are named errors), its verdict check, and one small real run against moto_server whose
 * verdicts must all be right and whose every account must be audited.
 */
import {
  formatOrganizationBench,
  type OrganizationBenchJson,
  type OrganizationPopulation,
  type OrganizationRun,
  parseOrganizationCli,
  runOrganizationJob,
  seedOrganization,
  verdictMismatches,
} from '../../bench/organization';
import { MOTO_TRANSPORT, THROTTLED_TRANSPORT } from '../../bench/transport';
import { InvalidParameterError } from '../../lib/errors';
import { describeWithMoto, motoEndpoint } from '../harness/moto';

describe('parseOrganizationCli', () => {
  const saved = process.env.KEYAGE_MOTO_ENDPOINT;
  beforeEach(() => {
    delete process.env.KEYAGE_MOTO_ENDPOINT;
  });
  afterAll(() => {
    if (saved !== undefined) process.env.KEYAGE_MOTO_ENDPOINT = saved;
  });

  it('defaults to the issue\'s scenario: 50 accounts × 200 users, both transports, one after another and 8 at once', () => {
    expect(parseOrganizationCli([])).toEqual({
      accounts: 50,
      users: 200,
      nonCompliantShare: 0.01,
      transports: [MOTO_TRANSPORT, THROTTLED_TRANSPORT],
      concurrency: [1, 8],
      seedConcurrency: 8,
      isolate: true,
    });
  });

  it.each([
    [['--accounts', '0'], 'Invalid value for parameter --accounts: "0". Allowed: a whole number from 1 to 200.'],
    [['--concurrency', '1,64'], 'Invalid value for parameter --concurrency: "64". Allowed: a whole number from 1 to 32.'],
    [['--transport', 'aws'], 'Invalid value for parameter --transport: "aws". Allowed: moto, throttled.'],
    [['--noncompliant', '150%'], 'Invalid value for parameter --noncompliant: "150%"'],
  ])('%j is refused with a named error', (argv, message) => {
    expect(() => parseOrganizationCli(argv)).toThrow(InvalidParameterError);
    expect(() => parseOrganizationCli(argv)).toThrow(message);
  });
});

describe('verdictMismatches', () => {
  const population = { accounts: [{ accountId: '222222222222', name: 'a', expected: { u1: 'COMPLIANT', u2: 'NON_COMPLIANT' } }] } as unknown as OrganizationPopulation;
  const run = (verdicts: Record<string, Record<string, string>>) => ({ verdicts }) as unknown as OrganizationRun;

  it('finds a wrong verdict, a missing one and an unseeded user; none when all are right', () => {
    expect(verdictMismatches(run({ '222222222222': { u1: 'COMPLIANT', u2: 'NON_COMPLIANT' } }), population)).toEqual([]);
    expect(verdictMismatches(run({ '222222222222': { u1: 'NON_COMPLIANT', x: 'COMPLIANT' } }), population)).toEqual([
      'a/u1: expected COMPLIANT, got NON_COMPLIANT',
      'a/u2: expected NON_COMPLIANT, got no verdict',
      'a/x: not seeded',
    ]);
  });
});

describeWithMoto('the organization benchmark against moto_server', () => {
  it('seeds an organization and audits every account of it, every verdict right, the calls counted', async () => {
    const population = await seedOrganization(motoEndpoint as string, { accounts: 2, users: 10, nonCompliantShare: 0.2, concurrency: 4 });
    expect(population.accounts).toHaveLength(2);
    const run = await runOrganizationJob({ management: population.management, transport: MOTO_TRANSPORT, concurrency: 2, now: population.now, maxAccessKeyAgeDays: 90 });
    expect(run).toMatchObject({ ok: true, accountsAudited: 3, accountsNotAudited: 0, users: 20, stsCalls: 3, organizationsCalls: 1 });
    expect(verdictMismatches(run, population)).toEqual([]);
    // one GetAccountAuthorizationDetails and one GetAccountSummary per account, one ListAccessKeys per user
    expect(run.iamOperations['iam:GetAccountAuthorizationDetails']?.attempts).toBe(3);
    expect(run.iamOperations['iam:GetAccountSummary']?.attempts).toBe(3);
    expect(run.iamOperations['iam:ListAccessKeys']?.attempts).toBe(20);
    const json = { accounts: 2, usersPerAccount: 10, nonCompliantShare: 0.2, nonCompliantUsers: 4, seedMs: population.seedMs, seedCalls: population.seedCalls, runs: [{ ...run, verdictMismatches: 0, verdictMismatchExamples: [] }] };
    expect(formatOrganizationBench(json as unknown as OrganizationBenchJson)).toMatch(/^moto\s+2\s+3\s+\d+\s+20\s/m);
  }, 60_000);
});
