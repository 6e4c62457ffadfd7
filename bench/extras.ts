/**
 * Measurements that need no AWS: the pure policy's CPU for a 5,000-user account, the size of
 * the rule's bundle (esbuild, minified; AWS SDK external as the Lambda Node.js runtime
 * provides it, and bundled), and how long a cold Node process takes to import that bundle.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type AccessKey, DAY_MS, evaluateAccessKeys } from '../rules/access-key-age/policy';
import { mulberry32 } from '../test/harness/faults';

/** The policy's CPU time for one account. */
export interface PolicyCpuResult {
  readonly users: number;
  readonly keys: number;
  /** CPU (user + system) of the first pass, in a process that had not run the policy before. */
  readonly firstMs: number;
  /** Median CPU of `rounds` further passes. */
  readonly medianMs: number;
  readonly rounds: number;
  readonly nonCompliant: number;
}

/** evaluateAccessKeys over `users` users with two keys each, ages spread over a year. */
export function measurePolicyCpu(users = 5000, rounds = 5): PolicyCpuResult {
  const random = mulberry32(42);
  const now = new Date('2026-11-25T12:00:00.000Z');
  const accounts: AccessKey[][] = Array.from({ length: users }, () =>
    [1, 2].map((slot) => ({
      accessKeyId: `AKIA${Math.floor(random() * 1e16).toString(36).toUpperCase().padStart(16, '0')}`,
      slot: slot as 1 | 2,
      status: random() < 0.85 ? ('Active' as const) : ('Inactive' as const),
      createdAt: new Date(now.getTime() - Math.floor(random() * 365 * DAY_MS)),
      lastUsedAt: random() < 0.2 ? null : new Date(now.getTime() - Math.floor(random() * 30 * DAY_MS)),
    })),
  );
  const pass = (): { ms: number; nonCompliant: number } => {
    const c0 = process.cpuUsage();
    let nonCompliant = 0;
    for (const keys of accounts) if (evaluateAccessKeys(keys, now, { maxAccessKeyAgeDays: 90 }).compliance === 'NON_COMPLIANT') nonCompliant++;
    const c = process.cpuUsage(c0);
    return { ms: (c.user + c.system) / 1000, nonCompliant };
  };
  const first = pass();
  const more = Array.from({ length: rounds }, () => pass().ms);
  return { users, keys: users * 2, firstMs: first.ms, medianMs: median(more), rounds, nonCompliant: first.nonCompliant };
}

/** One way of bundling the rule handler, its size and cold import time. */
export interface BundleVariant {
  readonly sdk: 'external' | 'bundled';
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly file: string;
  /** Time to `require` the bundle in a fresh Node process, median of `samples`. */
  readonly coldImportMs: number;
  readonly coldImportSamplesMs: readonly number[];
}

/**
 * Bundle `rules/access-key-age/handler.ts` as the Lambda would ship it (CommonJS, Node 22,
 * minified), once with `@aws-sdk/*` external and once with everything in, and time a cold import of each.
 */
export async function measureBundle(root: string, outDir: string, samples = 5): Promise<BundleVariant[]> {
  const esbuild = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  const variants: BundleVariant[] = [];
  for (const sdk of ['external', 'bundled'] as const) {
    const file = join(outDir, `handler.${sdk}.js`);
    const result = await esbuild.build({
      entryPoints: [join(root, 'rules', 'access-key-age', 'handler.ts')],
      outfile: file,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      external: sdk === 'external' ? ['@aws-sdk/*'] : [],
      write: true,
      logLevel: 'silent',
      metafile: true,
    });
    const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
    const times = Array.from({ length: samples }, () => coldImport(file));
    variants.push({ sdk, bytes, gzipBytes: gzipSync(readFileSync(file)).length, file, coldImportMs: median(times), coldImportSamplesMs: times });
  }
  return variants;
}

/** Milliseconds a new Node process spends in `require(file)`. */
function coldImport(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const out = execFileSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_REGION: 'us-east-1' },
  });
  return Number(out);
}

/** The median; NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
