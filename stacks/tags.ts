/**
 * Resource tags and the bootstrap qualifier, the same for every keyage stack.
 *
 * The app tags every stack (`Tags.of`, so the tags are in each template, on every resource that
 * supports them, and on the StackSet, which passes them on to its stack instances). keyage adds
 * `keyage:version` to the tags the settings give.
 */
import { BOOTSTRAP_QUALIFIER_CONTEXT, DefaultStackSynthesizer } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { version } from '../package.json';
import type { ResourceTags } from './config';

/** The tag key keyage sets on everything it creates: the keyage version that created it. */
export const VERSION_TAG_KEY = 'keyage:version';

/** The tags of every keyage resource: keyage's own, then the settings' `tags`. */
export function keyageTags(userTags: ResourceTags = {}): Record<string, string> {
  return { [VERSION_TAG_KEY]: version, ...userTags };
}

/**
 * The CDK bootstrap qualifier in force: the context value `@aws-cdk/core:bootstrapQualifier`
 * (what `cdk bootstrap --qualifier` set up, given with `-c` or in cdk.json), else the default.
 */
export function bootstrapQualifier(scope: IConstruct): string {
  const value = scope.node.tryGetContext(BOOTSTRAP_QUALIFIER_CONTEXT) as unknown;
  return typeof value === 'string' && value !== '' ? value : DefaultStackSynthesizer.DEFAULT_QUALIFIER;
}
