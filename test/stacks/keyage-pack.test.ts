/**
 * `keyage pack`: the standalone conformance pack for one account and Region, with the literal
 * values AWS Config requires, ready for `aws configservice put-conformance-pack` as it is.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { parseCfnYaml } from '../../stacks/cfn-yaml';
import { literalPlaceViolations } from '../../stacks/pack-render';
import { CONFORMANCE_PACK_FILE } from '../../stacks/project';
import { cfnLint, itWithCfnLint } from '../harness/cfn-lint';

async function pack(argv: string[], cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['pack', ...argv], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd });
  return { code, stdout, stderr };
}

describe('keyage pack', () => {
  it('renders the pack for an account and Region: literal rule name, role ARN and function ARN, no parameter left without a default', async () => {
    const run = await pack(['--account', '111122223333', '--region', 'eu-west-1']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(literalPlaceViolations(run.stdout)).toEqual([]);
    const template = parseCfnYaml(run.stdout);
    const [rule, remediation] = ['AWS::Config::ConfigRule', 'AWS::Config::RemediationConfiguration'].map((t) => Object.values(template.Resources).find((r) => r.Type === t));
    expect(rule?.Properties?.ConfigRuleName).toBe('keyage-access-key-age');
    expect((rule?.Properties?.Source as { SourceIdentifier: unknown }).SourceIdentifier).toBe('arn:aws:lambda:eu-west-1:111122223333:function:keyage-access-key-age');
    expect((remediation?.Properties?.Parameters as Record<string, unknown>).AutomationAssumeRole).toEqual({ StaticValue: { Values: ['arn:aws:iam::111122223333:role/keyage-automation-eu-west-1'] } });
    expect(Object.entries(template.Parameters ?? {}).filter(([, p]) => p.Default === undefined)).toEqual([]);
    expect(run.stdout).toMatch(/^# keyage conformance pack for account 111122223333, Region eu-west-1, rendered by keyage pack\.\n/);
    expect(run.stdout).toContain('#   aws configservice put-conformance-pack --region eu-west-1 \\\n#     --conformance-pack-name keyage --template-body file://keyage-pack.yaml');
  });

  it('uses the partition of the Region, and the role and function given instead of the defaults', async () => {
    const gov = await pack(['--account', '111122223333', '--region', 'us-gov-west-1']);
    expect(gov.stdout).toContain('arn:aws-us-gov:iam::111122223333:role/keyage-automation-us-gov-west-1');
    const own = await pack(['--account', '111122223333', '--region', 'eu-west-1', '--automation-role-arn', 'arn:aws:iam::111122223333:role/my-automation', '--config-rule-name', 'access-keys-rotated-90']);
    const remediation = Object.values(parseCfnYaml(own.stdout).Resources).find((r) => r.Type === 'AWS::Config::RemediationConfiguration');
    expect(remediation?.Properties).toMatchObject({ ConfigRuleName: 'access-keys-rotated-90', Parameters: { AutomationAssumeRole: { StaticValue: { Values: ['arn:aws:iam::111122223333:role/my-automation'] } } } });
  });

  it('writes the file named by --output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyage-pack-'));
    const run = await pack(['--account', '111122223333', '--region', 'eu-west-1', '--output', 'pack.yaml'], dir);
    expect(run).toEqual({ code: 0, stdout: '', stderr: 'keyage: wrote pack.yaml\n' });
    expect(literalPlaceViolations(readFileSync(join(dir, 'pack.yaml'), 'utf8'))).toEqual([]);
  });

  it.each([
    [['--account', '12345', '--region', 'eu-west-1'], /parameter --account: "12345"\. Allowed: a 12-digit AWS account ID/],
    [['--account', '111122223333', '--region', 'eu-westt-1'], /parameter --region: "eu-westt-1"\. Allowed: an AWS Region code \(did you mean eu-west-1\?\)/],
    [['--account', '111122223333', '--region', 'eu-west-1', '--automation-role-arn', 'keyage-automation'], /parameter --automation-role-arn: "keyage-automation"\. Allowed: the ARN of an IAM role/],
  ])('refuses %j with exit status 2, naming the option', async (argv, message) => {
    const run = await pack(argv);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });

  it('refuses a template that is not a keyage pack, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyage-pack-bad-'));
    writeFileSync(join(dir, 'other.yaml'), 'Parameters:\n  X:\n    Type: String\nResources: {}\n');
    const run = await pack(['--account', '111122223333', '--region', 'eu-west-1', '--template', 'other.yaml'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/parameter --template: "other.yaml"\. Allowed: a keyage conformance pack template \(keyage: cannot render the conformance pack: the template declares no parameter named ConfigRuleName\)/);
  });

  itWithCfnLint('writes a pack cfn-lint finds nothing in, in its Region', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyage-pack-lint-'));
    await pack(['--account', '111122223333', '--region', 'eu-west-2', '--output', 'pack.yaml', '--template', CONFORMANCE_PACK_FILE], dir);
    const result = cfnLint([join(dir, 'pack.yaml')], [], { regions: ['eu-west-2'] });
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });
});
