/**
 * The Region table keyage validates settings against: its typo suggestions, and its agreement
 * with the CloudFormation resource specification cfn-lint ships (which Regions exist, which
 * lack AWS::Config::RemediationConfiguration).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidParameterError } from '../../lib/errors';
import { AWS_REGIONS, REGIONS_WITHOUT_PACK_REMEDIATION, nearestRegion, parseRegionCode, partitionOf } from '../../stacks/regions';
import { cfnLint, itWithCfnLint } from '../harness/cfn-lint';

describe('the Region table', () => {
  it('suggests the Region a typo most likely meant', () => {
    expect(nearestRegion('eu-westt-1')).toBe('eu-west-1');
    expect(nearestRegion('us-east1')).toBe('us-east-1');
    expect(nearestRegion('mars-north-1')).toBeUndefined();
  });

  it('refuses an unknown Region with an error naming the setting and the known Regions', () => {
    let error: unknown;
    try {
      parseRegionCode('eu-westt-1', 'keyage.regions');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).message).toMatch(/parameter keyage\.regions: "eu-westt-1"\. Allowed: an AWS Region code \(did you mean eu-west-1\?\); keyage knows af-south-1, /);
    expect(() => parseRegionCode(42, '--region')).toThrow(/parameter --region: 42/);
  });

  it('knows the partition of each Region', () => {
    expect([partitionOf('eu-west-1'), partitionOf('cn-northwest-1'), partitionOf('us-gov-east-1')]).toEqual(['aws', 'aws-cn', 'aws-us-gov']);
  });

  itWithCfnLint('agrees with CloudFormation\'s per-Region resource specification: every Region exists, and exactly these lack AWS::Config::RemediationConfiguration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyage-regions-'));
    const file = join(dir, 'remediation.yaml');
    writeFileSync(
      file,
      ['Resources:', '  Remediation:', '    Type: AWS::Config::RemediationConfiguration', '    Properties:', '      ConfigRuleName: keyage-access-key-age', '      TargetId: keyage-DeactivateStaleAccessKeys', '      TargetType: SSM_DOCUMENT', ''].join('\n'),
    );
    // cfn-lint refuses (exit 32) a Region its specification does not have: the table names none such.
    const result = cfnLint([file], [], { regions: AWS_REGIONS.map((r) => r.code) });
    const lacking = [...result.output.matchAll(/E3006:Resource type 'AWS::Config::RemediationConfiguration' does not exist in '([a-z0-9-]+)'/g)].map((m) => m[1]);
    expect(lacking.sort()).toEqual([...REGIONS_WITHOUT_PACK_REMEDIATION].sort());
    expect(result.output.split('\n').filter((line) => line !== '' && !line.includes(':E3006:'))).toEqual([]);
  });
});
