/**
 * The organization stack, deployed once in the management account (or a CloudFormation
 * delegated administrator): a SERVICE_MANAGED StackSet that puts the member stack into every
 * account of the given OUs, current and future, in ONE Region by default.
 *
 * The member template's Lambda code is a file asset. StackSets create each stack instance in
 * the target account, so the code must sit in a bucket of the instance's Region that the
 * target account can read: one bucket per target Region, named `<prefix>-<region>`, readable
 * by the organization only (aws:PrincipalOrgID). The bucket of this stack's own Region is
 * created and filled here; each other Region's bucket is created and filled, from inside that
 * Region, by its `KeyageAssetBucketStack`, which this stack depends on (`addAssetBucketStack`).
 *
 * Operation preferences (StackSetOperationPreferences; they apply to operations on the
 * StackSet, not to automatic deployments to accounts that join an OU later): a failure
 * tolerance and a concurrency given as counts by default, SOFT_FAILURE_TOLERANCE, and the
 * Regions in the order of `regions`, one after the other.
 */
import { Annotations, Stack, type StackProps } from 'aws-cdk-lib';
import type { CfnBucket, IBucket } from 'aws-cdk-lib/aws-s3';
import type { CfnStackSet } from 'aws-cdk-lib/aws-cloudformation';
import { Capability, DeploymentType, RegionConcurrencyType, StackSet, StackSetTarget, StackSetTemplate } from 'cdk-stacksets';
import type { Construct } from 'constructs';
import { KeyageAssetBucket, type KeyageAssetBucketStack, type MemberFileAsset, acknowledgeBucketDeploymentFindings, fileAssetsOf } from './asset-bucket';
import { resolveMemberSettings, resolveOrganizationSettings, type MemberSettings, type OrganizationSettings } from './config';
import { KeyageMemberStackSetStack } from './member-stack';
import { findRegion } from './regions';

/** Props of {@link KeyageOrganizationStack}. */
export interface KeyageOrganizationStackProps extends StackProps {
  /** Where the StackSet goes and how; see {@link OrganizationSettings}. */
  readonly organization: OrganizationSettings;
  /**
   * What each account gets.
   * @default every member setting at its default
   */
  readonly member?: Partial<MemberSettings>;
}

/** The StackSet that deploys keyage to every account of the OUs. */
export class KeyageOrganizationStack extends Stack {
  /** The StackSet. */
  public readonly stackSet: StackSet;
  /** The member template the StackSet deploys. */
  public readonly memberTemplate: KeyageMemberStackSetStack;
  /** The asset bucket of this stack's Region, when it is a target Region. */
  public readonly assetBucket?: IBucket;
  /** The settings in force. */
  public readonly organization: OrganizationSettings;
  /** The target Regions whose asset bucket stack has been added. */
  private readonly assetBucketRegions = new Set<string>();

  constructor(scope: Construct, id: string, props: KeyageOrganizationStackProps) {
    const organization = resolveOrganizationSettings(props.organization as unknown as Record<string, unknown>, (key) => `organization.${key}`);
    const member = resolveMemberSettings((props.member ?? {}) as Record<string, unknown>, (key) => `member.${key}`);
    super(scope, id, {
      description: 'keyage: the StackSet that deploys the keyage member stack to every account of the organization units',
      ...props,
      env: { ...props.env, region: organization.deploymentRegion },
    });
    this.organization = organization;

    // Only this Region's bucket is filled from here; the others from their own Region.
    const local = organization.regions.includes(organization.deploymentRegion)
      ? new KeyageAssetBucket(this, 'AssetBucket', { prefix: organization.assetBucketPrefix, region: organization.deploymentRegion, organizationId: organization.organizationId }).bucket
      : undefined;
    if (local) this.assetBucket = local;

    this.memberTemplate = new KeyageMemberStackSetStack(this, 'Member', {
      assetBuckets: local ? [local] : [],
      assetBucketPrefix: organization.assetBucketPrefix,
      settings: member,
    });

    const tolerance = organization.failureToleranceCount !== undefined ? { failureToleranceCount: organization.failureToleranceCount } : { failureTolerancePercentage: organization.failureTolerancePercentage };
    const concurrency = organization.maxConcurrentCount !== undefined ? { maxConcurrentCount: organization.maxConcurrentCount } : { maxConcurrentPercentage: organization.maxConcurrentPercentage };
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
        ...tolerance,
        ...concurrency,
        regionConcurrencyType: organization.regionConcurrency === 'PARALLEL' ? RegionConcurrencyType.PARALLEL : RegionConcurrencyType.SEQUENTIAL,
        regionOrder: [...organization.regions],
      },
      // The member stack creates IAM roles, one of them named (the Automation role, whose ARN
      // the conformance pack needs literally).
      capabilities: [Capability.NAMED_IAM],
      managedExecution: true,
    });
    // cdk-stacksets has no ConcurrencyMode yet.
    (this.stackSet.node.defaultChild as CfnStackSet).addPropertyOverride('OperationPreferences.ConcurrencyMode', organization.concurrencyMode);

    if (local) {
      const bucket = this.node.findChild('AssetBucket').node.findChild('Bucket').node.defaultChild as CfnBucket;
      acknowledgeBucketDeploymentFindings(this, [`<${this.getLogicalId(bucket)}.Arn>/*`]);
    }
    for (const region of organization.regions) {
      if (findRegion(region)?.packRemediation === false) {
        Annotations.of(this).addWarningV2(
          'keyage:region-without-pack-remediation',
          `${region}: CloudFormation's resource specification for this Region has no AWS::Config::RemediationConfiguration, which keyage's conformance pack holds. AWS Config may still refuse the pack there; the pack reconciler then reports it (keyage-pack-not-deployed alarm). Prefer a Region where both are available (docs/deployment.md, "Regions").`,
        );
      }
    }
    this.node.addValidation({
      validate: () =>
        organization.regions
          .filter((r) => r !== organization.deploymentRegion && !this.assetBucketRegions.has(r))
          .map((r) => `keyage: the target Region ${r} needs an asset bucket stack (KeyageAssetBucketStack, added with addAssetBucketStack) for the member stack's Lambda code`),
    });
  }

  /** The member template's code, which every target Region's asset bucket must hold. */
  public memberFileAssets(): MemberFileAsset[] {
    return fileAssetsOf(this.memberTemplate);
  }

  /** Add the asset bucket stack of another target Region: it is deployed (and its bucket filled) before this stack. */
  public addAssetBucketStack(bucketStack: KeyageAssetBucketStack): void {
    if (!this.organization.regions.includes(bucketStack.region)) throw new Error(`keyage: ${bucketStack.region} is not a target Region`);
    this.addStackDependency(bucketStack, `the code must be in the asset bucket of ${bucketStack.region} before the StackSet deploys there`);
    this.assetBucketRegions.add(bucketStack.region);
  }
}
