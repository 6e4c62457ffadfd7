/** Jest global teardown: stop the moto_server started by the global setup. */
import type { ChildProcess } from 'node:child_process';

export default async function globalTeardown(): Promise<void> {
  const child = (globalThis as { __KEYAGE_MOTO__?: ChildProcess }).__KEYAGE_MOTO__;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
  clearTimeout(timer);
  if (child.exitCode === null) child.kill('SIGKILL');
}
