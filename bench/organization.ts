/**
 * `npm run bench -- organization` — the benchmark of `keyage audit --organization`:
 *
 *   npm run bench -- organization --accounts 50 --users 200 --noncompliant 0.01 \
 *                    --transport moto,throttled --concurrency 1,8
 *
 * Builds an Organization in moto_server (CreateOrganization, CreateAccount × N, the audit role in
 * each account), seeds every account with its own population, then runs the real organization
 * audit (`auditOrganization`, the code `keyage audit --organization` runs) once per transport and
 * per account concurrency, each run in a process of its own so its peak RSS is its own.
 * `--concurrency 1` is the audit of the accounts one after another.
 *
 * Every account's IAM client sits on a transport of its own (`BenchTransport`): IAM throttles
 * each account apart in AWS, so the throttled model gives each account its own token bucket.
 * Each run's verdicts are checked against the seeded population, user by user.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { KMSClient } from '@aws-sdk/client-kms';
import { SSMClient } from '@aws-sdk/client-ssm';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateAccountCommand, CreateOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { auditOrganization } from '../cli/audit-organization';
import type { AwsClientFactory, ClientCredentials } from '../cli/aws-clients';
import type { OrganizationAuditReport } from '../cli/organization-report';
import { InvalidParameterError, KeyageError } from '../lib/errors';
import { createLogger } from '../lib/log';
import { DAY_MS } from '../rules/access-key-age/policy';
import { type BenchAccount, newBenchAccount, startMotoServer } from './moto';
import { table } from './report';
import { ORGANIZATION_COMMAND, ORGANIZATION_WORKER_FLAG } from './commands';
import { type ExpectedCompliance, forEachLimit, plan } from './seed';
import { BenchTransport, MOTO_TRANSPORT, type OperationCount, THROTTLED_TRANSPORT, total, type TransportModel } from './transport';
import { type RunCost, startMeasuring } from './measure';
import { readJob, runInOwnProcess } from './own-process';

export { ORGANIZATION_COMMAND, ORGANIZATION_WORKER_FLAG };

/** The command line of the organization benchmark, parsed. */
export interface OrganizationBenchOptions {
  readonly accounts: number;
  readonly users: number;
  readonly nonCompliantShare: number;
  readonly transports: readonly TransportModel[];
  readonly concurrency: readonly number[];
  readonly endpoint?: string;
  readonly seedConcurrency: number;
  readonly isolate: boolean;
  readonly out?: string;
}

/** What `npm run bench -- organization --help` prints. */
export const ORGANIZATION_USAGE = `usage: npm run bench -- organization [options]
  --accounts N            member accounts (default 50; 1-200)
  --users N               users per account (default 200; 1-5000)
  --noncompliant SHARE    share of NON_COMPLIANT users, e.g. 0.01 or 1% (default 0.01)
  --transport LIST        moto, throttled (default both)
  --concurrency LIST      accounts audited at once, one run each, e.g. 1,8 (default 1,8; 1 = one after another)
  --latency-ms N          throttled transport: latency per request (default 40)
  --iam-rps N             throttled transport: IAM calls per second, per account (default 10)
  --endpoint URL          use this moto_server instead of starting one (or KEYAGE_MOTO_ENDPOINT)
  --seed-concurrency N    requests in flight while seeding (default 8)
  --isolate on|off        each run in its own process (default on)
  --out FILE              JSON output (default bench/results/organization-<time>.json)`;

function int(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new InvalidParameterError(name, raw, `a whole number from ${min} to ${max}`);
  return n;
}

/** Parse the organization benchmark's command line. @throws InvalidParameterError naming the option. */
export function parseOrganizationCli(argv: readonly string[]): OrganizationBenchOptions | 'help' {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        accounts: { type: 'string', default: '50' },
        users: { type: 'string', default: '200' },
        noncompliant: { type: 'string', default: '0.01' },
        transport: { type: 'string', default: 'moto,throttled' },
        concurrency: { type: 'string', default: '1,8' },
        'latency-ms': { type: 'string', default: String(THROTTLED_TRANSPORT.latencyMs) },
        'iam-rps': { type: 'string', default: String(THROTTLED_TRANSPORT.iamRps) },
        endpoint: { type: 'string' },
        'seed-concurrency': { type: 'string', default: '8' },
        isolate: { type: 'string', default: 'on' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new KeyageError('InvalidParameterValue', `${(err instanceof Error ? err.message : String(err)).replace(/^\w*Error \[[A-Z_]+\]: /, '')} (see npm run bench -- organization --help)`);
  }
  if (values.help) return 'help';
  const raw = values.noncompliant.trim();
  const pct = raw.endsWith('%');
  const share = Number(pct ? raw.slice(0, -1) : raw) / (pct ? 100 : 1);
  if (raw === '' || !Number.isFinite(share) || share < 0 || share > 1) throw new InvalidParameterError('--noncompliant', raw, 'a share from 0 to 1 (0.01) or a percentage (1%)');
  const latencyMs = int('--latency-ms', values['latency-ms'], 0, 10_000);
  const iamRps = int('--iam-rps', values['iam-rps'], 1, 100_000);
  const throttled: TransportModel = { ...THROTTLED_TRANSPORT, latencyMs, iamRps, iamBurst: iamRps };
  const transports = values.transport
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      if (s === 'moto') return MOTO_TRANSPORT;
      if (s === 'throttled') return throttled;
      throw new InvalidParameterError('--transport', s, 'moto, throttled');
    });
  const concurrency = values.concurrency
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => int('--concurrency', s, 1, 32));
  if (transports.length === 0) throw new InvalidParameterError('--transport', values.transport, 'moto, throttled or both');
  if (concurrency.length === 0) throw new InvalidParameterError('--concurrency', values.concurrency, 'one or more whole numbers from 1 to 32');
  if (values.isolate !== 'on' && values.isolate !== 'off') throw new InvalidParameterError('--isolate', values.isolate, 'on or off');
  const endpoint = values.endpoint ?? process.env.KEYAGE_MOTO_ENDPOINT;
  return {
    accounts: int('--accounts', values.accounts, 1, 200),
    users: int('--users', values.users, 1, 5000),
    nonCompliantShare: share,
    transports,
    concurrency,
    ...(endpoint ? { endpoint } : {}),
    seedConcurrency: int('--seed-concurrency', values['seed-concurrency'], 1, 64),
    isolate: values.isolate === 'on',
    ...(values.out ? { out: values.out } : {}),
  };
}

/** One member account of the seeded organization. Plain data: it crosses process boundaries. */
export interface SeededAccount {
  readonly accountId: string;
  readonly name: string;
  /** userName → the verdict it must get. */
  readonly expected: Readonly<Record<string, ExpectedCompliance>>;
}

/** The seeded organization. */
export interface OrganizationPopulation {
  readonly management: BenchAccount;
  readonly accounts: readonly SeededAccount[];
  readonly usersPerAccount: number;
  readonly nonCompliantShare: number;
  /** The decision clock: every account's old keys 91 days old, its young keys 90. */
  readonly now: string;
  readonly maxAccessKeyAgeDays: number;
  readonly seedMs: number;
  readonly seedCalls: number;
}

/** The role the organization audit assumes in each account. */
export const BENCH_AUDIT_ROLE = 'keyage-audit';

/**
 * Seed an organization. The key cohorts are global (every account's old keys, a pause, then
 * every account's young keys), so one decision clock makes every old key stale and every young
 * key compliant in every account — see `bench/seed.ts` for the population of one account.
 */
export async function seedOrganization(
  endpoint: string,
  options: { accounts: number; users: number; nonCompliantShare: number; concurrency: number; say?: (line: string) => void },
): Promise<OrganizationPopulation> {
  const started = performance.now();
  let calls = 0;
  const management = await newBenchAccount(endpoint);
  const region = management.region;
  const orgs = new OrganizationsClient({ endpoint, region, credentials: management.credentials, maxAttempts: 3 });
  const sts = new STSClient({ endpoint, region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const clients: IAMClient[] = [];
  try {
    calls++;
    await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const width = String(options.users).length;
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${management.accountId}:root` }, Action: 'sts:AssumeRole' }] });
    const members: Array<{ accountId: string; name: string; iam: IAMClient; plans: Array<{ userName: string } & ReturnType<typeof plan>> }> = [];
    for (let a = 0; a < options.accounts; a++) {
      const name = `bench-account-${String(a + 1).padStart(3, '0')}`;
      calls++;
      const made = await orgs.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
      const accountId = made.CreateAccountStatus?.AccountId as string;
      const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`, RoleSessionName: 'keyage-bench-seed' }));
      const c = assumed.Credentials;
      const iam = new IAMClient({ endpoint, region, maxAttempts: 3, credentials: { accessKeyId: c?.AccessKeyId as string, secretAccessKey: c?.SecretAccessKey as string, sessionToken: c?.SessionToken as string } });
      clients.push(iam);
      calls++;
      await iam.send(new CreateRoleCommand({ RoleName: BENCH_AUDIT_ROLE, AssumeRolePolicyDocument: trust }));
      const plans = Array.from({ length: options.users }, (_, i) => ({ userName: `bench-user-${String(i + 1).padStart(width, '0')}`, ...plan(i, options.users, options.nonCompliantShare) }));
      members.push({ accountId, name, iam, plans });
    }
    options.say?.(`  ${options.accounts} accounts created; seeding ${options.accounts * options.users} users …`);
    const all = members.flatMap((m) => m.plans.map((p) => ({ m, p })));
    await forEachLimit(all, options.concurrency, async ({ m, p }) => {
      calls++;
      await m.iam.send(new CreateUserCommand({ UserName: p.userName }));
    });
    const key = async (m: (typeof members)[number], userName: string): Promise<number> => {
      calls++;
      const out = await m.iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      return new Date(out.AccessKey?.CreateDate as Date).getTime();
    };
    let newestOld = 0;
    await forEachLimit(all.filter(({ p }) => p.oldKeys > 0), options.concurrency, async ({ m, p }) => {
      const created = await key(m, p.userName);
      newestOld = Math.max(newestOld, created);
    });
    if (newestOld > 0) await new Promise((r) => setTimeout(r, Math.max(0, newestOld + 2000 - Date.now())));
    let oldestYoung = Number.POSITIVE_INFINITY;
    await forEachLimit(all.filter(({ p }) => p.youngKeys > 0), options.concurrency, async ({ m, p }) => {
      for (let k = 0; k < p.youngKeys; k++) oldestYoung = Math.min(oldestYoung, await key(m, p.userName));
    });
    const limit = 90;
    const now = (newestOld > 0 ? newestOld : Date.now() - 2000) + (limit + 1) * DAY_MS;
    if (Number.isFinite(oldestYoung) && !(now < Math.floor(oldestYoung / 1000) * 1000 + (limit + 1) * DAY_MS)) {
      throw new Error(`the key cohorts are too close (${oldestYoung - newestOld} ms apart)`);
    }
    return {
      management,
      accounts: members.map((m) => ({ accountId: m.accountId, name: m.name, expected: Object.fromEntries(m.plans.map((p) => [p.userName, p.expected])) })),
      usersPerAccount: options.users,
      nonCompliantShare: options.nonCompliantShare,
      now: new Date(now).toISOString(),
      maxAccessKeyAgeDays: limit,
      seedMs: performance.now() - started,
      seedCalls: calls,
    };
  } finally {
    for (const c of clients) c.destroy();
    orgs.destroy();
    sts.destroy();
  }
}

/** One run. Plain data: it is sent to a worker process as JSON. */
export interface OrganizationJob {
  readonly management: BenchAccount;
  readonly transport: TransportModel;
  readonly concurrency: number;
  readonly now: string;
  readonly maxAccessKeyAgeDays: number;
}

/** One measured run. */
export interface OrganizationRun {
  readonly transport: string;
  readonly concurrency: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly wallMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  readonly peakRssBytes: number;
  readonly rssSource: 'maxRSS' | 'sampled';
  /** IAM requests sent, over every account (each SDK attempt, throttled ones included). */
  readonly iamCalls: number;
  readonly throttled: number;
  readonly iamOperations: Record<string, OperationCount>;
  /** Milliseconds moto spent answering IAM, summed over accounts (they overlap when concurrent). */
  readonly iamMotoMs: number;
  readonly stsCalls: number;
  readonly organizationsCalls: number;
  readonly accountsAudited: number;
  readonly accountsNotAudited: number;
  readonly users: number;
  /** accountId → userName → compliance. */
  readonly verdicts: Record<string, Record<string, string>>;
}

function counter(client: unknown, counts: Record<string, number>, service: string): void {
  (client as { middlewareStack: { add: (mw: unknown, o: unknown) => void } }).middlewareStack.add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const op = `${service}:${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`;
      counts[op] = (counts[op] ?? 0) + 1;
      return next(args);
    },
    { step: 'deserialize', priority: 'low', name: `keyageBenchCount${Math.random().toString(36).slice(2)}` },
  );
}

/** Run the organization audit once, in this process, and measure it. */
export async function runOrganizationJob(job: OrganizationJob, options: { ownProcess?: boolean } = {}): Promise<OrganizationRun> {
  const transports: BenchTransport[] = [];
  const other: Record<string, number> = {};
  const { endpoint, region } = job.management;
  const config = (c: ClientCredentials) => ({ endpoint, region, maxAttempts: 1, credentials: c ?? job.management.credentials });
  const clients: AwsClientFactory = {
    iam: (c) => {
      const transport = new BenchTransport(job.transport);
      transports.push(transport);
      return transport.attach(new IAMClient(config(c)), 'iam');
    },
    sts: (c) => {
      const sts = new STSClient(config(c));
      counter(sts, other, 'sts');
      return sts;
    },
    organizations: (c) => {
      const orgs = new OrganizationsClient(config(c));
      counter(orgs, other, 'organizations');
      return orgs;
    },
    securityHub: (c) => new SecurityHubClient(config(c)),
    config: (c) => new ConfigServiceClient(config(c)),
    ssm: (c) => new SSMClient(config(c)),
    kms: (c) => new KMSClient(config(c)),
  };
  const measuring = startMeasuring(options.ownProcess === true);
  let report: OrganizationAuditReport | undefined;
  let error: string | undefined;
  let cost: RunCost;
  try {
    report = await auditOrganization({
      clients,
      now: new Date(job.now),
      params: { maxAccessKeyAgeDays: job.maxAccessKeyAgeDays },
      graceDays: 14,
      region,
      profile: null,
      roleName: BENCH_AUDIT_ROLE,
      selection: { organizationalUnits: null, accounts: null, exclude: [] },
      concurrency: job.concurrency,
      log: createLogger({ level: 'error', sink: () => undefined }),
    });
  } catch (err) {
    error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } finally {
    cost = measuring.stop();
  }
  const iamOperations: Record<string, OperationCount> = {};
  let iamCalls = 0;
  let throttled = 0;
  let iamMotoMs = 0;
  for (const t of transports) {
    const counts = t.counts();
    iamCalls += total(counts, 'attempts', 'iam');
    throttled += total(counts, 'throttled', 'iam');
    iamMotoMs += total(counts, 'motoMs', 'iam');
    for (const [op, c] of Object.entries(counts.operations)) {
      const sum = (iamOperations[op] ??= { attempts: 0, throttled: 0, forwarded: 0, paged: 0, motoMs: 0 });
      sum.attempts += c.attempts;
      sum.throttled += c.throttled;
      sum.forwarded += c.forwarded;
      sum.paged += c.paged;
      sum.motoMs += c.motoMs;
    }
  }
  const verdicts: Record<string, Record<string, string>> = {};
  for (const a of report?.accounts ?? []) if (a.report) verdicts[a.accountId] = Object.fromEntries(a.report.users.map((u) => [u.userName, u.compliance]));
  const sumOf = (prefix: string) => Object.entries(other).filter(([op]) => op.startsWith(prefix)).reduce((n, [, c]) => n + c, 0);
  const notAudited = report?.accounts.filter((a) => !a.audited) ?? [];
  return {
    transport: job.transport.name,
    concurrency: job.concurrency,
    ok: error === undefined && notAudited.length === 0,
    ...(error !== undefined ? { error } : notAudited.length > 0 ? { error: `${notAudited.length} account(s) not audited: ${notAudited[0]?.reason ?? ''}` } : {}),
    wallMs: cost.wallMs,
    cpuUserMs: cost.cpuUserMs,
    cpuSystemMs: cost.cpuSystemMs,
    peakRssBytes: cost.peakRssBytes,
    rssSource: cost.rssSource,
    iamCalls,
    throttled,
    iamOperations,
    iamMotoMs,
    stsCalls: sumOf('sts:'),
    organizationsCalls: sumOf('organizations:'),
    accountsAudited: report?.summary.accountsAudited ?? 0,
    accountsNotAudited: report?.summary.accountsNotAudited ?? 0,
    users: report?.summary.users ?? 0,
    verdicts,
  };
}

/** Users whose verdict differs from the seeded one, or who got none (the management account has no users). */
export function verdictMismatches(run: OrganizationRun, population: OrganizationPopulation): string[] {
  const wrong: string[] = [];
  for (const a of population.accounts) {
    const got = run.verdicts[a.accountId] ?? {};
    for (const [userName, expected] of Object.entries(a.expected)) if (got[userName] !== expected) wrong.push(`${a.name}/${userName}: expected ${expected}, got ${got[userName] ?? 'no verdict'}`);
    for (const userName of Object.keys(got)) if (!(userName in a.expected)) wrong.push(`${a.name}/${userName}: not seeded`);
  }
  return wrong;
}

function runOrganizationInOwnProcess(entry: string, job: OrganizationJob): Promise<OrganizationRun> {
  return runInOwnProcess<OrganizationJob, OrganizationRun>(entry, ORGANIZATION_WORKER_FLAG, job, 'organization');
}

/** The worker side: a job on stdin, the run on stdout. */
export async function organizationWorkerMain(): Promise<void> {
  const run = await runOrganizationJob(await readJob<OrganizationJob>(), { ownProcess: true });
  process.stdout.write(`${JSON.stringify(run)}\n`);
}

/** A run as reported: without the verdicts, with their check. */
export type ReportedOrganizationRun = Omit<OrganizationRun, 'verdicts'> & { readonly verdictMismatches: number; readonly verdictMismatchExamples: readonly string[] };

/** What a benchmark run writes. */
export interface OrganizationBenchJson {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Record<string, unknown>;
  readonly argv: readonly string[];
  readonly accounts: number;
  readonly usersPerAccount: number;
  readonly nonCompliantShare: number;
  readonly nonCompliantUsers: number;
  readonly seedMs: number;
  readonly seedCalls: number;
  readonly transports: readonly TransportModel[];
  readonly runs: readonly ReportedOrganizationRun[];
}

const s1 = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const mb = (bytes: number) => (bytes / 1_048_576).toFixed(0);

/** The results as a table, with each run's speed-up over the one-after-another run of its transport. */
export function formatOrganizationBench(result: OrganizationBenchJson): string {
  const head =
    `${result.accounts} member accounts × ${result.usersPerAccount} users (${(result.nonCompliantShare * 100).toFixed(0)}% non-compliant: ${result.nonCompliantUsers} users), ` +
    `plus the management account — seeded in ${s1(result.seedMs)} s with ${result.seedCalls} calls`;
  const rows = result.runs.map((r) => {
    const sequential = result.runs.find((x) => x.transport === r.transport && x.concurrency === 1);
    return [
      r.transport,
      String(r.concurrency),
      String(r.accountsAudited),
      String(r.iamCalls),
      String(r.iamOperations['iam:ListAccessKeys']?.attempts ?? 0),
      String(r.iamOperations['iam:GetAccessKeyLastUsed']?.attempts ?? 0),
      String(r.throttled),
      String(r.stsCalls),
      String(r.organizationsCalls),
      s1(r.wallMs),
      sequential && r !== sequential ? `${(sequential.wallMs / r.wallMs).toFixed(1)}×` : '—',
      s1(r.cpuUserMs + r.cpuSystemMs),
      mb(r.peakRssBytes),
      r.verdictMismatches === 0 ? 'all right' : `${r.verdictMismatches} WRONG`,
      r.ok ? 'ok' : `FAILED: ${r.error ?? ''}`,
    ];
  });
  return `${head}\n${table(
    ['transport', 'concurrency', 'accounts', 'IAM calls', 'ListAccessKeys', 'GetAccessKeyLastUsed', 'throttled', 'STS calls', 'Organizations calls', 'wall s', 'vs 1 at a time', 'CPU s', 'peak RSS MB', 'verdicts', 'status'],
    rows,
  )}\n`;
}

/** `npm run bench -- organization …` */
export async function organizationMain(argv: readonly string[], machine: () => Record<string, unknown>): Promise<void> {
  const opts = parseOrganizationCli(argv);
  if (opts === 'help') {
    process.stdout.write(`${ORGANIZATION_USAGE}\n`);
    return;
  }
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const startedAt = new Date();
  const host = machine();
  const moto = opts.endpoint ? undefined : await startMotoServer();
  const endpoint = opts.endpoint ?? (moto?.endpoint as string);
  say(moto ? `moto_server started on ${endpoint}` : `using moto_server at ${endpoint}`);
  const runs: ReportedOrganizationRun[] = [];
  let population: OrganizationPopulation;
  try {
    say(`seeding an organization of ${opts.accounts} accounts × ${opts.users} users …`);
    population = await seedOrganization(endpoint, { accounts: opts.accounts, users: opts.users, nonCompliantShare: opts.nonCompliantShare, concurrency: opts.seedConcurrency, say });
    say(`  seeded in ${s1(population.seedMs)} s (${population.seedCalls} calls)`);
    for (const transport of opts.transports) {
      for (const concurrency of opts.concurrency) {
        const job: OrganizationJob = { management: population.management, transport, concurrency, now: population.now, maxAccessKeyAgeDays: population.maxAccessKeyAgeDays };
        const run = opts.isolate ? await runOrganizationInOwnProcess(resolve(process.argv[1] as string), job) : await runOrganizationJob(job);
        const wrong = verdictMismatches(run, population);
        const { verdicts: _verdicts, ...rest } = run;
        void _verdicts;
        runs.push({ ...rest, verdictMismatches: wrong.length, verdictMismatchExamples: wrong.slice(0, 5) });
        say(
          `  ${transport.name.padEnd(9)} concurrency ${String(concurrency).padEnd(2)} ${run.ok ? 'ok' : `FAILED (${run.error})`}: ${s1(run.wallMs)} s, IAM ${run.iamCalls}, throttled ${run.throttled}, ` +
            `peak RSS ${mb(run.peakRssBytes)} MB, verdict mismatches ${wrong.length}`,
        );
      }
    }
  } finally {
    await moto?.stop();
  }
  const json: OrganizationBenchJson = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: host,
    argv,
    accounts: opts.accounts,
    usersPerAccount: opts.users,
    nonCompliantShare: opts.nonCompliantShare,
    nonCompliantUsers: population.accounts.reduce((n, a) => n + Object.values(a.expected).filter((e) => e === 'NON_COMPLIANT').length, 0),
    seedMs: population.seedMs,
    seedCalls: population.seedCalls,
    transports: opts.transports,
    runs,
  };
  const out = opts.out ?? join(process.cwd(), 'bench', 'results', `organization-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`\n${formatOrganizationBench(json)}\nJSON written to ${out}\n`);
}
