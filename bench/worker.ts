/**
 * Each strategy run in a process of its own, so that its CPU time and peak RSS are its own:
 * the parent starts the bundled benchmark again with `--worker`, writes the job as JSON on
 * its stdin and reads the run back as JSON from its stdout.
 */
import { readJob, runInOwnProcess } from './own-process';
import { runStrategy, type StrategyJob, type StrategyRun } from './strategies';

/** The argument that makes the bundled benchmark a worker. */
export const WORKER_FLAG = '--worker';

/**
 * Run `job` in a new Node process executing `entry` (the bundled benchmark). `nodeArgs` go to
 * node itself, e.g. the heap limits the Lambda runtime derives from the function's memory.
 */
export function runInWorker(entry: string, job: StrategyJob, nodeArgs: readonly string[] = []): Promise<StrategyRun> {
  return runInOwnProcess<StrategyJob, StrategyRun>(entry, WORKER_FLAG, job, job.strategy, nodeArgs);
}

/** The worker side: read a job on stdin, run it, print the run on stdout. */
export async function workerMain(): Promise<void> {
  const job = await readJob<StrategyJob>();
  const run = await runStrategy(job, { ownProcess: true });
  process.stdout.write(`${JSON.stringify(run)}\n`);
}
