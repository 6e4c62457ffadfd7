/**
 * Start and stop a local `moto_server` (a local AWS that the real SDK v3 clients reach over
 * HTTP), and open fresh accounts in it. Plain Node code with no jest globals: the jest global
 * setup, the test harness and the benchmark share it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

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
  const logFile = join(tmpdir(), `keyage-moto-${port}.log`);
  const fd = openSync(logFile, 'w');
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const ready = await Promise.race([waitForHttp(`${endpoint}/moto-api/`, timeoutMs), spawnError]);
  if (ready !== true) {
    child.kill('SIGKILL');
    const tail = safeRead(logFile).slice(-400);
    const why = ready instanceof Error ? ready.message : `no answer on ${endpoint} within ${timeoutMs / 1000} s. ${tail}`;
    throw new Error(`${bin} could not be started: ${why}`);
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

/** Credentials of one account in moto. */
export interface MotoAccountCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

let accounts = 0;

/**
 * A fresh, empty AWS account in moto: AssumeRole into a random account ID gives it IAM and
 * Config state of its own, so parallel users of one server never see each other's users.
 * @param label the role and session name, for moto's logs.
 */
export async function openFreshAccount(
  endpoint: string,
  region: string,
  label: string,
): Promise<{ accountId: string; credentials: MotoAccountCredentials }> {
  accounts += 1;
  const accountId = String(100_000_000_000 + ((process.pid * 7919 + accounts * 104_729 + Math.floor(Math.random() * 1e9)) % 899_999_999_999));
  const sts = new STSClient({ endpoint, region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  try {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/${label}`, RoleSessionName: label }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('moto AssumeRole returned no credentials');
    return { accountId, credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken } };
  } finally {
    sts.destroy();
  }
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
