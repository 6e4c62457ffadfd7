/**
 * The keyage CDK app: which stacks exist for a given set of settings.
 *
 *   KeyageMember                 always: keyage for the account and Region you deploy it to
 *   KeyageOrganization           with organization settings: the StackSet for the OUs
 *   KeyageAssets-<region>        with organization settings, one per target Region other than
 *                                the deployment Region: that Region's asset bucket, filled
 *                                from inside that Region
 *   KeyageAggregator             with `configAggregator`: an organization Config aggregator
 *
 * Every stack, and the StackSet's instances, carry the tags of the settings plus keyage:version.
 */
import { Annotations, type App, type Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KeyageAggregatorStack } from './aggregator';
import { KeyageAssetBucketStack } from './asset-bucket';
import type { KeyageSettings } from './config';
import { KeyageMemberStack } from './member-stack';
import { KeyageOrganizationStack } from './organization-stack';
import { findRegion } from './regions';
import { keyageTags } from './tags';

/** Stack names, as `cdk deploy` knows them. */
export const MEMBER_STACK_NAME = 'KeyageMember';
export const ORGANIZATION_STACK_NAME = 'KeyageOrganization';
export const AGGREGATOR_STACK_NAME = 'KeyageAggregator';
/** The name of the asset bucket stack of `region`. */
export function assetBucketStackName(region: string): string {
  return `KeyageAssets-${region}`;
}

/** The stacks of the app. */
export interface KeyageStacks {
  readonly member: KeyageMemberStack;
  readonly organization?: KeyageOrganizationStack;
  readonly assetBuckets: readonly KeyageAssetBucketStack[];
  readonly aggregator?: KeyageAggregatorStack;
}

/** Build the keyage stacks into `app`. */
export function buildKeyageApp(app: App, settings: KeyageSettings): KeyageStacks {
  const tags = keyageTags(settings.tags);
  const member = tagged(new KeyageMemberStack(app, MEMBER_STACK_NAME, { settings: settings.member }), tags);
  const region = member.region;
  if (!Token.isUnresolved(region) && findRegion(region)?.packRemediation === false) {
    Annotations.of(member).addWarningV2('keyage:region-without-pack-remediation', `${region}: CloudFormation's resource specification for this Region has no AWS::Config::RemediationConfiguration, which keyage's conformance pack holds (docs/deployment.md, "Regions").`);
  }
  const org = settings.organization;
  if (!org) return { member, assetBuckets: [] };
  const organization = tagged(new KeyageOrganizationStack(app, ORGANIZATION_STACK_NAME, { organization: org, member: settings.member }), tags);
  const assets = organization.memberFileAssets();
  const assetBuckets = org.regions
    .filter((r) => r !== org.deploymentRegion)
    .map((r) => {
      const stack = tagged(new KeyageAssetBucketStack(app, assetBucketStackName(r), { region: r, prefix: org.assetBucketPrefix, organizationId: org.organizationId, assets }), tags);
      organization.addAssetBucketStack(stack);
      return stack;
    });
  const aggregator = org.configAggregator ? tagged(new KeyageAggregatorStack(app, AGGREGATOR_STACK_NAME, { region: org.deploymentRegion, regions: org.regions }), tags) : undefined;
  return { member, organization, assetBuckets, ...(aggregator ? { aggregator } : {}) };
}

/**
 * Tag every resource of the stack, the stack itself, and the stacks it holds (the StackSet's
 * member template): the tags are in the templates, and the StackSet carries them too.
 */
export function tagged<T extends Stack>(stack: T, tags: Readonly<Record<string, string>>): T {
  for (const [key, value] of Object.entries(tags)) Tags.of(stack).add(key, value);
  return stack;
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
