/**
 * Profiles, Regions and endpoints as the AWS CLI reads them: `--profile` brings the profile's
 * Region, an unknown profile is a usage error naming it, `--region` and the environment win over
 * the profile, a bad `AWS_ENDPOINT_URL` (or profile `endpoint_url`) is named as such.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { parseIni, resolveAwsSettings, UnknownProfileError } from '../../cli/aws-settings';
import type { AsffFinding } from '../../cli/format-asff';
import { InvalidParameterError } from '../../lib/errors';
import { EXAMPLE, PINNED_NOW, runCli } from './run-cli';

let dir: string;
let env: Record<string, string>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyage-aws-'));
  writeFileSync(
    join(dir, 'config'),
    [
      '# a comment',
      '[default]',
      'region = us-west-2',
      '',
      '[profile audit]',
      'region = eu-central-1',
      'output = json',
      's3 =',
      '  max_concurrent_requests = 4',
      '',
      '[profile local]',
      'region = eu-west-1',
      'endpoint_url = not a url',
      '',
      '[profile noregion]',
      'output = text',
      '[sso-session corp]',
      'sso_region = us-east-1',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'credentials'), '[ci]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = example\n');
  env = { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') };
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('resolveAwsSettings', () => {
  it('--profile brings the profile\'s region', () => {
    expect(resolveAwsSettings({ profile: 'audit' }, env)).toMatchObject({ profile: 'audit', region: 'eu-central-1', regionSource: 'region of profile audit' });
  });

  it('AWS_PROFILE works as --profile does; without either, the default profile\'s region applies', () => {
    expect(resolveAwsSettings({}, { ...env, AWS_PROFILE: 'audit' })).toMatchObject({ profile: 'audit', region: 'eu-central-1' });
    expect(resolveAwsSettings({}, env)).toMatchObject({ profile: null, region: 'us-west-2', regionSource: 'region of profile default' });
  });

  it('the AWS CLI\'s order: --region, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile, then us-east-1', () => {
    expect(resolveAwsSettings({ profile: 'audit', region: 'ap-south-1' }, { ...env, AWS_REGION: 'sa-east-1' }).region).toBe('ap-south-1');
    expect(resolveAwsSettings({ profile: 'audit' }, { ...env, AWS_REGION: 'sa-east-1', AWS_DEFAULT_REGION: 'ca-central-1' }).region).toBe('sa-east-1');
    expect(resolveAwsSettings({ profile: 'audit' }, { ...env, AWS_DEFAULT_REGION: 'ca-central-1' }).region).toBe('ca-central-1');
    expect(resolveAwsSettings({ profile: 'noregion' }, env)).toMatchObject({ region: 'us-east-1', regionSource: 'default' });
  });

  it('a profile only in the credentials file is known', () => {
    expect(resolveAwsSettings({ profile: 'ci' }, env)).toMatchObject({ profile: 'ci', region: 'us-east-1' });
  });

  it('an unknown profile is a named error that lists the profiles there are', () => {
    let err: unknown;
    try {
      resolveAwsSettings({ profile: 'prod' }, env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownProfileError);
    expect((err as Error).message).toBe(`profile "prod" (from --profile) is not in ${env.AWS_CONFIG_FILE} or ${env.AWS_SHARED_CREDENTIALS_FILE}; the profiles there are audit, ci, default, local, noregion`);
    expect(() => resolveAwsSettings({}, { ...env, AWS_PROFILE: 'prod' })).toThrow('profile "prod" (from AWS_PROFILE)');
  });

  it('a bad AWS_ENDPOINT_URL, per-service endpoint or profile endpoint_url is named as such', () => {
    expect(() => resolveAwsSettings({}, { ...env, AWS_ENDPOINT_URL: 'localhost:5000' })).toThrow(
      'Invalid value for parameter AWS_ENDPOINT_URL: "localhost:5000". Allowed: an http:// or https:// URL such as https://iam.amazonaws.com or http://127.0.0.1:5000.',
    );
    expect(() => resolveAwsSettings({}, { ...env, AWS_ENDPOINT_URL_SECURITYHUB: 'ftp://x' })).toThrow('Invalid value for parameter AWS_ENDPOINT_URL_SECURITYHUB: "ftp://x"');
    expect(() => resolveAwsSettings({ profile: 'local' }, env)).toThrow(`Invalid value for parameter endpoint_url of profile local (${env.AWS_CONFIG_FILE}): "not a url"`);
    expect(resolveAwsSettings({}, { ...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }).endpoints).toEqual({ AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' });
  });

  it('a bad region names where it came from', () => {
    expect(() => resolveAwsSettings({}, { ...env, AWS_REGION: 'mars' })).toThrow(InvalidParameterError);
    expect(() => resolveAwsSettings({}, { ...env, AWS_REGION: 'mars' })).toThrow('Invalid value for parameter AWS_REGION: "mars"');
  });

  it('missing shared files hold no profile, and are no error without a named profile', () => {
    const none = { AWS_CONFIG_FILE: join(dir, 'nope'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'nope2') };
    expect(resolveAwsSettings({}, none)).toMatchObject({ profile: null, region: 'us-east-1' });
    expect(() => resolveAwsSettings({ profile: 'x' }, none)).toThrow('neither file has any profile');
  });
});

describe('parseIni', () => {
  it('reads sections and settings, skips comments and nested settings', () => {
    const ini = parseIni('; c\n[ profile  a ]\nregion=eu-west-1 \n  nested = 1\n[b] # note\nkey = v = w\n');
    expect([...ini.entries()]).toEqual([
      ['profile a', { region: 'eu-west-1' }],
      ['b', { key: 'v = w' }],
    ]);
  });
});

describe('keyage with profiles', () => {
  it('--profile sets the Region findings are attributed to', async () => {
    const run = await runCli(['audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW, '--format', 'asff', '--profile', 'audit'], { env });
    const [first] = JSON.parse(run.stdout) as AsffFinding[];
    expect(first?.ProductArn).toBe('arn:aws:securityhub:eu-central-1:123456789012:product/123456789012/default');
  });

  it('an unknown profile: exit 2 naming it, nothing on standard output', async () => {
    const run = await runCli(['audit', '--profile', 'prod'], { env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`keyage: profile "prod" (from --profile) is not in ${env.AWS_CONFIG_FILE} or ${env.AWS_SHARED_CREDENTIALS_FILE}; the profiles there are audit, ci, default, local, noregion\n`);
  });

  it('a bad AWS_ENDPOINT_URL: exit 2 naming the variable', async () => {
    const run = await runCli(['audit'], { env: { ...env, AWS_ENDPOINT_URL: 'localhost:5000' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^keyage: Invalid value for parameter AWS_ENDPOINT_URL: "localhost:5000"/);
  });

  it('an endpoint nothing listens on: exit 3, and the message names the variable that set it', async () => {
    const endpoint = 'http://127.0.0.1:9';
    const iam = new IAMClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' }, maxAttempts: 1 });
    const run = await runCli(['audit'], { env: { ...env, AWS_ENDPOINT_URL: endpoint }, iam, retry: { maxAttempts: 1 } });
    iam.destroy();
    expect(run.code).toBe(3);
    // The deployed rule is read first (with the default credential chain here, which has none):
    // a warning, keyage's defaults, then the IAM failure that ends the run.
    expect(run.stderr).toMatch(/^keyage: warning: the deployed rule could not be read \(config:DescribeConfigRules\)/);
    expect(run.stderr).toMatch(/^keyage: iam:GetAccountAuthorizationDetails failed after 1 attempt: .*ECONNREFUSED/m);
    expect(run.stderr).toContain(`(the endpoint is set by AWS_ENDPOINT_URL=${endpoint}: is it right, and is the service listening there?)`);
  });
});
