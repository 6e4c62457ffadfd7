/**
 * The member stack in its two forms: a plain stack for one account (`cdk deploy KeyageMember`),
 * and the StackSet template the organization stack puts into every account of the OUs.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import { StackSetStack, type StackSetStackProps } from 'cdk-stacksets';
import type { Construct } from 'constructs';
import { KeyageMember, type KeyageMemberProps } from './member';

/** Props of {@link KeyageMemberStack}. */
export interface KeyageMemberStackProps extends StackProps {
  /**
   * The member settings.
   * @default every setting at its default
   */
  readonly settings?: KeyageMemberProps;
}

/** keyage for one account, deployed with `cdk deploy` (its file assets go to the CDK bootstrap bucket). */
export class KeyageMemberStack extends Stack {
  /** The resources of the account. */
  public readonly member: KeyageMember;

  constructor(scope: Construct, id: string, props: KeyageMemberStackProps = {}) {
    super(scope, id, {
      description: 'keyage: IAM access keys younger than the limit (CIS AWS 1.14, Security Hub IAM.3): Config rule, remediation, conformance pack',
      ...props,
    });
    this.member = new KeyageMember(this, 'Keyage', props.settings ?? {});
  }
}

/** Props of {@link KeyageMemberStackSetStack}. */
export interface KeyageMemberStackSetStackProps extends StackSetStackProps {
  /**
   * The member settings.
   * @default every setting at its default
   */
  readonly settings?: KeyageMemberProps;
}

/**
 * keyage as a StackSet template: the same resources, with the Lambda code read from the
 * organization's asset bucket of the Region each stack instance is created in.
 */
export class KeyageMemberStackSetStack extends StackSetStack {
  /** The resources of each account. */
  public readonly member: KeyageMember;

  constructor(scope: Construct, id: string, props: KeyageMemberStackSetStackProps) {
    super(scope, id, props);
    this.templateOptions.description =
      'keyage (StackSet instance): IAM access keys younger than the limit (CIS AWS 1.14, Security Hub IAM.3): Config rule, remediation, conformance pack';
    this.member = new KeyageMember(this, 'Keyage', props.settings ?? {});
  }
}
