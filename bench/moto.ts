/**
 * moto_server for the benchmark: start one on a free loopback port (when no endpoint is given)
 * and open fresh, isolated AWS accounts in it.
 *
 * The server itself is started by `test/harness/moto-server.ts`, shared with the jest global
 * setup. The account logic mirrors `test/harness/moto.ts`, which defines jest blocks at module
 * level and so cannot be loaded by a plain Node program.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { type MotoServer, startMotoServer as startServer } from '../test/harness/moto-server';

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

let accounts = 0;

/** A fresh, empty AWS account in moto: AssumeRole into a random account ID gives it its own IAM and Config state. */
export async function newBenchAccount(endpoint: string, region = 'us-east-1'): Promise<BenchAccount> {
  accounts += 1;
  const accountId = String(100_000_000_000 + ((process.pid * 7919 + accounts * 104_729 + Math.floor(Math.random() * 1e9)) % 899_999_999_999));
  const sts = new STSClient({ endpoint, region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  try {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/keyage-bench`, RoleSessionName: 'keyage-bench' }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('moto AssumeRole returned no credentials');
    return { endpoint, region, accountId, credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken } };
  } finally {
    sts.destroy();
  }
}

/** SDK client settings for an account (add `maxAttempts` as the strategy needs). */
export function clientConfig(account: BenchAccount): { endpoint: string; region: string; credentials: BenchAccount['credentials'] } {
  return { endpoint: account.endpoint, region: account.region, credentials: account.credentials };
}
