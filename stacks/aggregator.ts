/**
 * An organization-wide AWS Config aggregator, so the Config console (Aggregators) shows
 * keyage's rule and its verdicts for every account and target Region in one place.
 *
 * AWS Config allows an organization aggregator in the management account or in a delegated
 * administrator for Config (`aws organizations register-delegated-administrator
 * --service-principal config.amazonaws.com`). Its role is trusted by config.amazonaws.com and
 * has the AWS managed policy AWSConfigRoleForOrganizations (organizations:Describe*, List*),
 * which AWS Config documents for this purpose.
 */
import { Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { CfnConfigurationAggregator } from 'aws-cdk-lib/aws-config';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** Name of the aggregator. */
export const AGGREGATOR_NAME = 'keyage';

/** Props of {@link KeyageAggregatorStack}. */
export interface KeyageAggregatorStackProps extends StackProps {
  /** The Regions to aggregate: keyage's target Regions. */
  readonly regions: readonly string[];
  /** The Region of the stack (where the aggregator lives). */
  readonly region: string;
}

/** The organization aggregator, for the management account or Config's delegated administrator. */
export class KeyageAggregatorStack extends Stack {
  /** The aggregator. */
  public readonly aggregator: CfnConfigurationAggregator;
  /** The role AWS Config uses to read the organization. */
  public readonly role: Role;

  constructor(scope: Construct, id: string, props: KeyageAggregatorStackProps) {
    super(scope, id, {
      description: "keyage: an organization-wide AWS Config aggregator, to see keyage's rule across every account and Region",
      ...props,
      env: { ...props.env, region: props.region },
    });
    this.role = new Role(this, 'AggregatorRole', {
      assumedBy: new ServicePrincipal('config.amazonaws.com'),
      description: 'keyage: AWS Config reads the organization for the keyage aggregator',
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSConfigRoleForOrganizations')],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSConfigRoleForOrganizations]',
      reason: 'AWS Config documents this AWS managed policy for the role of an organization aggregator; it only lists and describes the organization.',
    });
    this.aggregator = new CfnConfigurationAggregator(this, 'Aggregator', {
      configurationAggregatorName: AGGREGATOR_NAME,
      organizationAggregationSource: { roleArn: this.role.roleArn, awsRegions: [...props.regions], allAwsRegions: false },
    });
    this.aggregator.node.addDependency(this.role);
  }
}
