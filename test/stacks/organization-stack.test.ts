/**
 * The organization stack, synthesized once per Region layout: the StackSet (targets, Regions,
 * permission model, auto-deployment, CallAs, operation preferences), the member template it
 * deploys, the asset buckets every account reads its Lambda code from, cdk-nag and cfn-lint.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RULE_CONFIG_ACTIONS, RULE_IAM_ACTIONS } from '../../rules/access-key-age/permissions';
import { REMEDIATION_LAMBDA_ACTIONS } from '../../remediation/permissions';
import { parseKeyageSettings } from '../../stacks/config';
import { ORGANIZATION_STACK_NAME, assetBucketStackName, buildKeyageApp, type KeyageStacks } from '../../stacks/keyage-app';
import { KeyageOrganizationStack } from '../../stacks/organization-stack';
import { cfnLint, itWithCfnLint } from '../harness/cfn-lint';
import { CDK_LINT_IGNORES, type Template, actionsOf, onlyResource, render, resourcesOfType, roleStatements, writeTemplates } from './template-helpers';

const ORG = {
  organizationId: 'o-a1b2c3d4e5',
  organizationalUnitIds: ['ou-a1b2-c3d4e5f6', 'r-ab12'],
  regions: ['eu-west-1'],
};
const PREFIX = 'keyage-assets-o-a1b2c3d4e5';

interface Synthesized {
  readonly app: App;
  readonly stacks: KeyageStacks;
  readonly org: Template;
  readonly member: Template;
  readonly artifacts: Record<string, CloudFormationStackArtifact>;
}

function synth(settings: Record<string, unknown>): Synthesized {
  const app = new App();
  const stacks = buildKeyageApp(app, parseKeyageSettings(settings));
  const assembly = app.synth();
  const orgStack = stacks.organization as KeyageOrganizationStack;
  const artifacts = Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s]));
  return {
    app,
    stacks,
    org: assembly.getStackByName(orgStack.stackName).template as Template,
    member: JSON.parse(readFileSync(join(assembly.directory, orgStack.memberTemplate.templateFile), 'utf8')) as Template,
    artifacts,
  };
}

let one: Synthesized;
let two: Synthesized;

beforeAll(() => {
  one = synth(ORG);
  // Two Regions, from a delegated administrator, with every StackSet setting changed.
  two = synth({
    ...ORG,
    regions: ['eu-west-1', 'us-east-1'],
    allowMultipleRegions: true,
    automaticRemediation: true,
    callAs: 'DELEGATED_ADMIN',
    failureTolerancePercentage: 0,
    maxConcurrentPercentage: 100,
    retainStacksOnAccountRemoval: true,
    stackSetName: 'keyage-prod',
  });
}, 120_000);

const stackSetOf = (s: Synthesized) => onlyResource(s.org, 'AWS::CloudFormation::StackSet');
const bucketDeploymentsOf = (s: Synthesized) => Object.values(resourcesOfType(s.org, 'Custom::CDKBucketDeployment')).map((r) => r.Properties ?? {});

describe('KeyageOrganizationStack', () => {
  describe('the StackSet', () => {
    it('is SERVICE_MANAGED, auto-deploys to the OUs (new accounts included), in ONE Region by default', () => {
      expect(stackSetOf(one).properties).toMatchObject({
        StackSetName: 'keyage',
        PermissionModel: 'SERVICE_MANAGED',
        AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
        CallAs: 'SELF',
        StackInstancesGroup: [{ DeploymentTargets: { AccountFilterType: 'NONE', OrganizationalUnitIds: ['ou-a1b2-c3d4e5f6', 'r-ab12'] }, Regions: ['eu-west-1'] }],
        Capabilities: ['CAPABILITY_IAM'],
        ManagedExecution: { Active: true },
      });
    });

    it('stops a rollout when more than 10% of accounts fail, deploying 25% at a time, Regions in parallel', () => {
      expect(stackSetOf(one).properties.OperationPreferences).toEqual({ FailureTolerancePercentage: 10, MaxConcurrentPercentage: 25, RegionConcurrencyType: 'PARALLEL' });
    });

    it('calls as DELEGATED_ADMIN, with the chosen preferences, name and retention, when configured', () => {
      expect(stackSetOf(two).properties).toMatchObject({
        StackSetName: 'keyage-prod',
        CallAs: 'DELEGATED_ADMIN',
        AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: true },
        OperationPreferences: { FailureTolerancePercentage: 0, MaxConcurrentPercentage: 100, RegionConcurrencyType: 'PARALLEL' },
      });
    });

    it('targets every configured Region when more than one is allowed', () => {
      expect((stackSetOf(two).properties.StackInstancesGroup as Array<{ Regions: string[] }>)[0]?.Regions).toEqual(['eu-west-1', 'us-east-1']);
    });

    it('deploys the member template, uploaded as a file asset of this stack', () => {
      const url = render(stackSetOf(one).properties.TemplateURL);
      const orgStack = one.stacks.organization as KeyageOrganizationStack;
      const assets = JSON.parse(readFileSync(join(one.app.outdir, `${orgStack.artifactId}.assets.json`), 'utf8')) as { files: Record<string, { source: { path: string } }> };
      const templateAsset = Object.entries(assets.files).find(([, f]) => f.source.path === orgStack.memberTemplate.templateFile);
      expect(templateAsset).toBeDefined();
      expect(url).toMatch(new RegExp(`^https://s3\\.eu-west-1\\..*/cdk-hnb659fds-assets-.*-eu-west-1/${templateAsset?.[0]}\\.json$`));
    });
  });

  describe('the member template', () => {
    it('holds the whole member stack: both functions, the runbooks, the pack, the schedule, the topic', () => {
      const types = Object.values(one.member.Resources).map((r) => r.Type);
      for (const type of ['AWS::Lambda::Function', 'AWS::SSM::Document', 'AWS::Config::ConformancePack', 'AWS::Scheduler::Schedule', 'AWS::SNS::Topic', 'AWS::Lambda::Permission']) {
        expect(types).toContain(type);
      }
      expect(types.filter((t) => t === 'AWS::Lambda::Function')).toHaveLength(2);
    });

    it('carries the member settings: automatic remediation when asked for', () => {
      const inputs = (template: Template) =>
        Object.fromEntries(
          (onlyResource(template, 'AWS::Config::ConformancePack').properties.ConformancePackInputParameters as Array<{ ParameterName: string; ParameterValue: unknown }>).map((p) => [
            p.ParameterName,
            p.ParameterValue,
          ]),
        );
      expect(inputs(one.member).AutomaticRemediation).toBe('false');
      expect(inputs(two.member).AutomaticRemediation).toBe('true');
    });

    it('grants each function role the same exact actions as the member stack', () => {
      const roleOf = (functionName: string) => {
        const fn = Object.values(resourcesOfType(one.member, 'AWS::Lambda::Function')).find((f) => f.Properties?.FunctionName === functionName);
        return (fn?.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      };
      expect(actionsOf(roleStatements(one.member, roleOf('keyage-access-key-age')))).toEqual(
        [...RULE_IAM_ACTIONS, ...RULE_CONFIG_ACTIONS, 'logs:CreateLogStream', 'logs:PutLogEvents'].sort(),
      );
      expect(actionsOf(roleStatements(one.member, roleOf('keyage-remediation')))).toEqual(
        [...REMEDIATION_LAMBDA_ACTIONS, 'logs:CreateLogStream', 'logs:PutLogEvents'].sort(),
      );
    });

    it('has no parameters: every account gets the same, validated, settings', () => {
      expect(one.member.Parameters ?? {}).toEqual({});
    });
  });

  describe('the Lambda code of every stack instance', () => {
    it("is read from the asset bucket of the instance's own Region", () => {
      for (const fn of Object.values(resourcesOfType(one.member, 'AWS::Lambda::Function'))) {
        const code = fn.Properties?.Code as { S3Bucket: unknown; S3Key: string };
        expect(code.S3Bucket).toEqual({ 'Fn::Join': ['-', [PREFIX, { Ref: 'AWS::Region' }]] });
        expect(code.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
      }
    });

    it('is copied into the bucket of every target Region before the StackSet is created or updated', () => {
      for (const s of [one, two]) {
        const keys = Object.values(resourcesOfType(s.member, 'AWS::Lambda::Function')).map((f) => (f.Properties?.Code as { S3Key: string }).S3Key);
        const deployments = bucketDeploymentsOf(s);
        const regions = s === one ? ['eu-west-1'] : ['eu-west-1', 'us-east-1'];
        expect(deployments).toHaveLength(regions.length);
        const destinations = deployments.map((d) => render(d.DestinationBucketName)).sort();
        const expected = regions.map((r) => (r === 'eu-west-1' ? expect.stringMatching(/^\$\{AssetBucket[0-9A-F]{8}\}$/) : `${PREFIX}-${r}`));
        expect(destinations).toEqual(expect.arrayContaining(expected));
        for (const d of deployments) {
          expect(d).toMatchObject({ Extract: false, Prune: false });
          expect([...(d.SourceObjectKeys as string[])].sort()).toEqual([...keys].sort());
        }
        const deploymentIds = Object.keys(resourcesOfType(s.org, 'Custom::CDKBucketDeployment'));
        expect(stackSetOf(s).dependsOn).toEqual(expect.arrayContaining(deploymentIds));
      }
    });

    it('sits in a bucket named <prefix>-<region>, encrypted, private, TLS-only, readable by the organization only', () => {
      const bucket = onlyResource(one.org, 'AWS::S3::Bucket');
      expect(bucket.properties).toMatchObject({
        BucketName: `${PREFIX}-eu-west-1`,
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      });
      const statements = (onlyResource(one.org, 'AWS::S3::BucketPolicy').properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;
      const allows = statements.filter((s) => s.Effect === 'Allow');
      expect(allows).toEqual([
        {
          Sid: 'OrganizationReadsKeyageCode',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: 's3:GetObject',
          Resource: expect.anything(),
          Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
        },
      ]);
      expect(render(allows[0]?.Resource)).toMatch(/^\$\{AssetBucket[0-9A-F]{8}\.Arn\}\/\*$/);
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    });

    it('gets a bucket stack in each other target Region, deployed before the organization stack', () => {
      const bucketStack = two.artifacts[assetBucketStackName('us-east-1')];
      expect(bucketStack?.environment.region).toBe('us-east-1');
      const bucket = onlyResource(bucketStack?.template as Template, 'AWS::S3::Bucket');
      expect(bucket.properties.BucketName).toBe(`${PREFIX}-us-east-1`);
      const policy = onlyResource(bucketStack?.template as Template, 'AWS::S3::BucketPolicy').properties.PolicyDocument as { Statement: Array<Record<string, unknown>> };
      expect(policy.Statement).toContainEqual(expect.objectContaining({ Action: 's3:GetObject', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } }));
      expect(two.artifacts[ORGANIZATION_STACK_NAME]?.dependencies.map((d) => d.id)).toContain(assetBucketStackName('us-east-1'));
      expect(two.artifacts[ORGANIZATION_STACK_NAME]?.environment.region).toBe('eu-west-1');
    });

    it('refuses a target Region that has no bucket stack', () => {
      const settings = parseKeyageSettings({ ...ORG, regions: ['eu-west-1', 'us-east-1'], allowMultipleRegions: true });
      expect(() => new KeyageOrganizationStack(new App(), 'Org', { organization: settings.organization! })).toThrow(/target Region us-east-1 needs an asset bucket stack/);
    });
  });

  describe('cdk-nag AwsSolutions checks', () => {
    it('find nothing that is not acknowledged with a reason, in the organization stack and the member template', () => {
      for (const s of [one, two]) {
        const report = new AwsSolutionsChecks(s.app).validateScope(s.app);
        expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
      }
    });
  });

  describe('cfn-lint', () => {
    itWithCfnLint('finds nothing in the organization, asset bucket and StackSet member templates', () => {
      const files = writeTemplates('keyage-org', {
        KeyageOrganization: two.org,
        StackSetMember: two.member,
        AssetBucket: two.artifacts[assetBucketStackName('us-east-1')]?.template,
        SingleRegionOrganization: one.org,
      });
      const result = cfnLint(files, CDK_LINT_IGNORES);
      expect(result.output).toBe('');
      expect(result.exitCode).toBe(0);
    });
  });
});
