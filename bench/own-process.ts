/**
 * A benchmark job run in a Node process of its own, so that its peak RSS is its own: the job as
 * JSON on the child's stdin, the run as the last line of its stdout.
 */
import { spawn } from 'node:child_process';

/**
 * Run `job` in a new Node process executing `entry` (the bundled benchmark) with `flag`, which
 * makes it a worker. `nodeArgs` go to node itself, e.g. the heap limits the Lambda runtime
 * derives from the function's memory. `what` names the worker in an error.
 */
export function runInOwnProcess<Job, Run>(entry: string, flag: string, job: Job, what: string, nodeArgs: readonly string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, entry, flag], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Run);
      } catch (e) {
        reject(new Error(`the ${what} worker failed (${e instanceof Error ? e.message : String(e)}): ${err.slice(-2000)}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}

/** The worker side: the job from stdin. */
export async function readJob<Job>(): Promise<Job> {
  let input = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) input += chunk as string;
  return JSON.parse(input) as Job;
}
