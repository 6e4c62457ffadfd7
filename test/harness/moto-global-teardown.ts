/** Jest global teardown: stop the moto_server started by the global setup. */
import type { MotoServer } from './moto-server';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __KEYAGE_MOTO__?: MotoServer }).__KEYAGE_MOTO__?.stop();
}
