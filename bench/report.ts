/**
 * Turning benchmark results into a table for the terminal and a verdict on each target of
 * issue #6. The targets are measured, never asserted: a missed one is shown with its margin.
 */
import type { ReportedRun, ScenarioResult } from './benchmark';
import type { BundleVariant, PolicyCpuResult } from './extras';
import { type TransportModel, total } from './transport';

/** The measurements that need no AWS. */
export interface Extras {
  readonly policy?: PolicyCpuResult;
  readonly bundle?: readonly BundleVariant[];
}

/** One target of issue #6 and what was measured for it. */
export interface TargetCheck {
  readonly target: string;
  readonly limit: string;
  readonly measured: string;
  /** `undefined`: the run did not measure it (scenario or transport not in this run). */
  readonly met: boolean | undefined;
  readonly note?: string;
}

/** The ratio columns: baseline ÷ keyage (how many times fewer calls, less time, …). */
export interface Ratio {
  readonly transport: string;
  readonly iamCalls: number;
  readonly configCalls: number;
  readonly wall: number;
  readonly cpu: number;
  readonly peakRss: number;
}

/** Baseline ÷ keyage, per transport, for a scenario that ran both. */
export function ratios(s: ScenarioResult): Ratio[] {
  const out: Ratio[] = [];
  for (const transport of new Set(s.runs.map((r) => r.transport))) {
    const k = s.runs.find((r) => r.transport === transport && r.strategy === 'keyage');
    const b = s.runs.find((r) => r.transport === transport && r.strategy === 'baseline');
    if (!k || !b) continue;
    out.push({
      transport,
      iamCalls: b.iamCalls / k.iamCalls,
      configCalls: b.configCalls / k.configCalls,
      wall: b.wallMs / k.wallMs,
      cpu: cpuMs(b) / cpuMs(k),
      peakRss: b.peakRssBytes / k.peakRssBytes,
    });
  }
  return out;
}

/** User + system CPU of a run, in ms. */
export const cpuMs = (r: Pick<ReportedRun, 'cpuUserMs' | 'cpuSystemMs'>): number => r.cpuUserMs + r.cpuSystemMs;
const mb = (bytes: number): string => (bytes / 1_048_576).toFixed(0);
const s1 = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const x = (n: number): string => (Number.isFinite(n) ? `${n >= 10 ? n.toFixed(0) : n.toFixed(1)}×` : '—');
const putCalls = (r: ReportedRun): number => r.operations['config:PutEvaluations']?.attempts ?? 0;

/** A fixed-width text table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], leftColumns = 2): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One scenario: a row per run, then the ratios. */
export function formatScenario(s: ScenarioResult): string {
  const head = `${s.users.toLocaleString('en-US')} users, ${(s.nonCompliantShare * 100).toFixed(0)}% non-compliant (${s.nonCompliant}) — seeded in ${s1(s.seedMs)} s with ${s.seedCalls} IAM calls`;
  const rows = s.runs.map((r) => [
    r.transport,
    r.strategy,
    String(r.iamCalls),
    String(r.operations['iam:ListAccessKeys']?.attempts ?? 0),
    String(r.configCalls),
    String(putCalls(r)),
    String(r.throttled),
    String(r.self.throttledRetries),
    s1(r.wallMs),
    s1(total({ operations: r.operations, evaluations: 0, verdicts: {} }, 'motoMs')),
    s1(cpuMs(r)),
    mb(r.peakRssBytes),
    String(r.evaluationsPut),
    r.verdictMismatches === 0 ? 'all right' : `${r.verdictMismatches} WRONG`,
    r.countersAgree ? 'yes' : 'NO',
    r.ok ? 'ok' : `FAILED: ${r.error ?? ''}`,
  ]);
  const header = ['transport', 'strategy', 'IAM calls', 'ListAccessKeys', 'Config calls', 'PutEvaluations', 'throttled', 'throttled retries', 'wall s', 'in moto s', 'CPU s', 'peak RSS MB', 'evaluations', 'verdicts', 'counters agree', 'status'];
  const rs = ratios(s);
  const ratioTable = rs.length
    ? `\nbaseline ÷ keyage:\n${table(
        ['transport', '', 'IAM calls', 'Config calls', 'wall', 'CPU', 'peak RSS'],
        rs.map((r) => [r.transport, '', x(r.iamCalls), x(r.configCalls), x(r.wall), x(r.cpu), x(r.peakRss)]),
      )}`
    : '';
  return `${head}\n${table(header, rows)}${ratioTable}\n`;
}

/** The policy and bundle figures, one line each. */
export function formatExtras(e: Extras): string {
  const lines: string[] = [];
  if (e.policy) {
    lines.push(
      `policy: evaluateAccessKeys for ${e.policy.users.toLocaleString('en-US')} users × 2 keys: first pass ${e.policy.firstMs.toFixed(1)} ms CPU, then median ${e.policy.medianMs.toFixed(1)} ms (${e.policy.rounds} passes)`,
    );
  }
  for (const b of e.bundle ?? []) {
    lines.push(
      `handler bundle, AWS SDK ${b.sdk}: ${(b.bytes / 1024).toFixed(1)} KB minified (${(b.gzipBytes / 1024).toFixed(1)} KB gzip); cold import ${b.coldImportMs.toFixed(0)} ms (median of ${b.coldImportSamplesMs.length})`,
    );
  }
  return lines.join('\n');
}

/** Each target of issue #6 against what this run measured. */
export function checkTargets(scenarios: readonly ScenarioResult[], transports: readonly TransportModel[], extras: Extras): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const throttled = transports.find((t) => t.name === 'throttled');
  const where = throttled ? `throttled transport (${throttled.latencyMs} ms, ${throttled.iamRps} IAM calls/s)` : 'throttled transport';
  const main = scenarios.find((s) => s.users === 5000 && Math.abs(s.nonCompliantShare - 0.01) < 1e-9);
  const run = (strategy: string) => main?.runs.find((r) => r.transport === 'throttled' && r.strategy === strategy);
  const k = run('keyage');
  const b = run('baseline');
  const none = (target: string, limit: string): TargetCheck => ({ target, limit, measured: 'not measured in this run', met: undefined });
  const missBy = (measured: number, limit: number, unit: string, lowerIsBetter = true) =>
    lowerIsBetter ? (measured <= limit ? undefined : `missed by ${(measured - limit).toFixed(1)} ${unit}`) : measured >= limit ? undefined : `missed by ${(limit - measured).toFixed(1)} ${unit}`;

  const t1 = 'sweep, 5,000 users, 1% non-compliant: IAM calls';
  checks.push(
    k
      ? {
          target: t1,
          limit: '≤ 100',
          measured: `${k.iamCalls} sent = ${k.iamCalls - k.throttled} answered + ${k.throttled} throttled (${where})`,
          met: k.iamCalls <= 100,
          ...note(missBy(k.iamCalls, 100, 'calls')),
        }
      : none(t1, '≤ 100'),
  );
  const t2 = 'sweep, 5,000 users, 1%: PutEvaluations calls';
  checks.push(k ? { target: t2, limit: '≤ 50', measured: String(putCalls(k)), met: putCalls(k) <= 50, ...note(missBy(putCalls(k), 50, 'calls')) } : none(t2, '≤ 50'));
  const t3 = 'sweep vs baseline, 5,000 users, 1%: IAM calls';
  if (k && b) {
    const r = b.iamCalls / k.iamCalls;
    checks.push({ target: t3, limit: '≥ 20× fewer', measured: `${x(r)} (${b.iamCalls} vs ${k.iamCalls})`, met: r >= 20, ...note(missBy(r, 20, '×', false)) });
  } else checks.push(none(t3, '≥ 20× fewer'));
  const t4 = 'sweep vs baseline, 5,000 users, 1%: wall time';
  if (k && b) {
    const r = b.wallMs / k.wallMs;
    const baselineNote = b.ok ? undefined : `the baseline failed part-way (${b.error ?? ''}); its time is until the failure`;
    checks.push({ target: t4, limit: '≥ 10× less', measured: `${x(r)} (${s1(b.wallMs)} s vs ${s1(k.wallMs)} s)`, met: r >= 10, ...note(missBy(r, 10, '×', false) ?? baselineNote) });
  } else checks.push(none(t4, '≥ 10× less'));
  const t5 = 'sweep, 5,000 users, 1%: wall time at 40 ms and 10 IAM calls/s';
  const defaultModel = throttled && throttled.latencyMs === 40 && throttled.iamRps === 10;
  checks.push(
    k
      ? { target: t5, limit: '< 60 s', measured: `${s1(k.wallMs)} s${defaultModel ? '' : ` (at ${where}, not the target's model)`}`, met: k.wallMs < 60_000, ...note(missBy(k.wallMs / 1000, 60, 's')) }
      : none(t5, '< 60 s'),
  );

  const changes = scenarios.flatMap((s) => s.runs.filter((r) => r.strategy === 'change'));
  const t6 = 'change-triggered evaluation: IAM calls / PutEvaluations calls';
  if (changes.length) {
    const maxIam = Math.max(...changes.map((r) => r.iamCalls));
    const maxPut = Math.max(...changes.map(putCalls));
    checks.push({ target: t6, limit: '≤ 2 / ≤ 1', measured: `at most ${maxIam} / ${maxPut} over ${changes.length} runs`, met: maxIam <= 2 && maxPut <= 1 });
  } else checks.push(none(t6, '≤ 2 / ≤ 1'));

  const t7 = 'policy CPU, 5,000 users × 2 keys';
  checks.push(
    extras.policy
      ? { target: t7, limit: '< 100 ms', measured: `${extras.policy.firstMs.toFixed(1)} ms first pass, ${extras.policy.medianMs.toFixed(1)} ms median`, met: extras.policy.firstMs < 100 }
      : none(t7, '< 100 ms'),
  );

  const sweeps5k = scenarios.filter((s) => s.users === 5000).flatMap((s) => s.runs.filter((r) => r.strategy === 'keyage'));
  const t8 = 'peak RSS of the sweep, 5,000 users';
  if (sweeps5k.length) {
    const peak = Math.max(...sweeps5k.map((r) => r.peakRssBytes));
    checks.push({
      target: t8,
      limit: '< 150 MB',
      measured: `${mb(peak)} MB (largest of ${sweeps5k.length} runs, ${sweeps5k[0]?.rssSource})`,
      met: peak < 150 * 1_048_576,
      ...note(missBy(peak / 1_048_576, 150, 'MB')),
    });
  } else checks.push(none(t8, '< 150 MB'));

  const ext = extras.bundle?.find((v) => v.sdk === 'external');
  const t9 = 'handler bundle, minified, AWS SDK external';
  checks.push(
    ext ? { target: t9, limit: '< 100 KB', measured: `${(ext.bytes / 1024).toFixed(1)} KB`, met: ext.bytes < 100 * 1024, ...note(missBy(ext.bytes / 1024, 100, 'KB')) } : none(t9, '< 100 KB'),
  );
  return checks;
}

function note(text: string | undefined): { note?: string } {
  return text ? { note: text } : {};
}

/** The targets as a table, a missed one with its margin. */
export function formatTargets(checks: readonly TargetCheck[]): string {
  return table(
    ['target', 'limit', 'measured', 'met'],
    checks.map((c) => [c.target, c.limit, c.measured, c.met === undefined ? '—' : c.met ? 'yes' : `NO${c.note ? ` (${c.note})` : ''}`]),
    4,
  );
}
