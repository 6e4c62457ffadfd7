/**
 * The rule's scheduled sweep of 1,000 IAM users in moto_server, with faults injected into the
 * real SDK clients: throttling, 500s, connection resets and slow answers on IAM and Config,
 * before the request reaches the service or after it took effect. Whatever happens, every user
 * gets at most one verdict, that verdict is the one the fault-free run gave, and a user that
 * could not be decided gets none — never a guess.
 *
 * moto cannot backdate keys, so `now` is 91 days ahead: every active key is stale; one test
 * moves it back to the day after seeding to run the report-only COMPLIANT path (young keys).
 * moto records no evaluations outside TestMode, so the cleanup path (a real result token) runs
 * against an evaluation store served at the wire, behind the same fault injector.
 */
import { ConfigServiceClient, type Evaluation, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { AwsCallError, DeadlineExceededError, EvaluationDeliveryError, KeyageError } from '../../lib/errors';
import { createLogger } from '../../lib/log';
import { createHandler, type RuleDependencies, type RuleInvocationResult } from '../../rules/access-key-age/handler';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { fakeContext } from '../harness/context';
import { ConfigEvaluationStore, type StoredEvaluation } from '../harness/config-store';
import { changeEvent, RULE_NAME, scheduledEvent, userConfigurationItem } from '../harness/events';
import { FaultInjector, type FaultRule } from '../harness/faults';
import { describeWithMoto, type MotoAccount, newMotoAccount } from '../harness/moto';
import { recordCommands } from '../harness/record';
import { EXEMPTION_TAG, expectedCompliance, freshClients, inPool, type Population, seedPopulation } from './population';

const USERS = 1000;
const SEED = 20_261_125;
const FAULT_RATE = 0.2;

/** 20% of every IAM and Config call fails or is slow; one call is never hit more than 4 times in a row. */
const RANDOM_FAULTS: FaultRule = {
  service: ['iam', 'config'],
  rate: FAULT_RATE,
  kinds: { throttle: 4, 'server-error': 3, 'connection-reset': 2, slow: 1 },
  timing: 'mixed',
  slowMs: [2, 10],
  maxConsecutive: 4,
};

/** The first PutEvaluations is delivered but its answer is lost; the retry is throttled once. */
const LOST_PUT_ANSWER: readonly FaultRule[] = [
  { service: 'config', operation: 'PutEvaluations', kinds: { 'connection-reset': 1 }, timing: 'after', times: 1 },
  { service: 'config', operation: 'PutEvaluations', kinds: { throttle: 1 }, timing: 'before', times: 1 },
];

interface LogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

interface SweepRun {
  result?: RuleInvocationResult;
  error?: unknown;
  injector: FaultInjector;
  /** Every PutEvaluations attempt the client sent (the recorder sits before the injector). */
  recordedPuts: number;
  /** Evaluations in PutEvaluations calls whose answer reached the rule: what the rule knows Config took. */
  acknowledged: Evaluation[];
  /** Evaluations that reached Config, including those whose answer was lost. */
  delivered: Evaluation[];
  lines: LogLine[];
  ms: number;
}

type Verdicts = Map<string, { compliance: string; annotation: string; orderingTimestamp: string }>;

function verdictsOf(evaluations: readonly Evaluation[]): Verdicts {
  return new Map(
    evaluations.map((e) => [
      e.ComplianceResourceId as string,
      { compliance: String(e.ComplianceType), annotation: String(e.Annotation), orderingTimestamp: new Date(e.OrderingTimestamp as Date).toISOString() },
    ]),
  );
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of items) out.set(key(i), (out.get(key(i)) ?? 0) + 1);
  return out;
}

describeWithMoto('the scheduled sweep of 1,000 users under injected faults', () => {
  /** The decision clock: 91 days after the last key was created (set once seeding is done). */
  let now: Date;
  let account: MotoAccount;
  let population: Population;
  let baseline: SweepRun;
  let baselineVerdicts: Verdicts;
  const byName = new Map<string, Population['users'][number]>();
  /** Figures printed once at the end (docs/reliability.md quotes them). */
  const figures: Record<string, unknown> = {};

  async function runSweep(
    options: {
      rules?: readonly FaultRule[];
      seed?: number;
      delay?: (ms: number) => Promise<void>;
      context?: ReturnType<typeof fakeContext>;
      deps?: Partial<RuleDependencies>;
      refuse?: string;
      /** The decision clock of this run. @default `now` (91 days ahead) */
      at?: Date;
      /** Config that remembers: a real result token, answered by this store behind the faults. */
      store?: ConfigEvaluationStore;
      notificationCreationTime?: string;
    } = {},
  ): Promise<SweepRun> {
    const clients = freshClients(account);
    if (options.refuse) refuseEvaluationOf(clients.config, options.refuse);
    const injector = new FaultInjector({ seed: options.seed ?? SEED, rules: options.rules ?? [], ...(options.delay ? { delay: options.delay } : {}) });
    const recorded = recordCommands(clients.config);
    injector.attach(clients.iam, 'iam');
    injector.attach(clients.config, 'config');
    // Added after the injector, so it answers inside it: a fault "after" loses the store's answer.
    options.store?.serve(clients.config);
    const lines: LogLine[] = [];
    const log = createLogger({ level: 'info', sink: (l) => lines.push(JSON.parse(l) as LogLine) });
    const at = options.at ?? now;
    const rule = createHandler({ iam: clients.iam, config: clients.config, now: () => at, log, sleep: async () => undefined, ...options.deps });
    const started = Date.now();
    const run: SweepRun = { injector, recordedPuts: 0, acknowledged: [], delivered: [], lines, ms: 0 };
    try {
      const event = scheduledEvent(
        { ExemptionTag: EXEMPTION_TAG },
        {
          accountId: account.accountId,
          ...(options.store ? { resultToken: `token-${options.seed ?? SEED}` } : {}),
          ...(options.notificationCreationTime ? { notificationCreationTime: options.notificationCreationTime } : {}),
        },
      );
      run.result = await rule(event, options.context);
    } catch (err) {
      run.error = err;
    } finally {
      run.ms = Date.now() - started;
      clients.iam.destroy();
      clients.config.destroy();
    }
    const puts = injector.calls.filter((c) => c.operation === 'PutEvaluations');
    run.recordedPuts = recorded.filter((c) => c.commandName === 'PutEvaluationsCommand').length;
    run.acknowledged = puts.filter((c) => c.outcome === 'ok').flatMap((c) => (c.input.Evaluations as Evaluation[] | undefined) ?? []);
    run.delivered = puts.filter((c) => c.reachedService).flatMap((c) => (c.input.Evaluations as Evaluation[] | undefined) ?? []);
    return run;
  }

  /** Each user at most once among acknowledged evaluations, and any lost-answer copy identical. */
  function expectNoDuplicate(run: SweepRun): void {
    const perUser = countBy(run.acknowledged, (e) => String(e.ComplianceResourceId));
    expect([...perUser.values()].filter((n) => n !== 1)).toEqual([]);
    const acknowledged = verdictsOf(run.acknowledged);
    for (const e of run.delivered) expect(verdictsOf([e]).get(String(e.ComplianceResourceId))).toEqual(acknowledged.get(String(e.ComplianceResourceId)));
  }

  /** Every verdict given matches the fault-free run's verdict for that user. */
  function expectSameAsBaseline(evaluations: readonly Evaluation[]): void {
    const mismatched = [...verdictsOf(evaluations)].filter(([id, v]) => JSON.stringify(baselineVerdicts.get(id)) !== JSON.stringify(v));
    expect(mismatched).toEqual([]);
  }

  const retriesLogged = (run: SweepRun) => run.lines.filter((l) => l.message === 'AWS call retried').length;
  const failingFaults = (run: SweepRun) => run.injector.injected.filter((f) => f.kind !== 'slow' && f.kind !== 'action').length;

  beforeAll(async () => {
    account = await newMotoAccount();
    population = await seedPopulation(account, USERS);
    for (const u of population.users) byName.set(u.userName, u);
    now = new Date(Date.now() + 91 * DAY_MS);
    baseline = await runSweep();
    baselineVerdicts = verdictsOf(baseline.acknowledged);
    figures.seeding = { users: USERS, iamCalls: population.seedCalls, ms: population.seedMs };
    figures.baseline = { ms: baseline.ms, iamCalls: baseline.result?.iamCalls, configCalls: baseline.result?.configCalls };
  }, 180_000);

  afterAll(() => {
    account?.iam.destroy();
    account?.config.destroy();
    process.stdout.write(`[keyage reliability] sweep figures ${JSON.stringify(figures)}\n`);
  });

  it('the fault-free sweep gives each of the 1,000 users the verdict its keys call for, in 10 PutEvaluations', () => {
    expect(baseline.error).toBeUndefined();
    expect(baseline.acknowledged).toHaveLength(USERS);
    expect(baseline.injector.calls.filter((c) => c.operation === 'PutEvaluations')).toHaveLength(10);
    const wrong = population.users.filter((u) => baselineVerdicts.get(u.userId)?.compliance !== expectedCompliance(u.profile)).map((u) => ({ ...u, got: baselineVerdicts.get(u.userId) }));
    expect(wrong).toEqual([]);
    expect(baseline.result).toMatchObject({ evaluations: USERS, nonCompliant: 400, compliant: 400, notApplicable: 200 });
    expect(baseline.injector.injected).toEqual([]);
  });

  it('with 20% of IAM and Config calls failing or slow, every user gets exactly one evaluation, identical to the fault-free run', async () => {
    const run = await runSweep({ rules: [...LOST_PUT_ANSWER, RANDOM_FAULTS] });

    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ evaluations: USERS, nonCompliant: 400, compliant: 400, notApplicable: 200 });
    expectNoDuplicate(run);
    expect(verdictsOf(run.acknowledged)).toEqual(baselineVerdicts);
    // A batch whose answer was lost reached Config twice, identically: a re-send, not a second
    // verdict. (A slow answer is not lost, so it causes no re-send.)
    const lostAnswers = run.injector.injected.filter((f) => f.operation === 'PutEvaluations' && f.timing === 'after' && f.kind !== 'slow').length;
    expect(lostAnswers).toBeGreaterThanOrEqual(1);
    expect(run.delivered.length).toBe(USERS + 100 * lostAnswers);

    // Every kind of fault happened, on both services, both before and after the service acted.
    const s = run.injector.stats;
    for (const kind of ['throttle', 'server-error', 'connection-reset', 'slow'] as const) expect(s.byKind[kind]).toBeGreaterThan(0);
    expect(s.byTiming.before).toBeGreaterThan(0);
    expect(s.byTiming.after).toBeGreaterThan(0);
    expect(run.injector.count(undefined, 'config:PutEvaluations')).toBeGreaterThanOrEqual(2);
    expect(run.injector.count(undefined, 'iam:ListAccessKeys')).toBeGreaterThan(100);
    const observedRate = run.injector.injected.length / s.calls;
    expect(observedRate).toBeGreaterThan(0.15);
    expect(observedRate).toBeLessThan(0.25);
    // Each failed call was retried once, and only failed calls were: nothing swallowed, nothing guessed.
    expect(retriesLogged(run)).toBe(failingFaults(run));
    expect(run.result?.iamCalls).toBe(run.injector.calls.filter((c) => c.service === 'iam').length);
    expect(run.result?.configCalls).toBe(run.injector.calls.filter((c) => c.service === 'config').length);
    expect(run.recordedPuts).toBe(run.injector.calls.filter((c) => c.operation === 'PutEvaluations').length);

    figures.faults20 = {
      seed: SEED,
      ms: run.ms,
      calls: s.calls,
      injected: run.injector.injected.length,
      observedRate: Number(observedRate.toFixed(3)),
      byKind: s.byKind,
      byTiming: s.byTiming,
      retries: retriesLogged(run),
      iamCalls: run.result?.iamCalls,
      configCalls: run.result?.configCalls,
      putEvaluationsDelivered: run.delivered.length,
    };
  }, 120_000);

  it('with a fresh credential report and the same faults, the verdicts are the same and users without keys cost no ListAccessKeys', async () => {
    // moto stamps every report 2015-02-02; accept it as fresh so the report path is taken.
    const run = await runSweep({ rules: [...LOST_PUT_ANSWER, RANDOM_FAULTS], seed: SEED + 1, deps: { maxReportAgeMs: Number.POSITIVE_INFINITY } });

    expect(run.error).toBeUndefined();
    expectNoDuplicate(run);
    const got = verdictsOf(run.acknowledged);
    expect(got.size).toBe(USERS);
    expect(population.users.filter((u) => got.get(u.userId)?.compliance !== baselineVerdicts.get(u.userId)?.compliance)).toEqual([]);
    const readLive = new Set(run.injector.calls.filter((c) => c.operation === 'ListAccessKeys').map((c) => String(c.input.UserName)));
    expect([...readLive].filter((name) => byName.get(name)?.profile === 'no-keys')).toEqual([]);
    expect(run.injector.calls.some((c) => c.operation === 'GetCredentialReport' && c.outcome === 'ok')).toBe(true);
    expect(retriesLogged(run)).toBe(failingFaults(run));
    figures.faults20Report = { seed: SEED + 1, ms: run.ms, calls: run.injector.stats.calls, injected: run.injector.injected.length, byKind: run.injector.stats.byKind, usersReadLive: readLive.size };
  }, 120_000);

  it('young keys under 20% faults: the report-only COMPLIANT path gives the fault-free verdicts, with no ListAccessKeys at all', async () => {
    // The day after seeding: every key is a day old, so the credential report alone decides.
    const young = new Date(Date.now() + DAY_MS);
    const fresh = { maxReportAgeMs: Number.POSITIVE_INFINITY };
    const clean = await runSweep({ at: young, deps: fresh });
    const run = await runSweep({ at: young, deps: fresh, rules: [...LOST_PUT_ANSWER, RANDOM_FAULTS], seed: SEED + 7 });

    expect(clean.error).toBeUndefined();
    expect(clean.result).toMatchObject({ evaluations: USERS, compliant: 800, nonCompliant: 0, notApplicable: 200 });
    expect(run.error).toBeUndefined();
    expectNoDuplicate(run);
    expect(verdictsOf(run.acknowledged)).toEqual(verdictsOf(clean.acknowledged));
    // Exempt users are NOT_APPLICABLE; everyone else COMPLIANT on the report alone.
    const got = verdictsOf(run.acknowledged);
    expect(population.users.filter((u) => got.get(u.userId)?.compliance !== (u.profile === 'exempt-active' ? 'NOT_APPLICABLE' : 'COMPLIANT'))).toEqual([]);
    for (const r of [clean, run]) expect(r.injector.calls.filter((c) => c.operation === 'ListAccessKeys')).toEqual([]);
    expect(run.injector.calls.some((c) => c.operation === 'GetCredentialReport' && c.outcome === 'ok')).toBe(true);
    expect(run.injector.injected.filter((f) => f.kind !== 'slow').length).toBeGreaterThan(0);
    expect(retriesLogged(run)).toBe(failingFaults(run));
    figures.faults20Young = { seed: SEED + 7, ms: run.ms, calls: run.injector.stats.calls, injected: run.injector.injected.length, byKind: run.injector.stats.byKind };
  }, 120_000);

  it('the cleanup path with a real result token under 20% faults: Config ends holding exactly the fault-free verdicts, deleted users cleared, and a second sweep records nothing', async () => {
    const store = new ConfigEvaluationStore(RULE_NAME, () => new Date());
    // What Config holds from yesterday: every user's verdict, 50 of them since changed (the
    // verdict flipped), and 25 users deleted while the rule was not looking.
    const ghosts = Array.from({ length: 25 }, (_, i) => `AIDAGHOST${String(i).padStart(12, '0')}`);
    const changed = new Set(population.users.filter((_, i) => i % 20 === 3).map((u) => u.userId));
    const flip = (c: string) => (c === 'COMPLIANT' ? 'NON_COMPLIANT' : 'COMPLIANT');
    const yesterday = [
      ...[...baselineVerdicts].map(([id, v]) => ({ id, compliance: changed.has(id) ? flip(v.compliance) : v.compliance, annotation: v.annotation })),
      ...ghosts.map((id, i) => ({ id, compliance: i % 2 === 0 ? 'NON_COMPLIANT' : 'COMPLIANT', annotation: 'An earlier verdict.' })),
    ];
    const seedClient = new ConfigServiceClient({ region: account.region, credentials: account.credentials, endpoint: account.endpoint });
    store.serve(seedClient);
    try {
      for (let i = 0; i < yesterday.length; i += 100) {
        await seedClient.send(
          new PutEvaluationsCommand({
            ResultToken: 'yesterday',
            Evaluations: yesterday.slice(i, i + 100).map((e) => ({
              ComplianceResourceType: 'AWS::IAM::User',
              ComplianceResourceId: e.id,
              ComplianceType: e.compliance as 'COMPLIANT',
              Annotation: e.annotation,
              OrderingTimestamp: new Date('2026-11-24T12:00:00.000Z'),
            })),
          }),
        );
      }
    } finally {
      seedClient.destroy();
    }
    expect(changed.size).toBe(50);
    expect(store.recorded).toBe(USERS + ghosts.length);

    // Besides the random faults: the first page of the read loses its answer, the next is throttled once.
    const lostRead: FaultRule[] = [
      { service: 'config', operation: 'GetComplianceDetailsByConfigRule', kinds: { 'connection-reset': 1 }, timing: 'after', times: 1 },
      { service: 'config', operation: 'GetComplianceDetailsByConfigRule', kinds: { throttle: 1 }, timing: 'before', times: 1 },
    ];
    const first = await runSweep({ rules: [...lostRead, ...LOST_PUT_ANSWER, RANDOM_FAULTS], seed: SEED + 8, store });
    expect(first.error).toBeUndefined();
    // Exactly what changed was put: the 50 flipped verdicts and the 25 deleted users, each once.
    expectNoDuplicate(first);
    expect(first.acknowledged.map((e) => String(e.ComplianceResourceId)).sort()).toEqual([...changed, ...ghosts].sort());
    const held = store.snapshot();
    const want = new Map<string, { compliance: string; annotation: string }>([
      ...[...baselineVerdicts].map(([id, v]) => [id, { compliance: v.compliance, annotation: v.annotation }] as const),
      ...ghosts.map((id) => [id, { compliance: 'NOT_APPLICABLE', annotation: 'The user no longer exists in IAM.' }] as const),
    ]);
    const shown = (e: StoredEvaluation | undefined) => (e ? { compliance: e.compliance, annotation: e.annotation } : undefined);
    expect([...want].filter(([id, v]) => JSON.stringify(shown(held.get(id))) !== JSON.stringify(v))).toEqual([]);
    expect(held.size).toBe(USERS + ghosts.length);
    // The read (11 pages) was under fault too, and was retried, not skipped or cut short.
    expect(first.injector.injected.filter((f) => f.operation === 'GetComplianceDetailsByConfigRule' && f.kind !== 'slow').length).toBeGreaterThanOrEqual(2);
    expect(first.injector.calls.filter((c) => c.operation === 'GetComplianceDetailsByConfigRule' && c.outcome === 'ok')).toHaveLength(Math.ceil((USERS + ghosts.length) / 100));
    expect(retriesLogged(first)).toBe(failingFaults(first));

    // The next day nothing changed: under faults again, nothing is recorded and Config holds the same.
    const recordedBefore = store.recorded;
    const second = await runSweep({ rules: [RANDOM_FAULTS], seed: SEED + 9, store, notificationCreationTime: '2026-11-26T12:00:00.000Z' });
    expect(second.error).toBeUndefined();
    expect(store.recorded).toBe(recordedBefore);
    expect([...store.snapshot()].map(([id, e]) => [id, shown(e)])).toEqual([...held].map(([id, e]) => [id, shown(e)]));
    figures.faults20Cleanup = {
      seed: SEED + 8,
      ms: first.ms,
      calls: first.injector.stats.calls,
      injected: first.injector.injected.length,
      recordedFirst: recordedBefore - USERS - ghosts.length,
      recordedSecond: store.recorded - recordedBefore,
    };
  }, 120_000);

  it('a ListAccessKeys that fails past the retry budget stops the sweep with AwsCallError after the verdicts reached are put; the rest get none', async () => {
    const victim = 'user-0613';
    const run = await runSweep({
      rules: [{ service: 'iam', operation: 'ListAccessKeys', match: (c) => c.input.UserName === victim, kinds: { throttle: 1 } }, RANDOM_FAULTS],
      seed: SEED + 2,
    });

    expect(run.error).toBeInstanceOf(AwsCallError);
    expect(run.error).toMatchObject({ operation: 'iam:ListAccessKeys', attempts: 8, message: 'iam:ListAccessKeys failed after 8 attempts: Rate exceeded' });
    expect(run.injector.injected.filter((f) => f.input.UserName === victim)).toHaveLength(8);

    expectNoDuplicate(run);
    expectSameAsBaseline(run.acknowledged);
    const got = verdictsOf(run.acknowledged);
    const victimId = (byName.get(victim) as { userId: string }).userId;
    expect(got.has(victimId)).toBe(false);
    // The sweep reads users in ListUsers order (the order of the fault-free run's evaluations).
    const order = baseline.acknowledged.map((e) => String(e.ComplianceResourceId));
    const exempt = new Set(population.users.filter((u) => u.profile === 'exempt-active').map((u) => u.userId));
    const victimAt = order.indexOf(victimId);
    expect(victimAt).toBeGreaterThan(0);
    // Everyone read before the failure was put; exempt users need no IAM read and are put too.
    expect(order.slice(0, victimAt).filter((id) => !got.has(id))).toEqual([]);
    expect([...exempt].filter((id) => !got.has(id))).toEqual([]);
    // After it, at most the reads already in flight (concurrency 4) were decided.
    expect(order.slice(victimAt + 1).filter((id) => !exempt.has(id) && got.has(id)).length).toBeLessThanOrEqual(3);
    const incomplete = run.lines.find((l) => l.message === 'sweep incomplete; putting the verdicts reached before the failure');
    expect(incomplete).toMatchObject({ level: 'error', decided: got.size, notEvaluated: USERS - got.size });
    expect(run.lines.at(-1)).toMatchObject({ level: 'error', errorType: 'AwsCallFailed' });
    figures.pastBudgetIam = { seed: SEED + 2, ms: run.ms, put: got.size, notEvaluated: USERS - got.size, attemptsOnVictim: 8 };
  }, 120_000);

  it('a PutEvaluations batch that fails past the retry budget fails the invocation with a named error; the other batches are still delivered', async () => {
    const victimId = (byName.get('user-0250') as { userId: string }).userId;
    const run = await runSweep({
      rules: [{ service: 'config', operation: 'PutEvaluations', match: (c) => holds(c, victimId), kinds: { 'server-error': 1 } }, RANDOM_FAULTS],
      seed: SEED + 3,
    });

    expect(run.error).toBeInstanceOf(AwsCallError);
    expect(run.error).toMatchObject({ operation: 'config:PutEvaluations', attempts: 8, message: expect.stringMatching(/^config:PutEvaluations failed after 8 attempts: An internal error occurred/) });
    expect(run.lines.filter((l) => l.message === 'PutEvaluations failed past the retry budget; sending the other batches')).toHaveLength(1);
    expectNoDuplicate(run);
    expectSameAsBaseline(run.acknowledged);
    const got = verdictsOf(run.acknowledged);
    expect(got.has(victimId)).toBe(false);
    // Only the batch of 100 that holds the victim is lost; the nine others are delivered.
    expect(got.size).toBe(USERS - 100);
    expect(run.lines.at(-1)).toMatchObject({ level: 'error' });
    figures.pastBudgetConfig = { seed: SEED + 3, ms: run.ms, put: got.size, error: (run.error as KeyageError).code };
  }, 120_000);

  it('Config refusing one batch as FailedEvaluations past every re-send is an EvaluationDeliveryError naming the users, after the others were put', async () => {
    // Not an injected transport fault but Config's own answer; covered here under the 20% faults too.
    const victimId = (byName.get('user-0776') as { userId: string }).userId;
    const run = await runSweep({ rules: [RANDOM_FAULTS], seed: SEED + 4, refuse: victimId });

    expect(run.error).toBeInstanceOf(EvaluationDeliveryError);
    expect((run.error as EvaluationDeliveryError).failed).toEqual([{ resourceId: victimId, complianceType: 'NON_COMPLIANT' }]);
    const others = run.acknowledged.filter((e) => e.ComplianceResourceId !== victimId);
    expect(countBy(others, (e) => String(e.ComplianceResourceId)).size).toBe(USERS - 1);
    expect(others).toHaveLength(USERS - 1);
    expectSameAsBaseline(others);
    // Sent once, then re-sent alone in each of the 4 rounds of FailedEvaluations retries.
    const victimSends = run.injector.calls.filter((c) => c.operation === 'PutEvaluations' && c.outcome === 'ok' && holds(c, victimId));
    expect(victimSends.map((c) => (c.input.Evaluations as Evaluation[]).length)).toEqual([100, 1, 1, 1, 1]);
  }, 120_000);

  it('a Lambda context that runs out mid-sweep: the verdicts reached are put, a clear log line says why it stopped, and DeadlineExceededError is raised', async () => {
    let virtualMs = 0;
    // Every ListAccessKeys answer takes 150 ms of the Lambda's time (or fails); the budget is 90 s, the margin 30 s.
    const context = fakeContext({ remainingMs: 90_000, clock: () => virtualMs });
    const run = await runSweep({
      rules: [{ service: 'iam', operation: 'ListAccessKeys', kinds: { slow: 8, throttle: 1, 'server-error': 1 }, timing: 'mixed', slowMs: [150, 150], maxConsecutive: 4 }, RANDOM_FAULTS],
      seed: SEED + 5,
      delay: async (ms) => {
        virtualMs += ms;
      },
      context,
    });

    expect(run.error).toBeInstanceOf(DeadlineExceededError);
    const err = run.error as DeadlineExceededError;
    expectNoDuplicate(run);
    expectSameAsBaseline(run.acknowledged);
    const got = verdictsOf(run.acknowledged);
    expect(err.evaluated).toBe(got.size);
    expect(err.evaluated + err.remaining).toBe(USERS);
    expect(err.remaining).toBeGreaterThan(0);
    expect(context.getRemainingTimeInMillis()).toBeLessThan(30_000 + 4 * 150);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    const stop = run.lines.filter((l) => l.message === 'stopping the sweep before the Lambda timeout');
    expect(stop).toHaveLength(1);
    expect(stop[0]).toMatchObject({ level: 'warn', notStarted: err.remaining });
    expect(Number(stop[0]?.remainingMs)).toBeLessThan(30_000);
    expect(run.lines.at(-1)).toMatchObject({ level: 'error', errorType: 'DeadlineExceeded' });
    expect(err.message).toBe(`Stopped before the Lambda timeout: ${got.size} user(s) evaluated and put, ${err.remaining} not evaluated in this run; the next scheduled run evaluates them.`);
    figures.deadline = { seed: SEED + 5, ms: run.ms, virtualMsUsed: virtualMs, evaluated: err.evaluated, notEvaluated: err.remaining, injected: run.injector.stats.byKind };
  }, 120_000);

  it('100 change events under 20% faults each put exactly one evaluation, identical to the fault-free verdict', async () => {
    const clients = freshClients(account);
    const injector = new FaultInjector({ seed: SEED + 6, rules: [RANDOM_FAULTS] });
    injector.attach(clients.iam, 'iam');
    injector.attach(clients.config, 'config');
    const rule = createHandler({ iam: clients.iam, config: clients.config, now: () => now, log: createLogger({ level: 'error', sink: () => undefined }), sleep: async () => undefined });
    const sample = population.users.slice(0, 100);
    const started = Date.now();
    try {
      await inPool(sample, 8, async (u) => {
        const ci = userConfigurationItem({ resourceId: u.userId, resourceName: u.userName, awsAccountId: account.accountId, configurationItemCaptureTime: '2026-11-25T12:00:00.000Z' });
        await rule(changeEvent(ci, { ExemptionTag: EXEMPTION_TAG }, { accountId: account.accountId }));
      });
    } finally {
      clients.iam.destroy();
      clients.config.destroy();
    }
    const acknowledged = injector.calls.filter((c) => c.operation === 'PutEvaluations' && c.outcome === 'ok').flatMap((c) => c.input.Evaluations as Evaluation[]);
    expect(acknowledged).toHaveLength(sample.length);
    const got = verdictsOf(acknowledged);
    expect(sample.filter((u) => got.get(u.userId)?.compliance !== expectedCompliance(u.profile))).toEqual([]);
    expect(sample.filter((u) => got.get(u.userId)?.annotation !== baselineVerdicts.get(u.userId)?.annotation)).toEqual([]);
    expect(injector.injected.length).toBeGreaterThan(0);
    figures.changeEvents = { seed: SEED + 6, events: sample.length, ms: Date.now() - started, calls: injector.stats.calls, injected: injector.injected.length, byKind: injector.stats.byKind };
  }, 120_000);

  function holds(c: { input: Record<string, unknown> }, resourceId: string): boolean {
    return ((c.input.Evaluations as Evaluation[] | undefined) ?? []).some((e) => e.ComplianceResourceId === resourceId);
  }

  /** Make Config report the evaluation of `resourceId` as failed, every time (the rest is delivered to moto). */
  function refuseEvaluationOf(config: ConfigServiceClient, resourceId: string): void {
    config.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const input = args.input as { Evaluations?: Evaluation[] };
        const refused = (input.Evaluations ?? []).filter((e) => e.ComplianceResourceId === resourceId);
        if (refused.length > 0) (out.output as { FailedEvaluations?: Evaluation[] }).FailedEvaluations = refused;
        return out;
      },
      { step: 'initialize', name: 'keyageRefuseOneEvaluation' },
    );
  }
});
