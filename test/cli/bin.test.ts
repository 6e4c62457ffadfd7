/**
 * The installed command, as a user runs it: the real `bin/keyage.js` in a child process, on the
 * bundle the `prepare` script builds (run here first, as `npm ci` runs it on a fresh clone),
 * through `npx keyage` and `npm run keyage`, and live against moto_server with nothing but the
 * environment the SDK reads (AWS_ENDPOINT_URL, AWS_REGION, credentials).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { AuditReport } from '../../cli/audit-report';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { createUserWithKeys, describeWithMoto, newMotoAccount, recordKeyOf } from '../harness/moto';
import { EXAMPLE, fixture, golden, PINNED_NOW, ROOT } from './run-cli';

const BIN = join(ROOT, 'bin', 'keyage.js');

/** An environment with no AWS settings of the developer's leaking in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_CONFIG_FILE: join(ROOT, 'no-such-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(ROOT, 'no-such-aws-credentials') };
  return { ...env, ...extra };
}

function keyage(args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()) {
  const out = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.js')], { cwd: ROOT, stdio: 'pipe' });
});

describe('the keyage bin', () => {
  it('--help works for the program and every command', () => {
    for (const args of [['--help'], ['audit', '--help'], ['remediate', '--help'], ['help', 'audit'], ['help', 'remediate']]) {
      const run = keyage(args);
      expect({ args, code: run.code }).toEqual({ args, code: 0 });
      expect(run.stdout).toContain('Usage: keyage');
    }
  });

  it('the README\'s main command prints the golden table and exits 1 (the example holds stale keys)', () => {
    const run = keyage(['audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(golden('example.table.txt', run.stdout));
    expect(run.code).toBe(1);
  });

  it('a malformed report exits 2 with the message on standard error', () => {
    const run = keyage(['audit', '--credential-report', fixture('bad-date.csv')]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/bad-date\.csv \(line 3, column 10\)/);
  });

  it('an unknown --profile exits 2 naming it; a bad AWS_ENDPOINT_URL exits 2 naming the variable', () => {
    const profile = keyage(['audit', '--profile', 'nope']);
    expect(profile.code).toBe(2);
    expect(profile.stdout).toBe('');
    expect(profile.stderr).toContain('keyage: profile "nope" (from --profile) is not in ');
    const endpoint = keyage(['audit'], cleanEnv({ AWS_ENDPOINT_URL: 'moto:5000' }));
    expect(endpoint.code).toBe(2);
    expect(endpoint.stderr).toContain('keyage: Invalid value for parameter AWS_ENDPOINT_URL: "moto:5000". Allowed: an http:// or https:// URL');
  });

  it('exits 0 on an all-compliant report', () => {
    expect(keyage(['audit', '--credential-report', fixture('compliant.csv'), '--now', PINNED_NOW]).code).toBe(0);
  });

  it('stops quietly when the reader of its output goes away (keyage audit | head -1)', () => {
    // far more output than a pipe buffers, so the writes after `head` exits do fail with EPIPE
    const dir = mkdtempSync(join(tmpdir(), 'keyage-epipe-'));
    try {
      const [header, ...rows] = readFileSync(join(ROOT, EXAMPLE), 'utf8').trimEnd().split('\n');
      const users = rows.filter((r) => !r.startsWith('<root_account>'));
      const many = Array.from({ length: 300 }, (_, i) => users.map((r) => r.replace(/^([^,]+),([^,]*user\/(?:[^,]*\/)?)([^,/]+),/, `$1${i},$2$3${i},`))).flat();
      writeFileSync(join(dir, 'big.csv'), `${[header, ...many].join('\n')}\n`);
      const script = `"${process.execPath}" "${BIN}" audit --credential-report "${join(dir, 'big.csv')}" --format json | head -c 1; echo " status=\${PIPESTATUS[0]}"`;
      const out = spawnSync('bash', ['-c', script], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8' });
      expect(out.stdout).toBe('{ status=1\n'); // the real verdict's status, not a crash and not 0
      expect(out.stderr).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says how to build it when the bundle is missing, exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyage-bin-'));
    try {
      mkdirSync(join(dir, 'bin'));
      copyFileSync(BIN, join(dir, 'bin', 'keyage.js'));
      const out = spawnSync(process.execPath, [join(dir, 'bin', 'keyage.js'), '--help'], { encoding: 'utf8' });
      expect(out.status).toBe(2);
      expect(out.stderr).toContain('Run: npm run build:cli');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('"npx keyage" and "npm run keyage --" run it from the checkout', () => {
    const npx = spawnSync('npx', ['--no-install', 'keyage', '--version'], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(npx.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(npx.status).toBe(0);
    const npm = spawnSync('npm', ['run', '--silent', 'keyage', '--', 'audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW, '--format', 'json'], {
      cwd: ROOT,
      env: cleanEnv(),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(npm.status).toBe(1);
    expect((JSON.parse(npm.stdout) as AuditReport).summary.nonCompliantUsers).toBe(3);
  });
});

/** Standard error as lines; keyage keeps the SDK's Node version warning out of it. */
const keyageLines = (stderr: string) => stderr.split('\n').filter((l) => l !== '');
/** All a live run should say there: which parameters it used. */
const usingDefaults = (region: string) =>
  `keyage: using keyage's defaults (no keyage rule is deployed in ${region}): MaxAccessKeyAge 90 (default), ExemptionTag none (default), GracePeriodDays 14 (default); flags override.`;
const USING_DEFAULTS = usingDefaults('us-east-1');

describeWithMoto('the keyage bin against moto_server', () => {
  it('a live audit reaches the account through AWS_ENDPOINT_URL and the default credential chain', async () => {
    const account = await newMotoAccount();
    try {
      await recordKeyOf(account);
      const bob = await createUserWithKeys(account.iam, 'bob', 1);
      const run = keyage(['audit', '--format', 'json', '--now', new Date(Date.now() + 91 * DAY_MS).toISOString()], cleanEnv(account.env()));
      // Only keyage's line: under Node 20 the SDK would add its eight-line Node version warning.
      expect(run.stderr).toBe(`${USING_DEFAULTS}\n`);
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout) as AuditReport;
      expect(report.accountId).toBe(account.accountId);
      expect(report.users.map((u) => [u.userName, u.compliance, u.keys[0]?.accessKeyId])).toEqual([['bob', 'NON_COMPLIANT', bob.accessKeyIds[0]]]);
    } finally {
      account.iam.destroy();
      account.config.destroy();
    }
  });

  it('the SDK\'s Node version warning stays out of normal output; --verbose, or the variable set by the user, leaves it to the SDK', async () => {
    const account = await newMotoAccount();
    try {
      await recordKeyOf(account);
      const quiet = keyage(['audit', '--format', 'json'], cleanEnv(account.env()));
      expect(quiet.stderr).not.toContain('NodeVersionSupportWarning');
      expect(quiet.code).toBe(0);
      const major = Number(process.versions.node.split('.')[0]);
      for (const run of [
        keyage(['audit', '--format', 'json', '--verbose'], cleanEnv(account.env())),
        keyage(['audit', '--format', 'json'], cleanEnv({ ...account.env(), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' })),
      ]) {
        // the pinned SDK warns on Node older than 22 (@aws-sdk/core emitWarningIfUnsupportedVersion)
        if (major < 22) expect(run.stderr).toContain('NodeVersionSupportWarning');
        else expect(run.stderr).not.toContain('NodeVersionSupportWarning');
      }
    } finally {
      account.iam.destroy();
      account.config.destroy();
    }
  });

  it('--profile reads credentials, endpoint and Region from the shared AWS config files', async () => {
    const account = await newMotoAccount();
    const dir = mkdtempSync(join(tmpdir(), 'keyage-profile-'));
    try {
      await recordKeyOf(account);
      await createUserWithKeys(account.iam, 'carol', 0);
      const c = account.credentials;
      writeFileSync(join(dir, 'credentials'), `[audit]\naws_access_key_id = ${c.accessKeyId}\naws_secret_access_key = ${c.secretAccessKey}\naws_session_token = ${c.sessionToken}\n`);
      writeFileSync(join(dir, 'config'), `[profile audit]\nregion = eu-west-1\nendpoint_url = ${account.endpoint}\n`);
      const env = { ...cleanEnv(), AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') };
      const run = keyage(['audit', '--profile', 'audit', '--format', 'json'], env);
      // The profile's Region for every client: the record key made in us-east-1 is not found in eu-west-1.
      expect(keyageLines(run.stderr)).toEqual([
        usingDefaults('eu-west-1'),
        'keyage: note: no record key (there is no KMS key alias/keyage-deactivation-records in eu-west-1): deactivation records cannot be verified, so no deletion is planned.',
      ]);
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as AuditReport;
      // The profile's Region, as the AWS CLI takes it.
      expect(report.source).toEqual({ kind: 'live', region: 'eu-west-1', profile: 'audit' });
      expect(report.region).toBe('eu-west-1');
      expect(report.accountId).toBe(account.accountId);
      expect(report.users.map((u) => u.userName)).toEqual(['carol']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      account.iam.destroy();
      account.config.destroy();
    }
  });

  it('--security-hub imports the findings into the account\'s Security Hub through AWS_ENDPOINT_URL', async () => {
    const account = await newMotoAccount();
    const hub = new SecurityHubClient({ endpoint: account.endpoint, region: account.region, credentials: account.credentials });
    try {
      await createUserWithKeys(account.iam, 'bob', 1);
      const run = keyage(['audit', '--security-hub', '--now', new Date(Date.now() + 91 * DAY_MS).toISOString()], cleanEnv(account.env()));
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`keyage: Security Hub us-east-1, account ${account.accountId}: 2 FAILED and 0 PASSED finding(s) imported, 0 closed (ARCHIVED).`);
      const found = await hub.send(new GetFindingsCommand({ MaxResults: 100 }));
      expect((found.Findings ?? []).map((f) => [f.GeneratorId, f.Compliance?.Status, f.RecordState]).sort()).toEqual([
        ['keyage/IAM.3/access-key', 'FAILED', 'ACTIVE'],
        ['keyage/IAM.3/user', 'FAILED', 'ACTIVE'],
      ]);
    } finally {
      hub.destroy();
      account.iam.destroy();
      account.config.destroy();
    }
  });

  it('remediate reaches the account the same way; a dry run leaves the key Active', async () => {
    const account = await newMotoAccount();
    try {
      await recordKeyOf(account);
      const bob = await createUserWithKeys(account.iam, 'bob', 1);
      const run = keyage(['remediate', '--user', 'bob', '--now', new Date(Date.now() + 92 * DAY_MS).toISOString()], cleanEnv(account.env()));
      expect(keyageLines(run.stderr)).toEqual([USING_DEFAULTS]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('DRY RUN: nothing was changed.');
      expect(run.stdout).toContain(`would deactivate 1 key (${bob.accessKeyIds[0]})`);
      const keys = await account.iam.send(new ListAccessKeysCommand({ UserName: 'bob' }));
      expect(keys.AccessKeyMetadata?.map((k) => k.Status)).toEqual(['Active']);
    } finally {
      account.iam.destroy();
      account.config.destroy();
    }
  });
});
