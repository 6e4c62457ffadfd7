/**
 * moto_server for the benchmark: start one on a free loopback port (when no endpoint is given)
 * and open fresh, isolated AWS accounts in it.
 *
 * The server itself is started by `test/harness/moto-server.ts`, shared with the jest global
 * setup. So is the opening of a fresh account (`openFreshAccount`).
 */
import { type MotoServer, openFreshAccount, startMotoServer as startServer } from '../test/harness/moto-server';

export type { MotoServer };

/**
 * Start `moto_server` on a free port for the benchmark.
 * @throws Error naming the binary and how to install it when it cannot be started.
 */
export async function startMotoServer(bin?: string, timeoutMs?: number): Promise<MotoServer> {
  try {
    return await startServer(bin, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nThe benchmark needs moto_server: pip install "moto[server]", or pass --endpoint URL of a running one.`);
  }
}

/** Where one benchmark account lives and how to sign for it. Plain data: it crosses process boundaries. */
export interface BenchAccount {
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string };
}

/** A fresh, empty AWS account in moto (see `openFreshAccount`). */
export async function newBenchAccount(endpoint: string, region = 'us-east-1'): Promise<BenchAccount> {
  return { endpoint, region, ...(await openFreshAccount(endpoint, region, 'keyage-bench')) };
}

/** SDK client settings for an account (add `maxAttempts` as the strategy needs). */
export function clientConfig(account: BenchAccount): { endpoint: string; region: string; credentials: BenchAccount['credentials'] } {
  return { endpoint: account.endpoint, region: account.region, credentials: account.credentials };
}
