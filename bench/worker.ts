/**
 * Each strategy run in a process of its own, so that its CPU time and peak RSS are its own:
 * the parent starts the bundled benchmark again with `--worker`, writes the job as JSON on
 * its stdin and reads the run back as JSON from its stdout.
 */
import { spawn } from 'node:child_process';
import { runStrategy, type StrategyJob, type StrategyRun } from './strategies';

/** The argument that makes the bundled benchmark a worker. */
export const WORKER_FLAG = '--worker';

/**
 * Run `job` in a new Node process executing `entry` (the bundled benchmark). `nodeArgs` go to
 * node itself, e.g. the heap limits the Lambda runtime derives from the function's memory.
 */
export function runInWorker(entry: string, job: StrategyJob, nodeArgs: readonly string[] = []): Promise<StrategyRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, entry, WORKER_FLAG], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(last) as StrategyRun);
      } catch (e) {
        reject(new Error(`the ${job.strategy} worker failed (${e instanceof Error ? e.message : String(e)}): ${err.slice(-2000)}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}

/** The worker side: read a job on stdin, run it, print the run on stdout. */
export async function workerMain(): Promise<void> {
  let input = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) input += chunk as string;
  const job = JSON.parse(input) as StrategyJob;
  const run = await runStrategy(job, { ownProcess: true });
  process.stdout.write(`${JSON.stringify(run)}\n`);
}
