/**
 * Jest global setup: start one `moto_server` on a free loopback port for the whole run.
 * Tests isolate themselves by working in a fresh AWS account each (see `moto.ts`).
 *
 * Locally, a machine without moto_server runs the unit tests and says clearly that the
 * integration tests were skipped. Under CI=true a missing moto_server fails the run.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MOTO_BIN = process.env.KEYAGE_MOTO_SERVER ?? 'moto_server';

export default async function globalSetup(): Promise<void> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // moto logs every request; send it to a file, not a pipe, so nothing holds jest open.
  const logFile = join(tmpdir(), `keyage-moto-${port}.log`);
  const logFd = openSync(logFile, 'w');
  const child = spawn(MOTO_BIN, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  child.unref();
  const stderr = (): string => {
    try {
      return readFileSync(logFile, 'utf8').slice(-500);
    } catch {
      return '';
    }
  };
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const ready = await Promise.race([waitForHttp(`${endpoint}/moto-api/`, 20_000), spawnError]);
  if (ready !== true) {
    child.kill('SIGKILL');
    const reason = ready instanceof Error ? `${MOTO_BIN} could not be started: ${ready.message}` : `${MOTO_BIN} did not answer on ${endpoint} within 20 s. ${stderr()}`;
    if (process.env.CI === 'true' || process.env.CI === '1') {
      throw new Error(`${reason}\nIntegration tests need moto_server under CI; install it with: pip install "moto[server]"`);
    }
    process.env.KEYAGE_MOTO_UNAVAILABLE = reason;
    process.stderr.write(`\n[keyage] ${reason}\n[keyage] Integration tests against moto_server will be SKIPPED. Install it with: pip install "moto[server]"\n\n`);
    return;
  }
  process.env.KEYAGE_MOTO_ENDPOINT = endpoint;
  (globalThis as { __KEYAGE_MOTO__?: unknown }).__KEYAGE_MOTO__ = child;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, timeoutMs: number): Promise<true | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await new Promise<number>((resolve) => {
      // agent: false and no keep-alive, so no socket outlives the check and holds jest open
      const req = get(url, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.setTimeout(2000, () => req.destroy());
    });
    if (status > 0 && status < 500) return true;
    await new Promise((r) => setTimeout(r, 150));
  }
  return undefined;
}
