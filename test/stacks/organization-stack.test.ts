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
import { AGGREGATOR_STACK_NAME, ORGANIZATION_STACK_NAME, assetBucketStackName, buildKeyageApp, type KeyageStacks } from '../../stacks/keyage-app';
import { KeyageOrganizationStack } from '../../stacks/organization-stack';
import { VERSION_TAG_KEY } from '../../stacks/tags';
import { version } from '../../package.json';
import { cfnLint, extraLintRegions, itWithCfnLint } from '../harness/cfn-lint';
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

function synth(settings: Record<string, unknown>, context: Record<string, string> = {}): Synthesized {
  const app = new App({ context });
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
const OPT_IN = 'ap-southeast-7';

beforeAll(() => {
  one = synth({ ...ORG, tags: { owner: 'security' } });
  // Three Regions (one opt-in, one lacking pack remediation in CloudFormation's specification),
  // from a delegated administrator, with every StackSet setting changed, a custom bootstrap
  // qualifier and the aggregator.
  two = synth(
    {
      ...ORG,
      regions: ['eu-west-1', 'us-east-1', OPT_IN],
      allowMultipleRegions: true,
      automaticRemediation: true,
      callAs: 'DELEGATED_ADMIN',
      failureTolerancePercentage: 0,
      maxConcurrentPercentage: 100,
      concurrencyMode: 'STRICT_FAILURE_TOLERANCE',
      regionConcurrency: 'PARALLEL',
      retainStacksOnAccountRemoval: true,
      stackSetName: 'keyage-prod',
      configAggregator: true,
    },
    { '@aws-cdk/core:bootstrapQualifier': 'kya9q2' },
  );
}, 180_000);

const stackSetOf = (s: Synthesized) => onlyResource(s.org, 'AWS::CloudFormation::StackSet');

describe('KeyageOrganizationStack', () => {
  describe('the StackSet', () => {
    it('is SERVICE_MANAGED, auto-deploys to the OUs (new accounts included), in ONE Region by default', () => {
      expect(stackSetOf(one).properties).toMatchObject({
        StackSetName: 'keyage',
        PermissionModel: 'SERVICE_MANAGED',
        AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
        CallAs: 'SELF',
        StackInstancesGroup: [{ DeploymentTargets: { AccountFilterType: 'NONE', OrganizationalUnitIds: ['ou-a1b2-c3d4e5f6', 'r-ab12'] }, Regions: ['eu-west-1'] }],
        // The Automation role has a fixed name (the pack needs its ARN literally).
        Capabilities: ['CAPABILITY_NAMED_IAM'],
        ManagedExecution: { Active: true },
      });
    });

    it('tolerates 3 failed accounts per Region whatever the OU size (a count), deploys 10 at a time without slowing down on failures, Regions in order', () => {
      expect(stackSetOf(one).properties.OperationPreferences).toEqual({
        FailureToleranceCount: 3,
        MaxConcurrentCount: 10,
        ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
        RegionConcurrencyType: 'SEQUENTIAL',
        RegionOrder: ['eu-west-1'],
      });
    });

    it('calls as DELEGATED_ADMIN, with the chosen preferences (percentages, strict tolerance, parallel Regions), name and retention, when configured', () => {
      expect(stackSetOf(two).properties).toMatchObject({
        StackSetName: 'keyage-prod',
        CallAs: 'DELEGATED_ADMIN',
        AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: true },
      });
      expect(stackSetOf(two).properties.OperationPreferences).toEqual({
        FailureTolerancePercentage: 0,
        MaxConcurrentPercentage: 100,
        ConcurrencyMode: 'STRICT_FAILURE_TOLERANCE',
        RegionConcurrencyType: 'PARALLEL',
        RegionOrder: ['eu-west-1', 'us-east-1', OPT_IN],
      });
    });

    it('targets every configured Region when more than one is allowed', () => {
      expect((stackSetOf(two).properties.StackInstancesGroup as Array<{ Regions: string[] }>)[0]?.Regions).toEqual(['eu-west-1', 'us-east-1', OPT_IN]);
    });

    it("carries keyage:version and the settings' tags, which StackSets pass on to the stack instances", () => {
      expect(stackSetOf(one).properties.Tags).toEqual(expect.arrayContaining([{ Key: VERSION_TAG_KEY, Value: version }, { Key: 'owner', Value: 'security' }]));
      for (const fn of Object.values(resourcesOfType(one.member, 'AWS::Lambda::Function'))) {
        expect(fn.Properties?.Tags).toEqual(expect.arrayContaining([{ Key: VERSION_TAG_KEY, Value: version }, { Key: 'owner', Value: 'security' }]));
      }
      expect(onlyResource(one.org, 'AWS::S3::Bucket').properties.Tags).toEqual(expect.arrayContaining([{ Key: 'owner', Value: 'security' }]));
    });

    it('warns at synth about a target Region whose CloudFormation specification lacks AWS::Config::RemediationConfiguration', () => {
      const warnings = (s: Synthesized) =>
        (s.stacks.organization as KeyageOrganizationStack).node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
      expect(warnings(two)).toEqual([expect.stringMatching(new RegExp(`^${OPT_IN}: CloudFormation's resource specification for this Region has no AWS::Config::RemediationConfiguration`))]);
      expect(warnings(one)).toEqual([]);
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
    it('holds the whole member stack: the three functions, the runbooks, the pack, the schedule, the topic, the alarms', () => {
      const functions = Object.values(resourcesOfType(one.member, 'AWS::Lambda::Function')).map((f) => f.Properties?.FunctionName).sort();
      expect(functions).toEqual(['keyage-access-key-age', 'keyage-pack-reconciler', 'keyage-remediation']);
      const types = Object.values(one.member.Resources).map((r) => r.Type);
      for (const type of ['AWS::SSM::Document', 'Custom::KeyageConformancePack', 'AWS::Scheduler::Schedule', 'AWS::SNS::Topic', 'AWS::Lambda::Permission', 'AWS::CloudWatch::Alarm']) {
        expect(types).toContain(type);
      }
    });

    it('carries the member settings: automatic remediation when asked for', () => {
      const inputs = (template: Template) => onlyResource(template, 'Custom::KeyageConformancePack').properties.InputParameters as Record<string, unknown>;
      expect(inputs(one.member).AutomaticRemediation).toBe('false');
      expect(inputs(two.member).AutomaticRemediation).toBe('true');
    });

    it('grants each function role the same exact actions as the member stack', () => {
      const roleOf = (functionName: string) => {
        const fn = Object.values(resourcesOfType(one.member, 'AWS::Lambda::Function')).find((f) => f.Properties?.FunctionName === functionName);
        return (fn?.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      };
      // No exemption tag in these settings: no GetAccountAuthorizationDetails for the rule.
      expect(actionsOf(roleStatements(one.member, roleOf('keyage-access-key-age')))).toEqual(
        [...RULE_IAM_ACTIONS.filter((a) => a !== 'iam:GetAccountAuthorizationDetails'), ...RULE_CONFIG_ACTIONS, 'logs:CreateLogStream', 'logs:PutLogEvents'].sort(),
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

    it("is copied into each target Region's bucket from inside that Region, from its own CDK bootstrap bucket (no cross-Region copy: aws-cdk#34858)", () => {
      for (const [s, qualifier] of [
        [one, 'hnb659fds'],
        [two, 'kya9q2'],
      ] as const) {
        const keys = Object.values(resourcesOfType(s.member, 'AWS::Lambda::Function')).map((f) => (f.Properties?.Code as { S3Key: string }).S3Key);
        const regions = s === one ? ['eu-west-1'] : ['eu-west-1', 'us-east-1', OPT_IN];
        for (const region of regions) {
          // The one stack that fills this Region's bucket, and the Region it is deployed in.
          const stackName = region === 'eu-west-1' ? ORGANIZATION_STACK_NAME : assetBucketStackName(region);
          const artifact = s.artifacts[stackName];
          expect({ region, stack: artifact?.environment.region }).toEqual({ region, stack: region });
          const template = artifact?.template as Template;
          const deployments = Object.values(resourcesOfType(template, 'Custom::CDKBucketDeployment')).map((r) => r.Properties ?? {});
          expect(deployments).toHaveLength(1);
          const [d] = deployments;
          const bucketId = onlyResource(template, 'AWS::S3::Bucket').id;
          expect(template.Resources[bucketId]?.Properties?.BucketName).toBe(`${PREFIX}-${region}`);
          expect(d?.DestinationBucketName).toEqual({ Ref: bucketId });
          expect((d?.SourceBucketNames as unknown[]).map(render)).toEqual(keys.map(() => `cdk-${qualifier}-assets-\${AWS::AccountId}-${region}`));
          expect(d).toMatchObject({ Extract: false, Prune: false });
          expect([...(d?.SourceObjectKeys as string[])].sort()).toEqual([...keys].sort());
        }
        // Nothing in any stack copies into another Region's bucket.
        const allDestinations = Object.values(s.artifacts).flatMap((a) =>
          Object.values(resourcesOfType(a.template as Template, 'Custom::CDKBucketDeployment')).map((r) => r.Properties?.DestinationBucketName),
        );
        expect(allDestinations).toHaveLength(regions.length);
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
      expect(two.artifacts[ORGANIZATION_STACK_NAME]?.dependencies.map((d) => d.id)).toEqual(expect.arrayContaining([assetBucketStackName('us-east-1'), assetBucketStackName(OPT_IN)]));
      expect(two.artifacts[ORGANIZATION_STACK_NAME]?.environment.region).toBe('eu-west-1');
    });

    it('refuses to synthesize a target Region that has no bucket stack', () => {
      const settings = parseKeyageSettings({ ...ORG, regions: ['eu-west-1', 'us-east-1'], allowMultipleRegions: true });
      const app = new App();
      new KeyageOrganizationStack(app, 'Org', { organization: settings.organization! });
      expect(() => app.synth()).toThrow(/target Region us-east-1 needs an asset bucket stack/);
    });
  });

  describe('the organization Config aggregator', () => {
    it('is its own stack, when asked for, aggregating the target Regions of the organization', () => {
      expect(one.artifacts[AGGREGATOR_STACK_NAME]).toBeUndefined();
      const artifact = two.artifacts[AGGREGATOR_STACK_NAME];
      expect(artifact?.environment.region).toBe('eu-west-1');
      const template = artifact?.template as Template;
      const aggregator = onlyResource(template, 'AWS::Config::ConfigurationAggregator');
      const role = onlyResource(template, 'AWS::IAM::Role');
      expect(aggregator.properties).toMatchObject({
        ConfigurationAggregatorName: 'keyage',
        OrganizationAggregationSource: { RoleArn: { 'Fn::GetAtt': [role.id, 'Arn'] }, AwsRegions: ['eu-west-1', 'us-east-1', OPT_IN], AllAwsRegions: false },
      });
      expect(role.properties.AssumeRolePolicyDocument).toMatchObject({ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'config.amazonaws.com' } }] });
      expect((role.properties.ManagedPolicyArns as unknown[]).map(render)).toEqual(['arn:${AWS::Partition}:iam::aws:policy/service-role/AWSConfigRoleForOrganizations']);
    });
  });

  describe('cdk-nag AwsSolutions checks', () => {
    it('acknowledge the bootstrap bucket the copy reads with the bootstrap qualifier in force (the check below proves the finding has that name)', () => {
      const acknowledged = (s: Synthesized) =>
        (s.stacks.organization as KeyageOrganizationStack).node
          .findAll()
          .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').flatMap((m) => Object.keys(m.data as object)));
      expect(acknowledged(one)).toContain('Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-eu-west-1/*]');
      expect(acknowledged(two)).toContain('Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-kya9q2-assets-<AWS::AccountId>-eu-west-1/*]');
      expect(acknowledged(two).some((id) => id.includes('hnb659fds'))).toBe(false);
    });

    it('find nothing that is not acknowledged with a reason, in the organization stack and the member template', () => {
      for (const s of [one, two]) {
        const report = new AwsSolutionsChecks(s.app).validateScope(s.app);
        expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
      }
    });
  });

  describe('cfn-lint', () => {
    itWithCfnLint('finds nothing in the organization, asset bucket, aggregator and StackSet member templates, in every Region they are deployed to', () => {
      const lint = (templates: Record<string, unknown>, regions: string[]) => cfnLint(writeTemplates('keyage-org', templates), CDK_LINT_IGNORES, { regions: [...regions, ...extraLintRegions()] });
      const results = [
        // The member template goes to every target Region.
        lint({ StackSetMember: two.member }, ['eu-west-1', 'us-east-1', OPT_IN]),
        lint({ SingleRegionMember: one.member, SingleRegionOrganization: one.org, KeyageOrganization: two.org, Aggregator: two.artifacts[AGGREGATOR_STACK_NAME]?.template }, ['eu-west-1']),
        lint({ AssetBucket: two.artifacts[assetBucketStackName('us-east-1')]?.template }, ['us-east-1']),
        lint({ OptInAssetBucket: two.artifacts[assetBucketStackName(OPT_IN)]?.template }, [OPT_IN]),
      ];
      expect(results.map((r) => r.output)).toEqual(['', '', '', '']);
      expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0, 0]);
    });
  });
});
