/**
 * The organization stack, deployed once in the management account (or a CloudFormation
 * delegated administrator): a SERVICE_MANAGED StackSet that puts the member stack into every
 * account of the given OUs, current and future, in ONE Region by default.
 *
 * The member template's Lambda code is a file asset. StackSets create each stack instance in
 * the target account, so the code must sit in a bucket of the instance's Region that the
 * target account can read: one bucket per target Region, named `<prefix>-<region>`, readable
 * by the organization only (aws:PrincipalOrgID). The bucket of this stack's own Region is
 * created here; the others by `KeyageAssetBucketStack`s, which this stack depends on. The
 * code is copied into every bucket before the StackSet is created or updated.
 */
import { Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Bucket, type CfnBucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Capability, DeploymentType, RegionConcurrencyType, StackSet, StackSetTarget, StackSetTemplate } from 'cdk-stacksets';
import type { Construct } from 'constructs';
import { resolveMemberSettings, resolveOrganizationSettings, type MemberSettings, type OrganizationSettings } from './config';
import { KeyageAssetBucket, type KeyageAssetBucketStack, assetBucketName } from './asset-bucket';
import { KeyageMemberStackSetStack } from './member-stack';

/** Props of {@link KeyageOrganizationStack}. */
export interface KeyageOrganizationStackProps extends StackProps {
  /** Where the StackSet goes and how; see {@link OrganizationSettings}. */
  readonly organization: OrganizationSettings;
  /**
   * What each account gets.
   * @default every member setting at its default
   */
  readonly member?: Partial<MemberSettings>;
  /**
   * The asset bucket stacks of the target Regions other than `organization.deploymentRegion`,
   * one per Region. Each must exist before this stack is deployed.
   * @default none (every target Region is the deployment Region)
   */
  readonly assetBucketStacks?: readonly KeyageAssetBucketStack[];
}

/** The StackSet that deploys keyage to every account of the OUs. */
export class KeyageOrganizationStack extends Stack {
  /** The StackSet. */
  public readonly stackSet: StackSet;
  /** The member template the StackSet deploys. */
  public readonly memberTemplate: KeyageMemberStackSetStack;
  /** The asset bucket of each target Region, by Region. */
  public readonly assetBuckets: ReadonlyMap<string, IBucket>;
  /** The settings in force. */
  public readonly organization: OrganizationSettings;

  constructor(scope: Construct, id: string, props: KeyageOrganizationStackProps) {
    const organization = resolveOrganizationSettings(props.organization as unknown as Record<string, unknown>, (key) => `organization.${key}`);
    const member = resolveMemberSettings((props.member ?? {}) as Record<string, unknown>, (key) => `member.${key}`);
    super(scope, id, {
      description: 'keyage: the StackSet that deploys the keyage member stack to every account of the organization units',
      ...props,
      env: { ...props.env, region: organization.deploymentRegion },
    });
    this.organization = organization;

    const buckets = new Map<string, IBucket>();
    const others = new Map((props.assetBucketStacks ?? []).map((s) => [s.region, s]));
    for (const region of organization.regions) {
      if (region === organization.deploymentRegion) {
        buckets.set(region, new KeyageAssetBucket(this, 'AssetBucket', { prefix: organization.assetBucketPrefix, region, organizationId: organization.organizationId }).bucket);
        continue;
      }
      const bucketStack = others.get(region);
      if (!bucketStack) {
        throw new Error(`keyage: the target Region ${region} needs an asset bucket stack (KeyageAssetBucketStack) for the member stack's Lambda code`);
      }
      this.addStackDependency(bucketStack, `the asset bucket of ${region} must exist before the code is copied into it`);
      buckets.set(region, Bucket.fromBucketName(this, `AssetBucket-${region}`, assetBucketName(organization.assetBucketPrefix, region)));
    }
    this.assetBuckets = buckets;

    this.memberTemplate = new KeyageMemberStackSetStack(this, 'Member', {
      assetBuckets: [...buckets.values()],
      assetBucketPrefix: organization.assetBucketPrefix,
      settings: member,
    });

    this.stackSet = new StackSet(this, 'StackSet', {
      stackSetName: organization.stackSetName,
      description: 'keyage: IAM access keys younger than the limit in every account (CIS AWS 1.14, Security Hub IAM.3)',
      target: StackSetTarget.fromOrganizationalUnits({
        regions: [...organization.regions],
        organizationalUnits: [...organization.organizationalUnitIds],
      }),
      template: StackSetTemplate.fromStackSetStack(this.memberTemplate),
      deploymentType: DeploymentType.serviceManaged({
        delegatedAdmin: organization.callAs === 'DELEGATED_ADMIN',
        autoDeployEnabled: true,
        autoDeployRetainStacks: organization.retainStacksOnAccountRemoval,
      }),
      operationPreferences: {
        failureTolerancePercentage: organization.failureTolerancePercentage,
        maxConcurrentPercentage: organization.maxConcurrentPercentage,
        regionConcurrencyType: RegionConcurrencyType.PARALLEL,
      },
      // The member stack creates IAM roles (without names).
      capabilities: [Capability.IAM],
      managedExecution: true,
    });

    this.acknowledgeBucketDeploymentFindings(organization);
  }

  /**
   * The code copy uses the CDK's BucketDeployment (a Lambda function with the AWS CLI), whose
   * role and runtime the CDK decides. Its findings are acknowledged here, each with its reason.
   */
  private acknowledgeBucketDeploymentFindings(organization: OrganizationSettings): void {
    const handler = this.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!handler) return;
    const reasons: Record<string, string> = {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        'The CDK BucketDeployment function that copies the Lambda code writes its logs with the AWS managed basic execution policy; it has no other managed policy.',
      'AwsSolutions-L1': 'The CDK BucketDeployment function runs the Python runtime the CDK chooses for it; it only runs during deployments.',
    };
    for (const [id, reason] of Object.entries(reasons)) Validations.of(handler).acknowledge({ id, reason });
    const policy = handler.node.tryFindChild('ServiceRole')?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      const wildcard = 'The CDK BucketDeployment function copies objects from the CDK asset bucket into the keyage asset buckets; the CDK grants it these object-level actions on those buckets only.';
      const objectsOf = (region: string): string => {
        if (region !== organization.deploymentRegion) return `arn:<AWS::Partition>:s3:::${assetBucketName(organization.assetBucketPrefix, region)}/*`;
        const bucket = this.node.findChild('AssetBucket').node.findChild('Bucket').node.defaultChild as CfnBucket;
        return `<${this.getLogicalId(bucket)}.Arn>/*`;
      };
      const findings = [
        ...WILDCARD_FINDINGS_OF_BUCKET_DEPLOYMENT,
        // Read from the CDK bootstrap bucket, where the CLI uploaded the code.
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${organization.deploymentRegion}/*]`,
        // Write into each keyage asset bucket.
        ...organization.regions.map((region) => `AwsSolutions-IAM5[Resource::${objectsOf(region)}]`),
      ];
      for (const id of findings) Validations.of(policy).acknowledge({ id, reason: wildcard });
    }
  }
}

/** The IAM5 findings of the CDK BucketDeployment function's policy (actions with wildcards). */
const WILDCARD_FINDINGS_OF_BUCKET_DEPLOYMENT = [
  'AwsSolutions-IAM5[Action::s3:GetObject*]',
  'AwsSolutions-IAM5[Action::s3:GetBucket*]',
  'AwsSolutions-IAM5[Action::s3:List*]',
  'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
  'AwsSolutions-IAM5[Action::s3:Abort*]',
];
