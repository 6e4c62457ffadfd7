/**
 * The benchmark at N=100 on both transports, its counters checked three ways: what the code
 * under test says it sent (the handler's counters, the baseline's SDK attempts), what the
 * benchmark's transport middleware counted, and what moto_server actually received (a
 * counting proxy on the wire). Timings are measured, never asserted.
 */
import { runBenchmark, type ScenarioResult } from '../../bench/benchmark';
import type { StrategyRun } from '../../bench/strategies';
import { MOTO_TRANSPORT, THROTTLED_TRANSPORT, total, type TransportModel } from '../../bench/transport';
import { describeWithMoto, motoEndpoint } from '../harness/moto';
import { type CountingProxy, startCountingProxy } from './counting-proxy';

const USERS = 100;
const NON_COMPLIANT = 20;
// Fast enough for a unit run; a bucket of 2 is smaller than keyage's 4 parallel reads. Whether a
// request is throttled depends on timing, so no assertion below depends on it.
const FAST_THROTTLED: TransportModel = { ...THROTTLED_TRANSPORT, latencyMs: 1, iamRps: 100, iamBurst: 2 };

describeWithMoto('the benchmark at 100 users on both transports', () => {
  let proxy: CountingProxy;
  let scenario: ScenarioResult;
  const seenByMoto: { label: string; seen: Map<string, number>; evaluations: number; run: StrategyRun }[] = [];

  beforeAll(async () => {
    proxy = await startCountingProxy(motoEndpoint as string);
    const [only] = await runBenchmark({
      endpoint: proxy.endpoint,
      users: [USERS],
      nonCompliantShares: [NON_COMPLIANT / USERS],
      transports: [MOTO_TRANSPORT, FAST_THROTTLED],
      strategies: ['keyage', 'baseline'],
      change: true,
      hooks: {
        beforeRun: () => proxy.reset(),
        afterRun: (label, run) => {
          seenByMoto.push({ label: `${label.transport}/${label.strategy}`, seen: new Map(proxy.seen), evaluations: proxy.evaluations, run });
        },
      },
    });
    scenario = only as ScenarioResult;
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
  });

  const runOf = (transport: string, strategy: string) => {
    const r = scenario.runs.find((x) => x.transport === transport && x.strategy === strategy);
    if (!r) throw new Error(`no ${transport}/${strategy} run`);
    return r;
  };
  const motoSaw = (transport: string, strategy: string) => {
    const s = seenByMoto.find((x) => x.label === `${transport}/${strategy}`);
    if (!s) throw new Error(`no moto record for ${transport}/${strategy}`);
    return s;
  };

  it('runs every strategy on both transports, seeds the population asked for and gets every verdict right', () => {
    expect(scenario.users).toBe(USERS);
    expect(scenario.nonCompliant).toBe(NON_COMPLIANT);
    expect(scenario.runs.map((r) => `${r.transport}/${r.strategy}`)).toEqual([
      'moto/keyage',
      'moto/baseline',
      'moto/change',
      'throttled/keyage',
      'throttled/baseline',
      'throttled/change',
    ]);
    for (const r of scenario.runs) {
      expect({ run: `${r.transport}/${r.strategy}`, ok: r.ok, error: r.error, mismatches: r.verdictMismatchExamples }).toEqual({
        run: `${r.transport}/${r.strategy}`,
        ok: true,
        error: undefined,
        mismatches: [],
      });
    }
  });

  it.each(['moto', 'throttled'])('on the %s transport, moto received exactly the requests the transport forwarded, operation by operation', (transport) => {
    for (const strategy of ['keyage', 'baseline', 'change']) {
      const { seen, evaluations, run } = motoSaw(transport, strategy);
      const forwarded = Object.fromEntries(Object.entries(run.operations).filter(([, c]) => c.forwarded > 0).map(([op, c]) => [op, c.forwarded]));
      expect({ strategy, ops: Object.fromEntries(seen) }).toEqual({ strategy, ops: forwarded });
      expect(evaluations).toBe(run.evaluationsPut);
    }
  });

  it.each(['moto', 'throttled'])('on the %s transport, what the code says it sent equals what the transport counted', (transport) => {
    for (const strategy of ['keyage', 'baseline', 'change']) {
      const r = runOf(transport, strategy);
      const attempts = (service: 'iam' | 'config') => total({ operations: r.operations, evaluations: 0, verdicts: {} }, 'attempts', service);
      expect({ strategy, iam: r.self.iamCalls, config: r.self.configCalls, retries: r.self.throttledRetries, evaluations: r.self.evaluations }).toEqual({
        strategy,
        iam: attempts('iam'),
        config: attempts('config'),
        retries: r.throttled,
        evaluations: r.evaluationsPut,
      });
      expect(r.iamCalls).toBe(attempts('iam'));
      expect(r.countersAgree).toBe(true);
      for (const [op, c] of Object.entries(r.operations)) expect({ op, attempts: c.attempts }).toEqual({ op, attempts: c.forwarded + c.throttled + c.paged });
    }
  });

  it('keyage reads the credential report once and confirms only the non-compliant users live, in one PutEvaluations', () => {
    for (const transport of ['moto', 'throttled']) {
      const seen = motoSaw(transport, 'keyage').seen;
      expect({ transport, report: seen.get('iam:GetCredentialReport'), live: seen.get('iam:ListAccessKeys'), put: seen.get('config:PutEvaluations') }).toEqual({
        transport,
        report: 1,
        live: NON_COMPLIANT,
        put: 1,
      });
      expect(runOf(transport, 'keyage').evaluationsPut).toBe(USERS);
    }
  });

  it('the baseline reads every user live and puts one evaluation per call', () => {
    for (const transport of ['moto', 'throttled']) {
      const { seen, evaluations } = motoSaw(transport, 'baseline');
      expect({ transport, live: seen.get('iam:ListAccessKeys'), put: seen.get('config:PutEvaluations'), evaluations }).toEqual({
        transport,
        live: USERS,
        put: USERS,
        evaluations: USERS,
      });
      expect(seen.has('iam:GetCredentialReport')).toBe(false);
    }
  });

  it('a change-triggered evaluation sends GetUser and ListAccessKeys, then one PutEvaluations', () => {
    for (const transport of ['moto', 'throttled']) {
      expect(Object.fromEntries(motoSaw(transport, 'change').seen)).toEqual({ 'iam:GetUser': 1, 'iam:ListAccessKeys': 1, 'config:PutEvaluations': 1 });
    }
  });

  it('the moto transport neither throttles nor pages', () => {
    for (const strategy of ['keyage', 'baseline', 'change']) {
      const r = runOf('moto', strategy);
      expect({ strategy, throttled: r.throttled, paged: total({ operations: r.operations, evaluations: 0, verdicts: {} }, 'paged') }).toEqual({ strategy, throttled: 0, paged: 0 });
    }
  });
});
