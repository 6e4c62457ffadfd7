/**
 * Jest global setup: start one `moto_server` on a free loopback port for the whole run.
 * Tests isolate themselves by working in a fresh AWS account each (see `moto.ts`).
 *
 * Locally, a machine without moto_server runs the unit tests and says clearly that the
 * integration tests were skipped. Under CI=true a missing moto_server fails the run.
 */
import { startMotoServer } from './moto-server';

export default async function globalSetup(): Promise<void> {
  const bin = process.env.KEYAGE_MOTO_SERVER ?? 'moto_server';
  try {
    const server = await startMotoServer(bin);
    process.env.KEYAGE_MOTO_ENDPOINT = server.endpoint;
    (globalThis as { __KEYAGE_MOTO__?: unknown }).__KEYAGE_MOTO__ = server;
  } catch (err) {
    const reason = (err as Error).message;
    if (process.env.CI === 'true' || process.env.CI === '1') {
      throw new Error(`${reason}\nIntegration tests need moto_server under CI; install it with: pip install "moto[server]"`);
    }
    process.env.KEYAGE_MOTO_UNAVAILABLE = reason;
    process.stderr.write(`\n[keyage] ${reason}\n[keyage] Integration tests against moto_server will be SKIPPED. Install it with: pip install "moto[server]"\n\n`);
  }
}
