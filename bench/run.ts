/**
 * `npm run bench` — the benchmark of the account sweep against the naive baseline.
 *
 *   npm run bench -- --users 100,1000,5000 --noncompliant 0.01,0.2 --transport moto,throttled \
 *                    --strategies keyage,baseline --latency-ms 40 --iam-rps 10
 *
 * Starts a moto_server (unless --endpoint or KEYAGE_MOTO_ENDPOINT names one), seeds each
 * population, runs each strategy in a process of its own, prints a table and writes JSON to
 * bench/results/. See BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidParameterError, KeyageError } from '../lib/errors';
import type { ScenarioResult } from './benchmark';
import { EVALUATIONS_COMMAND, ORGANIZATION_COMMAND, ORGANIZATION_WORKER_FLAG } from './commands';
import { checkTargets, type Extras, formatExtras, formatScenario, formatTargets, type Ratio, ratios, type TargetCheck } from './report';
import { MOTO_TRANSPORT, THROTTLED_TRANSPORT, type TransportModel } from './transport';
import { WORKER_FLAG } from './worker';

/** The command line, parsed and checked. */
export interface CliOptions {
  readonly users: number[];
  readonly nonCompliant: number[];
  readonly transports: TransportModel[];
  readonly strategies: ('keyage' | 'baseline')[];
  readonly change: boolean;
  readonly extras: boolean;
  readonly isolate: boolean;
  readonly endpoint?: string;
  readonly seedConcurrency: number;
  /** Arguments for node in each worker process. */
  readonly workerNodeArgs: string[];
  readonly out?: string;
  /** Print the tables and targets of earlier JSON results instead of running. */
  readonly from?: string[];
}

/** What `--help` prints. */
export const USAGE = `usage: npm run bench -- [options]
  --users LIST            users per population, e.g. 100,1000,5000 (default 5000; 1–5000, IAM's quota)
  --noncompliant LIST     share of NON_COMPLIANT users, e.g. 0.01,0.2 or 1%,20% (default 0.01)
  --transport LIST        moto, throttled (default both)
  --strategies LIST       keyage, baseline (default both)
  --latency-ms N          throttled transport: latency per request (default 40)
  --iam-rps N             throttled transport: IAM calls per second (default 10)
  --iam-burst N           throttled transport: IAM token bucket size (default = --iam-rps)
  --config-rps N          throttled transport: Config calls per second, 0 = unlimited (default 0)
  --paging on|off         throttled transport: page ListUsers as IAM does (default on)
  --moto-paging on|off    moto transport: page ListUsers as IAM does, as for the memory figures (default off)
  --change on|off         also time one change-triggered evaluation per transport (default on)
  --extras on|off         policy CPU, bundle size, cold import (default on)
  --isolate on|off        each run in its own process (default on)
  --endpoint URL          use this moto_server instead of starting one (or KEYAGE_MOTO_ENDPOINT)
  --seed-concurrency N    requests in flight while seeding (default 8)
  --worker-node-args=ARGS node options for each run's process (write it with =), e.g. the heap of a
                          256 MB Lambda: --worker-node-args="--max-semi-space-size=12 --max-old-space-size=231"
  --out FILE              JSON output (default bench/results/bench-<time>.json)
  --from FILES            print the tables and targets of earlier JSON results (comma-separated), run nothing
npm run bench -- organization [options]: the organization audit instead (see its --help)
npm run bench -- evaluations [options]: Config evaluations recorded per account-month, put all or put changed (see its --help)`;

/** Parse the command line. @throws InvalidParameterError naming the option, the value and what is allowed. */
export function parseCli(argv: readonly string[]): CliOptions | 'help' {
  let parsed;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    // node's own messages ("Unknown option '--x'") are clear; give them a named error
    const message = (err instanceof Error ? err.message : String(err)).replace(/^\w*Error \[[A-Z_]+\]: /, '');
    throw new KeyageError('InvalidParameterValue', `${message} (see npm run bench -- --help)`);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const list = (name: string, raw: string) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => ({ name, s }));
  const users = list('--users', values.users).map(({ s }) => intIn('--users', s, 1, 5000, 'whole numbers from 1 to 5000, comma-separated'));
  const nonCompliant = list('--noncompliant', values.noncompliant).map(({ s }) => share(s));
  const strategies = list('--strategies', values.strategies).map(({ s }) => oneOf('--strategies', s, ['keyage', 'baseline'] as const));
  const latencyMs = numberIn('--latency-ms', values['latency-ms'], 0, 10_000);
  const iamRps = numberIn('--iam-rps', values['iam-rps'], 0, 100_000);
  const iamBurst = values['iam-burst'] !== undefined ? numberIn('--iam-burst', values['iam-burst'], 1, 100_000) : iamRps > 0 ? Math.max(1, iamRps) : 0;
  const configRps = numberIn('--config-rps', values['config-rps'], 0, 100_000);
  const configBurst = values['config-burst'] !== undefined ? numberIn('--config-burst', values['config-burst'], 1, 100_000) : configRps > 0 ? Math.max(1, configRps) : 0;
  const throttled: TransportModel = { ...THROTTLED_TRANSPORT, latencyMs, iamRps, iamBurst, configRps, configBurst, iamPaging: onOff('--paging', values.paging) };
  // moto as it is counts only; with --moto-paging on it also pages ListUsers at the wire as IAM
  // does, so that the SDK parses IAM-sized answers (the memory figures), still without latency or throttle
  const moto: TransportModel = { ...MOTO_TRANSPORT, iamPaging: onOff('--moto-paging', values['moto-paging']) };
  const transports = list('--transport', values.transport).map(({ s }) => (oneOf('--transport', s, ['moto', 'throttled'] as const) === 'moto' ? moto : throttled));
  if (!users.length) throw new InvalidParameterError('--users', values.users, 'at least one number of users');
  if (!nonCompliant.length) throw new InvalidParameterError('--noncompliant', values.noncompliant, 'at least one share');
  if (!transports.length) throw new InvalidParameterError('--transport', values.transport, 'moto, throttled or both');
  if (!strategies.length) throw new InvalidParameterError('--strategies', values.strategies, 'keyage, baseline or both');
  const endpoint = values.endpoint ?? process.env.KEYAGE_MOTO_ENDPOINT;
  return {
    users,
    nonCompliant,
    transports,
    strategies,
    change: onOff('--change', values.change),
    extras: onOff('--extras', values.extras),
    isolate: onOff('--isolate', values.isolate),
    ...(endpoint ? { endpoint } : {}),
    seedConcurrency: intIn('--seed-concurrency', values['seed-concurrency'], 1, 64, 'a whole number from 1 to 64'),
    workerNodeArgs: values['worker-node-args'].split(' ').filter((a) => a !== ''),
    ...(values.out ? { out: values.out } : {}),
    ...(values.from ? { from: values.from.split(',').filter((f) => f !== '') } : {}),
  };
}

function parseOptions(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      users: { type: 'string', default: '5000' },
      noncompliant: { type: 'string', default: '0.01' },
      transport: { type: 'string', default: 'moto,throttled' },
      strategies: { type: 'string', default: 'keyage,baseline' },
      'latency-ms': { type: 'string', default: String(THROTTLED_TRANSPORT.latencyMs) },
      'iam-rps': { type: 'string', default: String(THROTTLED_TRANSPORT.iamRps) },
      'iam-burst': { type: 'string' },
      'config-rps': { type: 'string', default: '0' },
      'config-burst': { type: 'string' },
      paging: { type: 'string', default: 'on' },
      'moto-paging': { type: 'string', default: 'off' },
      change: { type: 'string', default: 'on' },
      extras: { type: 'string', default: 'on' },
      isolate: { type: 'string', default: 'on' },
      endpoint: { type: 'string' },
      'seed-concurrency': { type: 'string', default: '8' },
      out: { type: 'string' },
      from: { type: 'string' },
      'worker-node-args': { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
}

function intIn(name: string, raw: string, min: number, max: number, allowed: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new InvalidParameterError(name, raw, allowed);
  return n;
}

function numberIn(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidParameterError(name, raw, `a number from ${min} to ${max}`);
  return n;
}

function share(raw: string): number {
  const pct = raw.endsWith('%');
  const n = Number(pct ? raw.slice(0, -1) : raw) / (pct ? 100 : 1);
  if (!Number.isFinite(n) || n < 0 || n > 1 || raw === '') throw new InvalidParameterError('--noncompliant', raw, 'shares from 0 to 1 (0.01) or percentages (1%), comma-separated');
  return n;
}

function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new InvalidParameterError(name, raw, allowed.join(', '));
  return raw as T;
}

function onOff(name: string, raw: string): boolean {
  if (raw === 'on' || raw === 'true') return true;
  if (raw === 'off' || raw === 'false') return false;
  throw new InvalidParameterError(name, raw, 'on or off');
}

/** The machine the figures come from. */
function machine(): Record<string, unknown> {
  const c = cpus();
  let commit: string | undefined;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    commit = undefined;
  }
  return { cpus: c.length, cpuModel: c[0]?.model, memoryGB: Math.round(totalmem() / 1e9), node: process.version, platform: `${process.platform}-${process.arch}`, commit };
}

async function main(argv: readonly string[]): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const opts = parseCli(argv);
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (opts.from) {
    process.stdout.write(`${summarize(opts.from.map((f) => JSON.parse(readFileSync(f, 'utf8')) as BenchJson))}\n`);
    return;
  }
  const root = process.cwd();
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const startedAt = new Date();
  const host = machine(); // the commit measured is the one checked out when the run starts

  // Loaded here, not at the top: a worker process runs the same bundle, and should hold only
  // what the strategy it runs holds (the rule's own SDK clients), so that its RSS is the rule's.
  const [{ runBenchmark }, { measureBundle, measurePolicyCpu }, { startMotoServer }] = await Promise.all([import('./benchmark'), import('./extras'), import('./moto')]);
  const extras: Extras = {};
  if (opts.extras) {
    say('measuring the policy CPU, the handler bundle and its cold import …');
    Object.assign(extras, { policy: measurePolicyCpu(5000) });
    Object.assign(extras, { bundle: await measureBundle(root, join(root, 'node_modules', '.cache', 'keyage-bench')) });
    say(formatExtras(extras));
  }

  const moto = opts.endpoint ? undefined : await startMotoServer();
  const endpoint = opts.endpoint ?? (moto?.endpoint as string);
  say(moto ? `moto_server started on ${endpoint}` : `using moto_server at ${endpoint}`);
  let scenarios;
  try {
    scenarios = await runBenchmark({
      endpoint,
      users: opts.users,
      nonCompliantShares: opts.nonCompliant,
      transports: opts.transports,
      strategies: opts.strategies,
      change: opts.change,
      seedConcurrency: opts.seedConcurrency,
      ...(opts.isolate ? { workerEntry: resolve(process.argv[1] as string), workerNodeArgs: opts.workerNodeArgs } : {}),
      progress: say,
    });
  } finally {
    await moto?.stop();
  }

  const targets = checkTargets(scenarios, opts.transports, extras);

  const out = opts.out ?? join(root, 'bench', 'results', `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  const json: BenchJson = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: host,
    argv,
    transports: opts.transports,
    scenarios: scenarios.map((s) => ({ ...s, ratios: ratios(s) })),
    extras,
    targets,
  };
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`\n${summarize([json])}\n\nJSON written to ${out}\n`);
}

/** The JSON file a run writes. */
export interface BenchJson {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Record<string, unknown>;
  readonly argv: readonly string[];
  readonly transports: readonly TransportModel[];
  readonly scenarios: readonly (ScenarioResult & { ratios: Ratio[] })[];
  readonly extras: Extras;
  readonly targets: readonly TargetCheck[];
}

/** Tables for every scenario of one or more runs, the extras, and the targets checked over all of them. */
export function summarize(results: readonly BenchJson[]): string {
  const scenarios = results.flatMap((r) => r.scenarios);
  const extras: Extras = Object.assign({}, ...results.map((r) => r.extras)) as Extras;
  const transports = results.flatMap((r) => r.transports).filter((t, i, all) => all.findIndex((u) => u.name === t.name) === i);
  const targets = checkTargets(scenarios, transports, extras);
  return [...scenarios.map(formatScenario), formatExtras(extras), '', 'targets (issue #6):', formatTargets(targets)].join('\n');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  // Each role loads only its own modules (see main): a sweep worker never loads the SDK clients
  // of the organization benchmark or moto's STS.
  const run =
    argv[0] === WORKER_FLAG
      ? import('./worker').then((m) => m.workerMain())
      : argv[0] === ORGANIZATION_WORKER_FLAG
        ? import('./organization').then((m) => m.organizationWorkerMain())
        : argv[0] === ORGANIZATION_COMMAND
          ? import('./organization').then((m) => m.organizationMain(argv.slice(1), machine))
          : argv[0] === EVALUATIONS_COMMAND
            ? import('./evaluations').then((m) => m.evaluationsMain(argv.slice(1), machine))
            : main(argv);
  run.catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
