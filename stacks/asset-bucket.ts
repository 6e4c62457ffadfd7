/**
 * A bucket holding the member stack's Lambda code for one Region, readable by every account of
 * the organization (and by no one else): StackSets create each stack instance in the target
 * account, whose CloudFormation role must fetch the code from a bucket in its own Region.
 *
 * Each bucket is filled from inside its own Region: the CDK CLI publishes the code to the CDK
 * bootstrap bucket of that Region, and a BucketDeployment of that Region copies it into the
 * bucket. One BucketDeployment in the deployment Region writing into every other Region's
 * bucket fails for opt-in Regions (aws-cdk#34858, IllegalLocationConstraintException), so
 * there is none: every target Region other than the organization stack's own has its
 * KeyageAssets-<region> stack, with its bucket and its copy.
 */
import { isAbsolute, join } from 'node:path';
import { App, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import { bootstrapQualifier } from './tags';

/** The name of the asset bucket of `region`: what cdk-stacksets looks for (`<prefix>-<region>`). */
export function assetBucketName(prefix: string, region: string): string {
  return `${prefix}-${region}`;
}

/** Props of {@link KeyageAssetBucket}. */
export interface KeyageAssetBucketProps {
  /** The bucket name prefix; the bucket is `<prefix>-<region of the stack>`. */
  readonly prefix: string;
  /** The Region of the bucket (the stack's Region, spelled out so the name is a literal). */
  readonly region: string;
  /** The organization whose accounts may read the code (aws:PrincipalOrgID). */
  readonly organizationId: string;
}

/** The asset bucket of one Region, with an organization-scoped read policy. */
export class KeyageAssetBucket extends Construct {
  /** The bucket. */
  public readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: KeyageAssetBucketProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      bucketName: assetBucketName(props.prefix, props.region),
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      // Stack instances keep referring to these objects while they exist.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OrganizationReadsKeyageCode',
        effect: Effect.ALLOW,
        principals: [new AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
      }),
    );
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket only holds Lambda deployment packages written by the deployment and read by CloudFormation in the member accounts; CloudTrail data events, not server access logs, are the audit trail for it.',
    });
  }
}

/** A file asset of the member template: the staged directory and the object key the template names. */
export interface MemberFileAsset {
  /** Absolute path of the staged asset (a directory, zipped on upload). */
  readonly path: string;
  /** The object key the member template's Lambda code points to (`<hash>.zip`). */
  readonly objectKey: string;
}

/**
 * The file assets (Lambda code) of a stack, as staged in the cloud assembly. The keys are the
 * ones cdk-stacksets gives the member template (`<asset hash>.zip`).
 */
export function fileAssetsOf(stack: Stack): MemberFileAsset[] {
  const outdir = App.of(stack)?.outdir ?? 'cdk.out';
  return stack.node
    .findAll()
    .filter((c): c is Asset => c instanceof Asset)
    .map((asset) => ({ path: isAbsolute(asset.assetPath) ? asset.assetPath : join(outdir, asset.assetPath), objectKey: `${asset.assetHash}.zip` }));
}

/** Props of {@link KeyageAssetBucketStack}. */
export interface KeyageAssetBucketStackProps extends StackProps {
  /** The bucket name prefix; the bucket is `<prefix>-<region>`. */
  readonly prefix: string;
  /** The organization whose accounts may read the code (aws:PrincipalOrgID). */
  readonly organizationId: string;
  /** The Region of the stack and its bucket. */
  readonly region: string;
  /** The member template's code to copy into the bucket, from this Region's CDK bootstrap bucket. */
  readonly assets: readonly MemberFileAsset[];
}

/** The asset bucket of a target Region other than the organization stack's own, and the copy of the code into it. */
export class KeyageAssetBucketStack extends Stack {
  /** The asset bucket of the stack's Region. */
  public readonly assetBucket: KeyageAssetBucket;
  /** The copy of the member template's code into the bucket (from this Region's bootstrap bucket). */
  public readonly deployment: BucketDeployment;

  constructor(scope: Construct, id: string, props: KeyageAssetBucketStackProps) {
    super(scope, id, {
      description: `keyage: Lambda code of the member stack for ${props.region}, readable by the organization`,
      ...props,
      env: { ...props.env, region: props.region },
    });
    this.assetBucket = new KeyageAssetBucket(this, 'AssetBucket', { prefix: props.prefix, region: props.region, organizationId: props.organizationId });
    if (props.assets.length === 0) throw new Error(`keyage: the asset bucket stack of ${props.region} was given no code to copy`);
    this.deployment = new BucketDeployment(this, 'CopyCode', {
      sources: props.assets.map((a) => Source.asset(a.path)),
      destinationBucket: this.assetBucket.bucket,
      extract: false,
      prune: false,
    });
    const bucket = this.assetBucket.bucket.node.defaultChild as CfnBucket;
    acknowledgeBucketDeploymentFindings(this, [`<${this.getLogicalId(bucket)}.Arn>/*`]);
  }
}

/**
 * The code copy uses the CDK's BucketDeployment (a Lambda function with the AWS CLI), whose
 * role and runtime the CDK decides. Its findings in `stack` are acknowledged, each with its
 * reason: reading the CDK bootstrap bucket of the stack's Region (with the bootstrap qualifier
 * in force) and writing the given destination objects.
 *
 * @param destinations the destination object ARNs as cdk-nag writes them (`<Logical.Arn>/*` or a literal ARN).
 */
export function acknowledgeBucketDeploymentFindings(stack: Stack, destinations: readonly string[]): void {
  const handler = stack.node.children.find((c: IConstruct) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (!handler) return;
  const reasons: Record<string, string> = {
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
      'The CDK BucketDeployment function that copies the Lambda code writes its logs with the AWS managed basic execution policy; it has no other managed policy.',
    'AwsSolutions-L1': 'The CDK BucketDeployment function runs the Python runtime the CDK chooses for it; it only runs during deployments.',
  };
  for (const [id, reason] of Object.entries(reasons)) Validations.of(handler).acknowledge({ id, reason });
  const policy = handler.node.tryFindChild('ServiceRole')?.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  const wildcard = 'The CDK BucketDeployment function copies objects from the CDK asset bucket into the keyage asset bucket of its own Region; the CDK grants it these object-level actions on those buckets only.';
  const findings = [
    ...WILDCARD_FINDINGS_OF_BUCKET_DEPLOYMENT,
    // Read from the CDK bootstrap bucket of this Region, where the CLI uploaded the code.
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-${bootstrapQualifier(stack)}-assets-<AWS::AccountId>-${stack.region}/*]`,
    ...destinations.map((d) => `AwsSolutions-IAM5[Resource::${d}]`),
  ];
  for (const id of findings) Validations.of(policy).acknowledge({ id, reason: wildcard });
}

/** The IAM5 findings of the CDK BucketDeployment function's policy (actions with wildcards). */
const WILDCARD_FINDINGS_OF_BUCKET_DEPLOYMENT = [
  'AwsSolutions-IAM5[Action::s3:GetObject*]',
  'AwsSolutions-IAM5[Action::s3:GetBucket*]',
  'AwsSolutions-IAM5[Action::s3:List*]',
  'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
  'AwsSolutions-IAM5[Action::s3:Abort*]',
];
