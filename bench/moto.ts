/**
 * moto_server for the benchmark: start one on a free loopback port (when no endpoint is given)
 * and open fresh, isolated AWS accounts in it.
 *
 * The test harness has the same account logic (`test/harness/moto.ts`), but it defines jest
 * blocks at module level, so the benchmark — a plain Node program — keeps its own small copy.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

/** Where one benchmark account lives and how to sign for it. Plain data: it crosses process boundaries. */
export interface BenchAccount {
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string };
}

/** A moto_server this process started. */
export interface MotoServer {
  readonly endpoint: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

/**
 * Start `moto_server` (or `$KEYAGE_MOTO_SERVER`) on a free port and wait until it answers.
 * @throws Error naming the binary and how to install it when it cannot be started.
 */
export async function startMotoServer(bin = process.env.KEYAGE_MOTO_SERVER ?? 'moto_server', timeoutMs = 20_000): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const logFile = join(tmpdir(), `keyage-bench-moto-${port}.log`);
  const fd = openSync(logFile, 'w');
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const ready = await Promise.race([waitForHttp(`${endpoint}/moto-api/`, timeoutMs), spawnError]);
  if (ready !== true) {
    child.kill('SIGKILL');
    const tail = safeRead(logFile).slice(-400);
    const why = ready instanceof Error ? ready.message : `no answer on ${endpoint} within ${timeoutMs / 1000} s. ${tail}`;
    throw new Error(`${bin} could not be started: ${why}\nThe benchmark needs moto_server: pip install "moto[server]", or pass --endpoint URL of a running one.`);
  }
  return {
    endpoint,
    logFile,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
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

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
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
