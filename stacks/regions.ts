/**
 * The AWS Regions keyage can be deployed to, and what each one lacks.
 *
 * Sources (checked when this table was written; update it when AWS adds a Region):
 * - the Regions and their partitions: botocore 1.43 `data/partitions.json` and the AWS Config
 *   endpoints of `data/endpoints.json` (AWS Config is available in every Region listed here);
 * - opt-in Regions: every Region launched after March 2019 must be enabled in an account before
 *   anything can be deployed there (AWS Account Management, "Specify which AWS Regions your
 *   account can use");
 * - `packRemediation`: whether CloudFormation's resource specification for the Region has
 *   `AWS::Config::RemediationConfiguration` (the per-Region provider schemas cfn-lint 1.51
 *   ships, `cfnlint/data/schemas/providers/<region>`). A conformance pack is a CloudFormation
 *   template that AWS Config deploys, and keyage's pack holds the rule's remediation. AWS
 *   Config's own Region table lists remediation in some of these Regions; the resource
 *   specification does not, so keyage warns rather than promises there.
 *
 * The isolated partitions (aws-iso*, aws-eusc) are left out: keyage is not built for them.
 */
import { InvalidParameterError } from '../lib/errors';

/** The partitions keyage deploys to. */
export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

/** One Region. */
export interface AwsRegion {
  /** The Region code, e.g. `eu-west-1`. */
  readonly code: string;
  /** Its name, e.g. `Europe (Ireland)`. */
  readonly name: string;
  readonly partition: Partition;
  /** An opt-in Region: each account must enable it before a stack instance can be created there. */
  readonly optIn: boolean;
  /** CloudFormation's resource specification for the Region has AWS::Config::RemediationConfiguration. */
  readonly packRemediation: boolean;
}

const R = (code: string, name: string, partition: Partition, optIn: boolean, packRemediation: boolean): AwsRegion => ({
  code,
  name,
  partition,
  optIn,
  packRemediation,
});

/** Every Region keyage knows, by partition, in code order. */
export const AWS_REGIONS: readonly AwsRegion[] = [
  R('af-south-1', 'Africa (Cape Town)', 'aws', true, false),
  R('ap-east-1', 'Asia Pacific (Hong Kong)', 'aws', true, false),
  R('ap-east-2', 'Asia Pacific (Taipei)', 'aws', true, false),
  R('ap-northeast-1', 'Asia Pacific (Tokyo)', 'aws', false, true),
  R('ap-northeast-2', 'Asia Pacific (Seoul)', 'aws', false, true),
  R('ap-northeast-3', 'Asia Pacific (Osaka)', 'aws', false, true),
  R('ap-south-1', 'Asia Pacific (Mumbai)', 'aws', false, true),
  R('ap-south-2', 'Asia Pacific (Hyderabad)', 'aws', true, false),
  R('ap-southeast-1', 'Asia Pacific (Singapore)', 'aws', false, true),
  R('ap-southeast-2', 'Asia Pacific (Sydney)', 'aws', false, true),
  R('ap-southeast-3', 'Asia Pacific (Jakarta)', 'aws', true, false),
  R('ap-southeast-4', 'Asia Pacific (Melbourne)', 'aws', true, false),
  R('ap-southeast-5', 'Asia Pacific (Malaysia)', 'aws', true, false),
  R('ap-southeast-6', 'Asia Pacific (New Zealand)', 'aws', true, false),
  R('ap-southeast-7', 'Asia Pacific (Thailand)', 'aws', true, false),
  R('ca-central-1', 'Canada (Central)', 'aws', false, false),
  R('ca-west-1', 'Canada West (Calgary)', 'aws', true, false),
  R('eu-central-1', 'Europe (Frankfurt)', 'aws', false, true),
  R('eu-central-2', 'Europe (Zurich)', 'aws', true, false),
  R('eu-north-1', 'Europe (Stockholm)', 'aws', false, false),
  R('eu-south-1', 'Europe (Milan)', 'aws', true, false),
  R('eu-south-2', 'Europe (Spain)', 'aws', true, false),
  R('eu-west-1', 'Europe (Ireland)', 'aws', false, true),
  R('eu-west-2', 'Europe (London)', 'aws', false, true),
  R('eu-west-3', 'Europe (Paris)', 'aws', false, true),
  R('il-central-1', 'Israel (Tel Aviv)', 'aws', true, false),
  R('me-central-1', 'Middle East (UAE)', 'aws', true, true),
  R('me-south-1', 'Middle East (Bahrain)', 'aws', true, true),
  R('mx-central-1', 'Mexico (Central)', 'aws', true, false),
  R('sa-east-1', 'South America (Sao Paulo)', 'aws', false, true),
  R('us-east-1', 'US East (N. Virginia)', 'aws', false, true),
  R('us-east-2', 'US East (Ohio)', 'aws', false, true),
  R('us-west-1', 'US West (N. California)', 'aws', false, true),
  R('us-west-2', 'US West (Oregon)', 'aws', false, true),
  R('cn-north-1', 'China (Beijing)', 'aws-cn', false, true),
  R('cn-northwest-1', 'China (Ningxia)', 'aws-cn', false, false),
  R('us-gov-east-1', 'AWS GovCloud (US-East)', 'aws-us-gov', false, false),
  R('us-gov-west-1', 'AWS GovCloud (US-West)', 'aws-us-gov', false, false),
];

const BY_CODE = new Map(AWS_REGIONS.map((r) => [r.code, r]));

/** The Region with this code, or undefined when keyage does not know it. */
export function findRegion(code: string): AwsRegion | undefined {
  return BY_CODE.get(code);
}

/** The codes of the Regions whose resource specification lacks AWS::Config::RemediationConfiguration. */
export const REGIONS_WITHOUT_PACK_REMEDIATION: readonly string[] = AWS_REGIONS.filter((r) => !r.packRemediation).map((r) => r.code);

/** The partition of a known Region (throws for an unknown one: validate first). */
export function partitionOf(code: string): Partition {
  const region = BY_CODE.get(code);
  if (!region) throw new Error(`keyage: unknown Region ${code}`);
  return region.partition;
}

/**
 * A Region code keyage knows, or an InvalidParameterError naming the setting, the value, the
 * nearest known code (a typo such as `eu-westt-1` is the usual mistake) and where the list is.
 */
export function parseRegionCode(value: unknown, name: string): AwsRegion {
  if (typeof value === 'string') {
    const region = BY_CODE.get(value);
    if (region) return region;
  }
  const near = typeof value === 'string' ? nearestRegion(value) : undefined;
  throw new InvalidParameterError(
    name,
    value,
    `an AWS Region code${near ? ` (did you mean ${near}?)` : ''}; keyage knows ${AWS_REGIONS.map((r) => r.code).join(', ')}`,
  );
}

/** The known code closest to `text` (edit distance at most 2), if any. */
export function nearestRegion(text: string): string | undefined {
  let best: { code: string; distance: number } | undefined;
  for (const { code } of AWS_REGIONS) {
    const distance = editDistance(text.toLowerCase(), code);
    if (distance <= 2 && (!best || distance < best.distance)) best = { code, distance };
  }
  return best?.code;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
