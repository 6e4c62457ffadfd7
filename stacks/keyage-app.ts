/**
 * The keyage CDK app: which stacks exist for a given set of settings.
 *
 *   KeyageMember                 always: keyage for the account and Region you deploy it to
 *   KeyageOrganization           with organization settings: the StackSet for the OUs
 *   KeyageAssets-<region>        with organization settings, one per extra target Region:
 *                                the asset bucket of that Region
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KeyageAssetBucketStack } from './asset-bucket';
import type { KeyageSettings } from './config';
import { KeyageMemberStack } from './member-stack';
import { KeyageOrganizationStack } from './organization-stack';

/** Stack names, as `cdk deploy` knows them. */
export const MEMBER_STACK_NAME = 'KeyageMember';
export const ORGANIZATION_STACK_NAME = 'KeyageOrganization';
/** The name of the asset bucket stack of `region`. */
export function assetBucketStackName(region: string): string {
  return `KeyageAssets-${region}`;
}

/** The stacks of the app. */
export interface KeyageStacks {
  readonly member: KeyageMemberStack;
  readonly organization?: KeyageOrganizationStack;
  readonly assetBuckets: readonly KeyageAssetBucketStack[];
}

/** Build the keyage stacks into `app`. */
export function buildKeyageApp(app: App, settings: KeyageSettings): KeyageStacks {
  const member = new KeyageMemberStack(app, MEMBER_STACK_NAME, { settings: settings.member });
  const org = settings.organization;
  if (!org) return { member, assetBuckets: [] };
  const assetBuckets = org.regions
    .filter((region) => region !== org.deploymentRegion)
    .map(
      (region) =>
        new KeyageAssetBucketStack(app, assetBucketStackName(region), { region, prefix: org.assetBucketPrefix, organizationId: org.organizationId }),
    );
  const organization = new KeyageOrganizationStack(app, ORGANIZATION_STACK_NAME, { organization: org, member: settings.member, assetBucketStacks: assetBuckets });
  return { member, organization, assetBuckets };
}

/**
 * Run the cdk-nag AwsSolutions checks at synth: a finding that is not acknowledged, with its
 * reason, next to the resource fails the synth. Returns the pack, whose `validateScope(app)`
 * tests call directly.
 */
export function addNagChecks(app: App): AwsSolutionsChecks {
  const checks = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(checks);
  return checks;
}
