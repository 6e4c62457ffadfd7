/**
 * A bucket holding the member stack's Lambda code for one Region, readable by every account of
 * the organization (and by no one else): StackSets create each stack instance in the target
 * account, whose CloudFormation role must fetch the code from a bucket in its own Region.
 */
import { RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

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

/** Props of {@link KeyageAssetBucketStack}. */
export interface KeyageAssetBucketStackProps extends StackProps {
  /** The bucket name prefix; the bucket is `<prefix>-<region>`. */
  readonly prefix: string;
  /** The organization whose accounts may read the code (aws:PrincipalOrgID). */
  readonly organizationId: string;
  /** The Region of the stack and its bucket. */
  readonly region: string;
}

/** The asset bucket of a target Region other than the organization stack's own. */
export class KeyageAssetBucketStack extends Stack {
  /** The asset bucket of the stack's Region. */
  public readonly assetBucket: KeyageAssetBucket;

  constructor(scope: Construct, id: string, props: KeyageAssetBucketStackProps) {
    super(scope, id, {
      description: `keyage: Lambda code of the member stack for ${props.region}, readable by the organization`,
      ...props,
      env: { ...props.env, region: props.region },
    });
    this.assetBucket = new KeyageAssetBucket(this, 'AssetBucket', { prefix: props.prefix, region: props.region, organizationId: props.organizationId });
  }
}
