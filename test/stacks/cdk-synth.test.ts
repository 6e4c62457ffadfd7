/**
 * `cdk synth` exactly as a user runs it: the pinned CLI, cdk.json's app command, no AWS
 * credentials, no network, telemetry off. Then cfn-lint on every template it wrote.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKeyageSettings } from '../../stacks/config';
import { PROJECT_ROOT } from '../../stacks/project';
import { cfnLint, extraLintRegions, itWithCfnLint } from '../harness/cfn-lint';
import { CDK_LINT_IGNORES } from './template-helpers';

const CDK = join(PROJECT_ROOT, 'node_modules', '.bin', 'cdk');
/** The settings synthesized: the shipped example, or your own with KEYAGE_TEST_CONFIG_FILE=my-org.json. */
const CONFIG_FILE = process.env.KEYAGE_TEST_CONFIG_FILE ?? 'stacks/keyage.config.example.json';

/** The environment of a machine with no AWS account configured at all. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('CDK_') && k !== 'KEYAGE_MOTO_ENDPOINT') env[k] = v;
  return {
    ...env,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(tmpdir(), 'keyage-no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), 'keyage-no-aws-credentials'),
  };
}

function cdkSynth(outdir: string, context: string[]): { status: number | null; output: string } {
  const args = ['synth', '--no-notices', '--quiet', '--output', outdir, ...context.flatMap((c) => ['--context', c])];
  const run = spawnSync(CDK, args, { cwd: PROJECT_ROOT, env: offlineEnv(), encoding: 'utf8', timeout: 90_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('npx cdk synth', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'keyage-cdk-synth-'));
  let synth: { status: number | null; output: string };

  beforeAll(() => {
    synth = cdkSynth(outdir, [`keyageConfigFile=${CONFIG_FILE}`]);
  }, 100_000);

  it('synthesizes the member stack, the organization stack, the aggregator and the StackSet template offline, without credentials', () => {
    expect({ status: synth.status, output: synth.status === 0 ? '' : synth.output }).toEqual({ status: 0, output: '' });
    const files = readdirSync(outdir);
    expect(files).toEqual(expect.arrayContaining(['KeyageMember.template.json', 'KeyageOrganization.template.json']));
    if (CONFIG_FILE === 'stacks/keyage.config.example.json') expect(files).toContain('KeyageAggregator.template.json');
    expect(files.filter((f) => f.endsWith('.stackset.template.json'))).toHaveLength(1);
  });

  it('passes the cdk-nag checks the app runs at synth (a finding would fail the synth)', () => {
    expect(synth.output).not.toMatch(/AwsSolutions-/);
    expect(existsSync(join(outdir, 'manifest.json'))).toBe(true);
  });

  itWithCfnLint('writes templates cfn-lint finds nothing in, in every Region the settings target (and those KEYAGE_LINT_REGIONS names)', () => {
    const settings = loadKeyageSettings((k) => (k === 'keyageConfigFile' ? CONFIG_FILE : undefined), PROJECT_ROOT);
    const regions = [...(settings.organization?.regions ?? ['us-east-1']), ...(settings.organization ? [settings.organization.deploymentRegion] : []), ...extraLintRegions()];
    const templates = readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => join(outdir, f));
    expect(templates.length).toBeGreaterThanOrEqual(settings.organization ? 3 : 1);
    const result = cfnLint(templates, CDK_LINT_IGNORES, { regions });
    expect({ regions, output: result.output }).toEqual({ regions, output: '' });
    expect(result.exitCode).toBe(0);
  });

  it('fails, naming the setting, when a setting is wrong', () => {
    const bad = cdkSynth(mkdtempSync(join(tmpdir(), 'keyage-cdk-synth-bad-')), ['keyage={"maxAccessKeyAge":0}']);
    expect(bad.status).not.toBe(0);
    expect(bad.output).toMatch(/Invalid value for parameter keyage\.maxAccessKeyAge: 0\. Allowed: a whole number of days from 1 to 3650/);
  }, 60_000);

  it('fails, suggesting the Region meant, when a target Region is misspelt', () => {
    const bad = cdkSynth(mkdtempSync(join(tmpdir(), 'keyage-cdk-synth-region-')), ['keyage={"organizationId":"o-a1b2c3d4e5","organizationalUnitIds":["r-ab12"],"regions":["eu-westt-1"]}']);
    expect(bad.status).not.toBe(0);
    expect(bad.output).toMatch(/Invalid value for parameter keyage\.regions: .*eu-westt-1.*\. Allowed: an AWS Region code \(did you mean eu-west-1\?\)/);
  }, 60_000);
});
