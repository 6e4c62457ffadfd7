/**
 * keyage deployment settings: typed, with defaults, validated before anything is built.
 *
 * Settings come from the CDK context key `keyage` (an object in `cdk.json`, or a JSON string
 * given with `-c keyage=...`), overlaid by a JSON file named with `-c keyageConfigFile=PATH`
 * (see `stacks/keyage.config.example.json`). A wrong or missing value fails synth with an
 * `InvalidParameterError` that names the setting (`keyage.<name>`), the value and what is allowed.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidParameterError } from '../lib/errors';
import { MAX_MAX_ACCESS_KEY_AGE_DAYS, formatExemptionTag, parseEvaluationRefreshDays, parseExemptionTag, parseMaxAccessKeyAge } from '../rules/access-key-age/parameters';
import { type AwsRegion, parseRegionCode } from './regions';

/** How often the periodic sweep runs: the values AWS Config accepts. */
export const EXECUTION_FREQUENCIES = ['One_Hour', 'Three_Hours', 'Six_Hours', 'Twelve_Hours', 'TwentyFour_Hours'] as const;
export type ExecutionFrequency = (typeof EXECUTION_FREQUENCIES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type DeploymentLogLevel = (typeof LOG_LEVELS)[number];

/** Who deploys the StackSet: the management account (SELF) or a delegated administrator. */
export const CALL_AS = ['SELF', 'DELEGATED_ADMIN'] as const;
export type CallAs = (typeof CALL_AS)[number];

/** How a StackSet operation's concurrency reacts to failures (StackSetOperationPreferences.ConcurrencyMode). */
export const CONCURRENCY_MODES = ['SOFT_FAILURE_TOLERANCE', 'STRICT_FAILURE_TOLERANCE'] as const;
export type ConcurrencyMode = (typeof CONCURRENCY_MODES)[number];

/** Whether a StackSet operation does its Regions one after the other or all at once. */
export const REGION_CONCURRENCY = ['SEQUENTIAL', 'PARALLEL'] as const;
export type RegionConcurrency = (typeof REGION_CONCURRENCY)[number];

/** Default grace period between deactivation and deletion of a key, in days. */
export const DEFAULT_GRACE_DAYS = 14;

/** What one account gets: the rule, the remediation, the pack, the schedule and notifications. */
export interface MemberSettings {
  /**
   * An active key older than this many whole days makes its user NON_COMPLIANT (the limit
   * itself is compliant).
   * @default 90
   */
  readonly maxAccessKeyAge: number;
  /**
   * A user tag (`key` or `key=value`) that exempts a user from the rule and the remediation.
   * Empty means no exemption.
   * @default '' (no exemption)
   */
  readonly exemptionTag: string;
  /**
   * The rule's `EvaluationRefreshDays`: the periodic sweep records an unchanged evaluation again
   * only once the one AWS Config holds is this many days old (0-60; 0 records every evaluation on
   * every sweep). A changed verdict is always recorded at once. AWS Config bills each evaluation
   * recorded; Security Hub deletes findings not updated in 90 days.
   * @default 30
   */
  readonly evaluationRefreshDays: number;
  /**
   * How often the periodic sweep of every user runs.
   * @default 'TwentyFour_Hours'
   */
  readonly maximumExecutionFrequency: ExecutionFrequency;
  /**
   * Let Config run the deactivation runbook by itself for every NON_COMPLIANT user.
   * @default false (remediation only when a person starts it)
   */
  readonly automaticRemediation: boolean;
  /**
   * Make every deactivation a dry run: the runbook reports its plan and changes nothing.
   * Useful to watch automatic remediation before trusting it.
   * @default false
   */
  readonly remediationDryRun: boolean;
  /**
   * Attempts of an automatic remediation for one user before Config gives up (1-25).
   * @default 3
   */
  readonly maximumAutomaticAttempts: number;
  /**
   * Window in seconds in which `maximumAutomaticAttempts` are counted.
   * @default 600
   */
  readonly retryAttemptSeconds: number;
  /**
   * Share of non-compliant users remediated at once (1-100).
   * @default 10
   */
  readonly concurrentExecutionRatePercentage: number;
  /**
   * Share of failed remediations at which Config stops the batch (1-100).
   * @default 10
   */
  readonly errorPercentage: number;
  /**
   * Days a key deactivated by keyage must stay inactive, and unused, before it may be deleted.
   * @default 14
   */
  readonly graceDays: number;
  /**
   * Let the daily schedule really delete keys. When false the schedule runs the delete
   * runbook as a dry run, so its plan is visible without any key being deleted.
   * @default false
   */
  readonly automaticDeletion: boolean;
  /**
   * When the delete runbook runs, as an EventBridge Scheduler `cron(...)` or `rate(...)` expression.
   * @default 'cron(0 6 * * ? *)' (daily at 06:00)
   */
  readonly deletionSchedule: string;
  /**
   * Time zone of `deletionSchedule` (IANA name).
   * @default 'UTC'
   */
  readonly scheduleTimezone: string;
  /**
   * An e-mail address subscribed to the notification topic (the address must confirm).
   * @default - no subscription
   */
  readonly notificationEmail?: string;
  /**
   * Log level of both Lambda functions.
   * @default 'info'
   */
  readonly logLevel: DeploymentLogLevel;
  /**
   * Names of IAM roles (in each member account) that may sign deactivation records besides the
   * remediation function, for `keyage remediate --apply` run by hand; each also needs an IAM
   * policy allowing kms:GenerateMac on the record key. Records written without the key are
   * never deleted by keyage.
   * @default [] (only the remediation function signs)
   */
  readonly recordSignerRoleNames: readonly string[];
  /**
   * An EventBridge event bus (typically in a security account) that every account also sends
   * keyage's events to: compliance changes, runbook results and keyage alarm state changes.
   * One place to watch and to subscribe to, instead of one e-mail subscription per account.
   * The bus's resource policy must let the organization's accounts put events.
   * @default - no central target
   */
  readonly centralEventBusArn?: string;
  /**
   * The account (the organization's management account, or the delegated administrator) whose
   * principals may assume the read-only `keyage-audit` role that `keyage audit --organization` uses.
   * @default - no audit role
   */
  readonly auditAccountId?: string;
  /**
   * Let the audit role also import its account's findings (`keyage audit --organization --security-hub`):
   * securityhub:GetFindings and securityhub:BatchImportFindings on the account's own hub and product.
   * Only with `auditAccountId`.
   * @default false (read-only)
   */
  readonly auditRoleImportsFindings?: boolean;
}

/** Where the StackSet puts the member stack, and how. */
export interface OrganizationSettings {
  /** The organization's ID (`o-` followed by 10-32 characters); scopes the asset buckets' read access. */
  readonly organizationId: string;
  /** The OUs (`ou-xxxx-xxxxxxxx`) or the root (`r-xxxx`) whose accounts, current and future, get the member stack. */
  readonly organizationalUnitIds: readonly string[];
  /**
   * Target Regions. IAM is global: every extra Region duplicates every finding, so ONE Region
   * (the one whose Config recorder records AWS::IAM::User) is the norm.
   */
  readonly regions: readonly string[];
  /**
   * Required to list more than one Region.
   * @default false
   */
  readonly allowMultipleRegions: boolean;
  /**
   * The Region of the organization stack (the StackSet and its asset bucket).
   * @default the first of `regions`
   */
  readonly deploymentRegion: string;
  /**
   * SELF from the management account, DELEGATED_ADMIN from a CloudFormation delegated administrator.
   * @default 'SELF'
   */
  readonly callAs: CallAs;
  /**
   * Name of the StackSet.
   * @default 'keyage'
   */
  readonly stackSetName: string;
  /**
   * Accounts per Region that may fail before CloudFormation stops the operation in that
   * Region (and skips the Regions after it). A count, so that a small OU tolerates failures
   * too: a percentage rounds down, and 10% of an OU of 9 accounts is 0.
   * @default 3 (unless failureTolerancePercentage is given)
   */
  readonly failureToleranceCount?: number;
  /**
   * The same as a share of the accounts per Region (0-100, rounded down). Instead of
   * failureToleranceCount, not with it.
   * @default - failureToleranceCount is used
   */
  readonly failureTolerancePercentage?: number;
  /**
   * Accounts deployed at once, per Region.
   * @default 10 (unless maxConcurrentPercentage is given)
   */
  readonly maxConcurrentCount?: number;
  /**
   * The same as a share of the accounts per Region (1-100, rounded down, at least 1). Instead
   * of maxConcurrentCount, not with it.
   * @default - maxConcurrentCount is used
   */
  readonly maxConcurrentPercentage?: number;
  /**
   * SOFT_FAILURE_TOLERANCE keeps deploying maxConcurrent accounts at a time whatever fails,
   * and stops when more than the tolerance failed; STRICT_FAILURE_TOLERANCE lowers the
   * concurrency to at most the tolerance + 1 and lowers it further with every failure.
   * @default 'SOFT_FAILURE_TOLERANCE'
   */
  readonly concurrencyMode: ConcurrencyMode;
  /**
   * SEQUENTIAL deploys the Regions one after the other, in the order of `regions`
   * (RegionOrder), so a failing first Region stops the rest; PARALLEL deploys all at once.
   * @default 'SEQUENTIAL'
   */
  readonly regionConcurrency: RegionConcurrency;
  /**
   * Keep the member stack in an account that leaves the OUs (unmanaged from then on).
   * @default false (the stack is deleted)
   */
  readonly retainStacksOnAccountRemoval: boolean;
  /**
   * Prefix of the asset bucket names; the bucket of each Region is `<prefix>-<region>`.
   * @default 'keyage-assets-<organizationId>'
   */
  readonly assetBucketPrefix: string;
  /**
   * Build the KeyageAggregator stack: an organization-wide AWS Config aggregator (for the
   * management account or Config's delegated administrator), so the Config console shows
   * keyage's rule for every account and target Region in one place.
   * @default false
   */
  readonly configAggregator: boolean;
}

/** Tags keyage adds to everything it creates, as given; keyage adds `keyage:version` itself. */
export type ResourceTags = Readonly<Record<string, string>>;

/** Every setting, validated. `organization` is present when the organization settings are given. */
export interface KeyageSettings {
  readonly member: MemberSettings;
  readonly organization?: OrganizationSettings;
  /**
   * Tags for every resource of every keyage stack (and the StackSet, which passes them on to
   * its stack instances).
   * @default {} (only keyage's own `keyage:version`)
   */
  readonly tags: ResourceTags;
}

const MEMBER_KEYS = [
  'maxAccessKeyAge',
  'exemptionTag',
  'evaluationRefreshDays',
  'maximumExecutionFrequency',
  'automaticRemediation',
  'remediationDryRun',
  'maximumAutomaticAttempts',
  'retryAttemptSeconds',
  'concurrentExecutionRatePercentage',
  'errorPercentage',
  'graceDays',
  'automaticDeletion',
  'deletionSchedule',
  'scheduleTimezone',
  'notificationEmail',
  'logLevel',
  'recordSignerRoleNames',
  'centralEventBusArn',
  'auditAccountId',
  'auditRoleImportsFindings',
] as const;

const ORGANIZATION_KEYS = [
  'organizationId',
  'organizationalUnitIds',
  'regions',
  'allowMultipleRegions',
  'deploymentRegion',
  'callAs',
  'stackSetName',
  'failureToleranceCount',
  'failureTolerancePercentage',
  'maxConcurrentCount',
  'maxConcurrentPercentage',
  'concurrencyMode',
  'regionConcurrency',
  'retainStacksOnAccountRemoval',
  'assetBucketPrefix',
  'configAggregator',
] as const;

/** Every setting name keyage accepts. */
export const SETTING_NAMES: readonly string[] = [...MEMBER_KEYS, ...ORGANIZATION_KEYS, 'tags'];

/** Defaults of the StackSet operation preferences (counts, so that small OUs tolerate failures). */
export const DEFAULT_FAILURE_TOLERANCE_COUNT = 3;
export const DEFAULT_MAX_CONCURRENT_COUNT = 10;
/** The most tags keyage accepts in `tags` (a StackSet holds at most 50; keyage adds its own). */
export const MAX_USER_TAGS = 40;

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT_ID = /^\d{12}$/;
const OU_OR_ROOT_ID = /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/;
const STACK_SET_NAME = /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/;
const BUCKET_PREFIX = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SCHEDULE = /^(cron\([^)]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/;
const TIMEZONE = /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/;
const ROLE_NAME = /^([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const EVENT_BUS_ARN = /^arn:aws(-cn|-us-gov)?:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._\-/]{1,256}$/;
// IAM, CloudFormation and most services accept these characters in tags.
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

/** The name a setting is reported under in error messages. */
function settingName(name: string): string {
  return `keyage.${name}`;
}

/**
 * Validate the member settings; absent values take their defaults.
 * @param raw the settings as given (from context, a file, or construct props).
 * @param nameOf how to name a setting in an error message.
 */
export function resolveMemberSettings(raw: Readonly<Record<string, unknown>>, nameOf: (key: string) => string = settingName): MemberSettings {
  const exemption = parseExemptionTag(raw.exemptionTag, nameOf('exemptionTag'));
  const notificationEmail = optionalString(raw.notificationEmail, nameOf('notificationEmail'), EMAIL, 'an e-mail address such as security@example.com');
  return {
    maxAccessKeyAge: parseMaxAccessKeyAge(raw.maxAccessKeyAge, nameOf('maxAccessKeyAge')),
    exemptionTag: exemption ? formatExemptionTag(exemption) : '',
    evaluationRefreshDays: parseEvaluationRefreshDays(raw.evaluationRefreshDays, nameOf('evaluationRefreshDays')),
    maximumExecutionFrequency: oneOf(raw.maximumExecutionFrequency, nameOf('maximumExecutionFrequency'), EXECUTION_FREQUENCIES, 'TwentyFour_Hours'),
    automaticRemediation: bool(raw.automaticRemediation, nameOf('automaticRemediation'), false),
    remediationDryRun: bool(raw.remediationDryRun, nameOf('remediationDryRun'), false),
    maximumAutomaticAttempts: int(raw.maximumAutomaticAttempts, nameOf('maximumAutomaticAttempts'), 1, 25, 3),
    retryAttemptSeconds: int(raw.retryAttemptSeconds, nameOf('retryAttemptSeconds'), 1, 2_678_000, 600),
    concurrentExecutionRatePercentage: int(raw.concurrentExecutionRatePercentage, nameOf('concurrentExecutionRatePercentage'), 1, 100, 10),
    errorPercentage: int(raw.errorPercentage, nameOf('errorPercentage'), 1, 100, 10),
    graceDays: int(raw.graceDays, nameOf('graceDays'), 1, MAX_MAX_ACCESS_KEY_AGE_DAYS, DEFAULT_GRACE_DAYS),
    automaticDeletion: bool(raw.automaticDeletion, nameOf('automaticDeletion'), false),
    deletionSchedule:
      optionalString(raw.deletionSchedule, nameOf('deletionSchedule'), SCHEDULE, 'an EventBridge Scheduler expression: cron(minutes hours day-of-month month day-of-week year) or rate(N days|hours|minutes)') ??
      'cron(0 6 * * ? *)',
    scheduleTimezone: optionalString(raw.scheduleTimezone, nameOf('scheduleTimezone'), TIMEZONE, 'an IANA time zone name such as UTC or Europe/Paris') ?? 'UTC',
    ...(notificationEmail ? { notificationEmail } : {}),
    logLevel: oneOf(raw.logLevel, nameOf('logLevel'), LOG_LEVELS, 'info'),
    recordSignerRoleNames:
      raw.recordSignerRoleNames === undefined || (Array.isArray(raw.recordSignerRoleNames) && raw.recordSignerRoleNames.length === 0)
        ? []
        : stringList(raw.recordSignerRoleNames, nameOf('recordSignerRoleNames'), ROLE_NAME, 'a list of IAM role names (with their path, if any), such as ["SecurityOperators"]'),
    ...optionalEntry(
      'centralEventBusArn',
      optionalString(raw.centralEventBusArn, nameOf('centralEventBusArn'), EVENT_BUS_ARN, 'the ARN of an EventBridge event bus, arn:aws:events:REGION:ACCOUNT:event-bus/NAME'),
    ),
    ...auditRoleSettings(raw, nameOf),
  };
}

/** `auditAccountId` and `auditRoleImportsFindings`: present only when an audit role is asked for. */
function auditRoleSettings(raw: Readonly<Record<string, unknown>>, nameOf: (key: string) => string): Pick<MemberSettings, 'auditAccountId' | 'auditRoleImportsFindings'> {
  const auditAccountId = optionalString(raw.auditAccountId, nameOf('auditAccountId'), ACCOUNT_ID, 'the 12-digit ID of the management or delegated administrator account that runs keyage audit --organization');
  if (!auditAccountId) {
    if (raw.auditRoleImportsFindings !== undefined && raw.auditRoleImportsFindings !== null) {
      throw new InvalidParameterError(nameOf('auditRoleImportsFindings'), raw.auditRoleImportsFindings, `only with ${nameOf('auditAccountId')} (there is no audit role without it)`);
    }
    return {};
  }
  return { auditAccountId, auditRoleImportsFindings: bool(raw.auditRoleImportsFindings, nameOf('auditRoleImportsFindings'), false) };
}

/**
 * Validate the organization settings; absent optional values take their defaults.
 * @param raw the settings as given.
 * @param nameOf how to name a setting in an error message.
 */
export function resolveOrganizationSettings(raw: Readonly<Record<string, unknown>>, nameOf: (key: string) => string = settingName): OrganizationSettings {
  const organizationId = requiredString(raw.organizationId, nameOf('organizationId'), ORGANIZATION_ID, 'the organization ID: "o-" followed by 10 to 32 lower-case letters or digits');
  const organizationalUnitIds = stringList(
    raw.organizationalUnitIds,
    nameOf('organizationalUnitIds'),
    OU_OR_ROOT_ID,
    'a non-empty list of OU IDs ("ou-" then 4-32 and 8-32 lower-case letters or digits, e.g. ou-ab12-cd34ef56) or the root ID ("r-" then 4-32 characters)',
  );
  const regions = regionList(raw.regions, nameOf('regions'));
  const allowMultipleRegions = bool(raw.allowMultipleRegions, nameOf('allowMultipleRegions'), false);
  if (regions.length > 1 && !allowMultipleRegions) {
    throw new InvalidParameterError(
      nameOf('regions'),
      raw.regions,
      `ONE Region: IAM is global, and every extra Region duplicates every finding in Security Hub. Choose the Region whose Config recorder records AWS::IAM::User, or set ${nameOf('allowMultipleRegions')} to true`,
    );
  }
  const deploymentRegion =
    raw.deploymentRegion === undefined || raw.deploymentRegion === null || raw.deploymentRegion === ''
      ? (regions[0] as string)
      : parseRegionCode(raw.deploymentRegion, nameOf('deploymentRegion')).code;
  const partition = parseRegionCode(regions[0], nameOf('regions')).partition;
  if (parseRegionCode(deploymentRegion, nameOf('deploymentRegion')).partition !== partition) {
    throw new InvalidParameterError(nameOf('deploymentRegion'), deploymentRegion, `a Region of the same partition (${partition}) as the target Regions: a StackSet does not cross partitions`);
  }
  const assetBucketPrefix = optionalString(raw.assetBucketPrefix, nameOf('assetBucketPrefix'), BUCKET_PREFIX, 'lower-case letters, digits and hyphens, starting and ending with a letter or digit') ?? `keyage-assets-${organizationId}`;
  for (const region of regions) {
    const bucket = `${assetBucketPrefix}-${region}`;
    if (bucket.length > 63 || bucket.length < 3) {
      throw new InvalidParameterError(
        nameOf('assetBucketPrefix'),
        assetBucketPrefix,
        `a prefix short enough that "<prefix>-<region>" is a valid S3 bucket name of at most 63 characters ("${bucket}" has ${bucket.length})`,
      );
    }
  }
  const tolerance = countOrPercentage(raw, nameOf, 'failureToleranceCount', 'failureTolerancePercentage', 0, DEFAULT_FAILURE_TOLERANCE_COUNT);
  const concurrency = countOrPercentage(raw, nameOf, 'maxConcurrentCount', 'maxConcurrentPercentage', 1, DEFAULT_MAX_CONCURRENT_COUNT);
  return {
    organizationId,
    organizationalUnitIds,
    regions,
    allowMultipleRegions,
    deploymentRegion,
    callAs: oneOf(raw.callAs, nameOf('callAs'), CALL_AS, 'SELF'),
    stackSetName: optionalString(raw.stackSetName, nameOf('stackSetName'), STACK_SET_NAME, 'a letter then up to 127 letters, digits or hyphens') ?? 'keyage',
    ...(tolerance.count !== undefined ? { failureToleranceCount: tolerance.count } : { failureTolerancePercentage: tolerance.percentage }),
    ...(concurrency.count !== undefined ? { maxConcurrentCount: concurrency.count } : { maxConcurrentPercentage: concurrency.percentage }),
    concurrencyMode: oneOf(raw.concurrencyMode, nameOf('concurrencyMode'), CONCURRENCY_MODES, 'SOFT_FAILURE_TOLERANCE'),
    regionConcurrency: oneOf(raw.regionConcurrency, nameOf('regionConcurrency'), REGION_CONCURRENCY, 'SEQUENTIAL'),
    retainStacksOnAccountRemoval: bool(raw.retainStacksOnAccountRemoval, nameOf('retainStacksOnAccountRemoval'), false),
    assetBucketPrefix,
    configAggregator: bool(raw.configAggregator, nameOf('configAggregator'), false),
  };
}

/**
 * Validate resource tags: an object of tag keys to values (or its JSON text, as `-c` gives it).
 * Keys `aws:...` are AWS's and `keyage:...` keyage's own; both are refused.
 */
export function resolveTags(raw: unknown, name = settingName('tags')): ResourceTags {
  const allowed = `an object of at most ${MAX_USER_TAGS} tags, {"key": "value"}: keys of 1-128 and values of 0-256 letters, digits, spaces and _ . : / = + - @, keys not starting with aws: or keyage:`;
  if (raw === undefined || raw === null || raw === '') return {};
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new InvalidParameterError(name, raw, allowed);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidParameterError(name, raw, allowed);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_USER_TAGS) throw new InvalidParameterError(name, raw, allowed);
  const tags: Record<string, string> = {};
  for (const [key, tagValue] of entries) {
    const lower = key.toLowerCase();
    if (!TAG_KEY.test(key) || lower.startsWith('aws:') || lower.startsWith('keyage:') || typeof tagValue !== 'string' || !TAG_VALUE.test(tagValue)) {
      throw new InvalidParameterError(`${name}.${key}`, tagValue, allowed);
    }
    tags[key] = tagValue;
  }
  return tags;
}

/**
 * Validate a whole settings object. Unknown names are refused (a typo must not fall back to a
 * default). The organization settings are resolved when any of them is given.
 */
export function parseKeyageSettings(raw: unknown): KeyageSettings {
  const settings = toObject(raw, 'keyage');
  for (const name of Object.keys(settings)) {
    if (!SETTING_NAMES.includes(name)) {
      const near = SETTING_NAMES.find((n) => n.toLowerCase() === name.toLowerCase());
      throw new InvalidParameterError(settingName(name), settings[name], `a known setting${near ? ` (did you mean ${near}?)` : ''}: ${SETTING_NAMES.join(', ')}`);
    }
  }
  const member = resolveMemberSettings(settings);
  const tags = resolveTags(settings.tags);
  const wantsOrganization = ORGANIZATION_KEYS.some((k) => settings[k] !== undefined);
  if (!wantsOrganization) return { member, tags };
  const organization = resolveOrganizationSettings(settings);
  if (member.auditAccountId && organization.regions.length > 1) {
    // An IAM role is global: a StackSet instance per Region would create keyage-audit again.
    throw new InvalidParameterError(
      settingName('auditAccountId'),
      member.auditAccountId,
      `a StackSet of ONE Region: the keyage-audit role is global, and the instance in a second Region would create it again (CloudFormation refuses); deploy the role with one Region, or leave ${settingName('auditAccountId')} out`,
    );
  }
  return { member, organization, tags };
}

/** Reads a CDK context value (`app.node.tryGetContext`). */
export type ContextReader = (key: string) => unknown;

/**
 * Read the settings from the CDK context: the `keyage` object, overlaid by the JSON file named
 * by `keyageConfigFile` (relative to `cwd`).
 */
export function loadKeyageSettings(context: ContextReader, cwd: string = process.cwd()): KeyageSettings {
  const base = toObject(context('keyage'), 'keyage');
  const file = context('keyageConfigFile');
  let fromFile: Record<string, unknown> = {};
  if (file !== undefined && file !== '') {
    if (typeof file !== 'string') throw new InvalidParameterError('keyageConfigFile', file, 'the path of a JSON settings file');
    const path = resolve(cwd, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new InvalidParameterError('keyageConfigFile', file, `the path of a readable JSON settings file (${err instanceof Error ? err.message : String(err)})`);
    }
    fromFile = toObject(text, `keyageConfigFile (${path})`);
  }
  return parseKeyageSettings({ ...base, ...fromFile });
}

function toObject(raw: unknown, name: string): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === '') return {};
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new InvalidParameterError(name, raw, `a JSON object of settings (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidParameterError(name, raw, 'a JSON object of settings');
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    // "$comment"-style keys document a settings file; they are not settings.
    if (!k.startsWith('$')) out[k] = v;
  }
  return out;
}

function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidParameterError(name, value, `true or false (default ${fallback})`);
}

function int(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidParameterError(name, value, `a whole number from ${min} to ${max} (default ${fallback})`);
  }
  return n;
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidParameterError(name, value, `one of ${allowed.join(', ')} (default ${fallback})`);
}

function optionalString(value: unknown, name: string, pattern: RegExp, allowed: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) throw new InvalidParameterError(name, value, allowed);
  return value;
}

function requiredString(value: unknown, name: string, pattern: RegExp, allowed: string): string {
  if (value === undefined || value === null || value === '') throw new InvalidParameterError(name, value, `${allowed} (required)`);
  return optionalString(value, name, pattern, allowed) as string;
}

function optionalEntry<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** A count or a percentage (not both); the count `fallback` when neither is given. */
function countOrPercentage(
  raw: Readonly<Record<string, unknown>>,
  nameOf: (key: string) => string,
  countKey: string,
  percentageKey: string,
  min: number,
  fallback: number,
): { count?: number; percentage?: number } {
  const given = (v: unknown) => v !== undefined && v !== null && v !== '';
  if (given(raw[countKey]) && given(raw[percentageKey])) {
    throw new InvalidParameterError(nameOf(percentageKey), raw[percentageKey], `either ${nameOf(countKey)} or ${nameOf(percentageKey)}, not both (CloudFormation takes one of the two)`);
  }
  if (given(raw[percentageKey])) return { percentage: int(raw[percentageKey], nameOf(percentageKey), min, 100, min) };
  return { count: int(raw[countKey], nameOf(countKey), min, 10_000, fallback) };
}

/** A non-empty list of Region codes keyage knows, each once, all in one partition. */
function regionList(value: unknown, name: string): string[] {
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidParameterError(name, value, 'a non-empty list of AWS Region codes such as ["eu-west-1"] (required)');
  }
  const regions: AwsRegion[] = list.map((code) => parseRegionCode(code, name));
  if (new Set(regions.map((r) => r.code)).size !== regions.length) throw new InvalidParameterError(name, value, 'a list of AWS Region codes, each listed once');
  const partitions = [...new Set(regions.map((r) => r.partition))];
  if (partitions.length > 1) {
    throw new InvalidParameterError(name, value, `Regions of one partition (a StackSet does not cross partitions); found ${partitions.join(' and ')}`);
  }
  return regions.map((r) => r.code);
}

function stringList(value: unknown, name: string, pattern: RegExp, allowed: string): string[] {
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && pattern.test(v))) {
    throw new InvalidParameterError(name, value, `${allowed} (required)`);
  }
  if (new Set(list).size !== list.length) throw new InvalidParameterError(name, value, `${allowed}, each listed once`);
  return list as string[];
}

