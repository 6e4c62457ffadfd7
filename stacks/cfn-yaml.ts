/**
 * CloudFormation YAML: the short intrinsic tags (`!Ref X`, `!If [..]`, …) read as their long
 * forms (`{ Ref: X }`, `{ 'Fn::If': [..] }`), so a template can be inspected as data.
 *
 * This module imports no CDK and no project paths, so the Lambda functions can bundle it.
 */
import { parse, type CollectionTag, type ScalarTag, type YAMLMap, type YAMLSeq } from 'yaml';

/** A CloudFormation template, as parsed. */
export interface CfnTemplate {
  readonly Parameters?: Record<string, CfnParameter>;
  readonly Conditions?: Record<string, unknown>;
  readonly Resources: Record<string, CfnResource>;
  readonly [section: string]: unknown;
}

/** One declared template parameter. */
export interface CfnParameter {
  readonly Type: string;
  readonly Default?: string;
  readonly AllowedValues?: readonly string[];
  readonly Description?: string;
}

/** One template resource. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | readonly string[];
  readonly Condition?: string;
}

const INTRINSICS = ['Ref', 'Condition', 'If', 'Not', 'Equals', 'And', 'Or', 'Sub', 'GetAtt', 'Join', 'Select', 'Split', 'FindInMap', 'Base64', 'Cidr', 'GetAZs', 'ImportValue'];

/** YAML tags for CloudFormation's short intrinsic syntax (`!Ref X`, `!If [..]`, `!Sub`, …). */
export const CFN_YAML_TAGS: Array<ScalarTag | CollectionTag> = INTRINSICS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  const scalar: ScalarTag = {
    tag: `!${name}`,
    resolve: (value: string) => ({ [key]: name === 'GetAtt' ? value.split('.') : value }),
  };
  const seq: CollectionTag = { tag: `!${name}`, collection: 'seq', resolve: (node) => ({ [key]: (node as YAMLSeq).toJSON() }) };
  const map: CollectionTag = { tag: `!${name}`, collection: 'map', resolve: (node) => ({ [key]: (node as YAMLMap).toJSON() }) };
  return [scalar, seq, map];
});

/** Parse a CloudFormation YAML template, short intrinsic tags included. */
export function parseCfnYaml(text: string, sourceName = 'template'): CfnTemplate {
  let doc: unknown;
  try {
    doc = parse(text, { customTags: CFN_YAML_TAGS, prettyErrors: true });
  } catch (err) {
    throw new Error(`${sourceName} is not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!doc || typeof doc !== 'object' || !('Resources' in doc)) {
    throw new Error(`${sourceName} is not a CloudFormation template: it has no Resources section`);
  }
  return doc as CfnTemplate;
}

