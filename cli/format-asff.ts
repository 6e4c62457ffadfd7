/**
 * `--format asff` and `--security-hub`: the audit as AWS Security Finding Format findings with a
 * lifecycle, as Security Hub's own control findings have one.
 *
 *   - One finding per access key and one per IAM user the audit judged (exempt users and users
 *     deleted during the audit have none), and one for the root user when the audit could see
 *     it: `Compliance.Status` FAILED when out of compliance, PASSED when fine, `RecordState`
 *     ACTIVE. A key or user that is gone is closed by `--security-hub` with `RecordState`
 *     ARCHIVED (see `security-hub.ts`), which needs Security Hub's own record of what it holds.
 *   - Severity and finding types are sent in `FindingProviderFields`, never as the top-level
 *     `Severity`/`Types`, and `Workflow` is never sent: the BatchImportFindings reference says
 *     providers must not update those after creation (customers own them, through
 *     BatchUpdateFindings); Security Hub fills the top-level fields from FindingProviderFields
 *     when it creates the finding. Both top-level fields are optional in the API model.
 *   - Finding IDs are stable and the same for an offline (credential report) and a live audit:
 *     a key is named by its account, user name and creation time to the second — the only
 *     identity both sources carry (the report has no key IDs, no user IDs) — and a user by its
 *     account and name. See `keyFindingId` for where this cannot hold.
 *
 * Each finding is mapped to the control the way Security Hub maps its own control findings
 * (SecurityControlId IAM.3, the control's related requirements) and carries what the
 * Config-to-Security-Hub path does not: the key ID where known, its slot, age and due date, the
 * planned action, and the rotation procedure. Root keys are findings of IAM.4 (CIS 1.4).
 */
import type { AuditKey, AuditReport, AuditUser } from './audit-report';
import { jsonChunks } from './json-chunks';

/** The ASFF schema version Security Hub expects. */
export const ASFF_SCHEMA_VERSION = '2018-10-08';

/** The finding type Security Hub gives CIS benchmark findings. */
export const CIS_FINDING_TYPE = 'Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark';

/** Security Hub's related requirements of IAM.3, as its control reference lists them. */
export const IAM3_RELATED_REQUIREMENTS = [
  'CIS AWS Foundations Benchmark v5.0.0/1.13',
  'CIS AWS Foundations Benchmark v3.0.0/1.14',
  'CIS AWS Foundations Benchmark v1.4.0/1.14',
  'CIS AWS Foundations Benchmark v1.2.0/1.4',
  'NIST.800-53.r5 AC-2(1)',
  'NIST.800-53.r5 AC-2(3)',
  'NIST.800-53.r5 AC-3(15)',
  'PCI DSS v4.0.1/8.3.9',
  'PCI DSS v4.0.1/8.6.3',
] as const;

/** Security Hub's related requirements of IAM.4 (root user access key should not exist). */
export const IAM4_RELATED_REQUIREMENTS = [
  'CIS AWS Foundations Benchmark v5.0.0/1.3',
  'CIS AWS Foundations Benchmark v3.0.0/1.4',
  'CIS AWS Foundations Benchmark v1.4.0/1.4',
  'CIS AWS Foundations Benchmark v1.2.0/1.12',
  'PCI DSS v3.2.1/2.1',
  'PCI DSS v3.2.1/2.2',
  'PCI DSS v3.2.1/7.2.1',
  'NIST.800-53.r5 AC-2(1)',
  'NIST.800-53.r5 AC-3(15)',
  'NIST.800-53.r5 AC-3(7)',
  'NIST.800-53.r5 AC-6',
  'NIST.800-53.r5 AC-6(10)',
  'NIST.800-53.r5 AC-6(2)',
] as const;

/** The IAM User Guide's key rotation procedure (Security Hub's remediation link for IAM.3). */
export const ROTATE_KEYS_URL = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#Using_RotateAccessKey';
/** The IAM User Guide's procedure to delete a root user access key. */
export const DELETE_ROOT_KEY_URL = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user_manage_delete-key';

const ROTATE_TEXT =
  'Rotate the key: create a second access key, move every application to it, confirm with aws iam get-access-key-last-used that the old key is no longer used, ' +
  'make the old key Inactive (aws iam update-access-key --status Inactive) and delete it once nothing has broken. ' +
  '"keyage remediate --user NAME" prints the exact plan before anything is changed.';
const ROOT_TEXT =
  'Delete the root user access key: sign in as the root user, open Security credentials and delete the key; use IAM roles or users with least privilege instead. keyage never changes root keys.';

/** What a check concluded, as ASFF `Compliance.Status` says it. */
export type AsffComplianceStatus = 'PASSED' | 'FAILED' | 'NOT_AVAILABLE';

/** ASFF severity labels keyage uses. */
export type AsffSeverityLabel = 'INFORMATIONAL' | 'MEDIUM' | 'CRITICAL';

/** The fields of an ASFF finding keyage writes (a subset of AwsSecurityFinding). */
export interface AsffFinding {
  readonly SchemaVersion: string;
  readonly Id: string;
  readonly ProductArn: string;
  readonly ProductName: string;
  readonly GeneratorId: string;
  readonly AwsAccountId: string;
  readonly Region: string;
  /** When the key (or user) the finding is about was created: it never moves across imports. */
  readonly CreatedAt: string;
  readonly UpdatedAt: string;
  readonly Title: string;
  readonly Description: string;
  readonly Remediation: { readonly Recommendation: { readonly Text: string; readonly Url: string } };
  readonly ProductFields: Readonly<Record<string, string>>;
  readonly Resources: readonly AsffResource[];
  /** The provider's own severity and types (never the top-level Severity/Types). */
  readonly FindingProviderFields: { readonly Severity: { readonly Label: AsffSeverityLabel; readonly Original: string }; readonly Types: readonly string[] };
  readonly Compliance: { readonly Status: AsffComplianceStatus; readonly RelatedRequirements: readonly string[]; readonly SecurityControlId: string };
  readonly RecordState: 'ACTIVE' | 'ARCHIVED';
}

/** A resource of a finding. */
export interface AsffResource {
  readonly Type: 'AwsIamAccessKey' | 'AwsIamUser' | 'AwsAccount';
  readonly Id: string;
  readonly Partition: string;
  readonly Region: string;
  readonly Details?: Readonly<Record<string, unknown>>;
}

/** ASFF limits keyage must respect (from the AwsSecurityFinding reference). */
export const ASFF_LIMITS = { title: 256, description: 1024, recommendationText: 512, id: 512 } as const;

/** The GeneratorId of each kind of finding. Every keyage GeneratorId starts with `keyage/`. */
export const GENERATORS = {
  accessKey: 'keyage/IAM.3/access-key',
  user: 'keyage/IAM.3/user',
  root: 'keyage/IAM.4/root-user',
} as const;

/**
 * GeneratorIds of earlier keyage versions (one FAILED finding per stale key, IDs that differed
 * between offline and live audits). `--security-hub` archives what they left active.
 */
export const LEGACY_GENERATORS = { accessKey: 'keyage/access-key-age', root: 'keyage/root-access-key' } as const;

/** The common beginning of every keyage finding ID and GeneratorId. */
export const KEYAGE_PREFIX = 'keyage/';

/** An ISO 8601 instant cut to the whole second: `2026-08-08T11:20:15Z`. */
export function isoSecond(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO 8601 time: ${iso}`);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The ID of a user's finding: account and user name (the credential report has no user ID). */
export function userFindingId(accountId: string, userName: string): string {
  return `keyage/IAM.3/${accountId}/user/${userName}`;
}

/**
 * The ID of a key's finding: account, user name and the key's creation time to the second.
 * It is the same offline and live because both sources carry these three facts and nothing
 * else in common: the credential report has no access key ID and no user ID, and ListAccessKeys
 * gives the creation time with the same second (the report's `access_key_N_last_rotated` is the
 * key's creation time, to the second). Where it cannot hold:
 *   - two keys of one user created in the same second get `/slot-N` appended, and the two
 *     sources may number them differently (live slots are ordered by key ID on a tie); when one
 *     of the two is deleted, the other's ID loses the suffix (its finding is closed and a new
 *     one opened);
 *   - a user renamed with `iam update-user` gets new findings (the old ones are archived), since
 *     the name is the only user identity offline; a user deleted and re-created under the same
 *     name continues the old user finding (its keys are new keys, with findings of their own).
 */
export function keyFindingId(accountId: string, userName: string, key: Pick<AuditKey, 'createdAt' | 'slot'>, tiedInSecond = false): string {
  return `${userFindingId(accountId, userName)}/key/${isoSecond(key.createdAt)}${tiedInSecond ? `/slot-${key.slot}` : ''}`;
}

/** The ID of the root user's finding (IAM.4): one per account. */
export function rootFindingId(accountId: string): string {
  return `keyage/IAM.4/${accountId}/root`;
}

/** The product ARN of the account's own findings: `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`. */
export function productArn(partition: string, region: string, accountId: string): string {
  return `arn:${partition}:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

/** What an audit saw, and so which of its earlier findings it may close. */
export interface FindingScope {
  readonly accountId: string;
  readonly partition: string;
  readonly region: string;
  readonly productArn: string;
  /** GeneratorIds whose findings the audit covered in full (every user, every key; the root user if seen). */
  readonly generators: ReadonlySet<string>;
}

/** The scope of an audit's findings, or `null` when the report has no account to tell. */
export function findingScope(report: AuditReport, accountId: string | null = report.accountId): FindingScope | null {
  if (accountId === null) return null;
  const generators = new Set<string>([GENERATORS.accessKey, GENERATORS.user, LEGACY_GENERATORS.accessKey]);
  if (report.root) {
    generators.add(GENERATORS.root);
    generators.add(LEGACY_GENERATORS.root);
  }
  return { accountId, partition: report.partition, region: report.region, productArn: productArn(report.partition, report.region, accountId), generators };
}

/** How findings are stamped. */
export interface AsffOptions {
  /** `UpdatedAt` of every finding. @default the report's `now` */
  readonly updatedAt?: string;
  /** The account, when the report cannot tell it from ARNs (an account without users). @default report.accountId */
  readonly accountId?: string | null;
}

/**
 * The audit's findings, all ACTIVE: one per key and one per user the audit judged, and one for
 * the root user when the audit saw it; PASSED or FAILED.
 */
export function buildAsffFindings(report: AuditReport, options: AsffOptions = {}): AsffFinding[] {
  const account = options.accountId ?? report.accountId;
  if (account === null || account === undefined) return [];
  const ctx: Ctx = { report, account, updatedAt: options.updatedAt ?? report.now, productArn: productArn(report.partition, report.region, account) };
  const findings: AsffFinding[] = [];
  if (report.root) findings.push(rootFinding(ctx, report.root));
  for (const user of report.users) {
    if (user.exempt || user.compliance === 'NOT_APPLICABLE') continue; // out of the control: earlier findings are archived
    findings.push(userFinding(ctx, user));
    const seconds = user.keys.map((k) => isoSecond(k.createdAt));
    for (const k of user.keys) {
      const tied = seconds.filter((s) => s === isoSecond(k.createdAt)).length > 1;
      findings.push(keyFinding(ctx, user, k, tied));
    }
  }
  return findings;
}

/** The audit as a JSON array of ASFF findings. */
export function formatAuditAsff(report: AuditReport): string {
  return [...auditAsffChunks(report)].join('');
}

/** `formatAuditAsff`'s text in pieces, a finding at a time, for output of any size. */
export function* auditAsffChunks(report: AuditReport): Generator<string> {
  yield* jsonChunks(buildAsffFindings(report), 1);
  yield '\n';
}

interface Ctx {
  readonly report: AuditReport;
  readonly account: string;
  readonly updatedAt: string;
  readonly productArn: string;
}

function common(ctx: Ctx, id: string, generatorId: string, createdAt: string) {
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: id,
    ProductArn: ctx.productArn,
    ProductName: 'keyage',
    GeneratorId: generatorId,
    AwsAccountId: ctx.account,
    Region: ctx.report.region,
    CreatedAt: createdAt < ctx.updatedAt ? createdAt : ctx.updatedAt,
    UpdatedAt: ctx.updatedAt,
  };
}

function providerFields(status: AsffComplianceStatus, failedLabel: AsffSeverityLabel) {
  const label: AsffSeverityLabel = status === 'FAILED' ? failedLabel : 'INFORMATIONAL';
  return { Severity: { Label: label, Original: label }, Types: [CIS_FINDING_TYPE] };
}

function userResource(ctx: Ctx, user: AuditUser): AsffResource {
  return {
    Type: 'AwsIamUser',
    Id: user.arn,
    Partition: ctx.report.partition,
    Region: ctx.report.region,
    Details: { AwsIamUser: { UserName: user.userName, ...(user.userId ? { UserId: user.userId } : {}), ...(user.createdAt ? { CreateDate: user.createdAt } : {}) } },
  };
}

function keyFinding(ctx: Ctx, user: AuditUser, k: AuditKey, tied: boolean): AsffFinding {
  const max = ctx.report.parameters.maxAccessKeyAgeDays;
  const failed = k.verdict === 'NON_COMPLIANT';
  const status: AsffComplianceStatus = failed ? 'FAILED' : 'PASSED';
  const keyName = k.accessKeyId ? `access key ${k.accessKeyId} (key ${k.slot})` : `access key ${k.slot}`;
  const resources: AsffResource[] = [];
  if (k.accessKeyId) {
    resources.push({
      Type: 'AwsIamAccessKey',
      Id: `AWS::IAM::AccessKey:${k.accessKeyId}`,
      Partition: ctx.report.partition,
      Region: ctx.report.region,
      Details: {
        AwsIamAccessKey: {
          AccessKeyId: k.accessKeyId,
          AccountId: ctx.account,
          CreatedAt: k.createdAt,
          PrincipalName: user.userName,
          PrincipalType: 'IAMUser',
          ...(user.userId ? { PrincipalId: user.userId } : {}),
          Status: k.status === 'Active' ? 'Active' : 'Inactive',
        },
      },
    });
  }
  resources.push(userResource(ctx, user));
  const planned = k.action === 'deactivate' ? 'the keyage deactivate runbook makes this key Inactive' : k.action === 'delete' ? 'the keyage delete runbook deletes this key' : k.action;
  return {
    ...common(ctx, keyFindingId(ctx.account, user.userName, k, tied), GENERATORS.accessKey, k.createdAt),
    Title: clip(`IAM user ${user.userName}: ${k.status.toLowerCase()} ${keyName} is ${k.ageDays} days old (limit ${max})`, ASFF_LIMITS.title),
    Description: clip(
      `${k.reason} ${failed ? `It went over the limit on ${k.dueAt.slice(0, 10)}` : k.status === 'Active' ? `It falls due on ${k.dueAt.slice(0, 10)}` : 'Only active keys count'}; last used: ${lastUse(k)}. ` +
        `CIS AWS Foundations Benchmark 1.14 (Security Hub control IAM.3): access keys should be rotated every ${max} days or less. ` +
        `Planned action: ${planned}.`,
      ASFF_LIMITS.description,
    ),
    Remediation: { Recommendation: { Text: clip(ROTATE_TEXT, ASFF_LIMITS.recommendationText), Url: ROTATE_KEYS_URL } },
    ProductFields: {
      'keyage/Control': 'IAM.3',
      'keyage/Subject': 'access-key',
      'keyage/UserName': user.userName,
      ...(user.userId ? { 'keyage/UserId': user.userId } : {}),
      ...(k.accessKeyId ? { 'keyage/AccessKeyId': k.accessKeyId } : {}),
      'keyage/KeySlot': String(k.slot),
      'keyage/KeyStatus': k.status,
      'keyage/KeyCreatedAt': k.createdAt,
      'keyage/AgeDays': String(k.ageDays),
      'keyage/DueAt': k.dueAt,
      'keyage/MaxAccessKeyAge': String(max),
      'keyage/LastUsed': lastUse(k),
      'keyage/PlannedAction': k.action,
      'keyage/Source': ctx.report.source.kind,
    },
    Resources: resources,
    FindingProviderFields: providerFields(status, 'MEDIUM'),
    Compliance: { Status: status, RelatedRequirements: [...IAM3_RELATED_REQUIREMENTS], SecurityControlId: 'IAM.3' },
    RecordState: 'ACTIVE',
  };
}

function userFinding(ctx: Ctx, user: AuditUser): AsffFinding {
  const max = ctx.report.parameters.maxAccessKeyAgeDays;
  const failed = user.compliance === 'NON_COMPLIANT';
  const stale = user.keys.filter((k) => k.verdict === 'NON_COMPLIANT').length;
  const status: AsffComplianceStatus = failed ? 'FAILED' : 'PASSED';
  const oldest = user.keys.filter((k) => k.status === 'Active').sort((a, b) => b.ageDays - a.ageDays)[0];
  return {
    ...common(ctx, userFindingId(ctx.account, user.userName), GENERATORS.user, user.createdAt ?? user.keys[0]?.createdAt ?? ctx.updatedAt),
    Title: clip(
      failed
        ? `IAM user ${user.userName} has ${stale} active access key${stale === 1 ? '' : 's'} older than ${max} days`
        : `IAM user ${user.userName} has no active access key older than ${max} days`,
      ASFF_LIMITS.title,
    ),
    Description: clip(
      `${user.annotation} CIS AWS Foundations Benchmark 1.14 (Security Hub control IAM.3): access keys should be rotated every ${max} days or less.`,
      ASFF_LIMITS.description,
    ),
    Remediation: { Recommendation: { Text: clip(ROTATE_TEXT, ASFF_LIMITS.recommendationText), Url: ROTATE_KEYS_URL } },
    ProductFields: {
      'keyage/Control': 'IAM.3',
      'keyage/Subject': 'user',
      'keyage/UserName': user.userName,
      ...(user.userId ? { 'keyage/UserId': user.userId } : {}),
      'keyage/Keys': String(user.keys.length),
      'keyage/ActiveKeys': String(user.keys.filter((k) => k.status === 'Active').length),
      'keyage/StaleKeys': String(stale),
      ...(oldest ? { 'keyage/OldestActiveKeyAgeDays': String(oldest.ageDays) } : {}),
      'keyage/MaxAccessKeyAge': String(max),
      'keyage/Source': ctx.report.source.kind,
    },
    Resources: [userResource(ctx, user)],
    FindingProviderFields: providerFields(status, 'MEDIUM'),
    Compliance: { Status: status, RelatedRequirements: [...IAM3_RELATED_REQUIREMENTS], SecurityControlId: 'IAM.3' },
    RecordState: 'ACTIVE',
  };
}

function rootFinding(ctx: Ctx, root: NonNullable<AuditReport['root']>): AsffFinding {
  const failed = root.compliance === 'NON_COMPLIANT';
  const status: AsffComplianceStatus = failed ? 'FAILED' : 'PASSED';
  const oldest = [...root.keys].sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
  const keys = root.keys.map((k) => `key ${k.slot}: ${k.status}, created ${k.createdAt}, ${k.ageDays} days old, last used: ${lastUse(k)}`).join('; ');
  return {
    ...common(ctx, rootFindingId(ctx.account), GENERATORS.root, oldest?.createdAt ?? ctx.updatedAt),
    Title: failed ? `The root user has ${root.keys.length > 1 ? `${root.keys.length} access keys` : 'an access key'}` : 'The root user has no access key',
    Description: clip(
      `${root.reason}${keys ? ` ${keys}.` : ''} CIS AWS Foundations Benchmark 1.4 (Security Hub control IAM.4): no root user access key should exist.`,
      ASFF_LIMITS.description,
    ),
    Remediation: { Recommendation: { Text: ROOT_TEXT, Url: DELETE_ROOT_KEY_URL } },
    ProductFields: {
      'keyage/Control': 'IAM.4',
      'keyage/Subject': 'root',
      'keyage/RootAccessKeys': root.keys.length > 0 ? String(root.keys.length) : root.accessKeysPresent ? 'present' : '0',
      'keyage/Source': ctx.report.source.kind,
    },
    Resources: [{ Type: 'AwsAccount', Id: `AWS::::Account:${ctx.account}`, Partition: ctx.report.partition, Region: ctx.report.region }],
    FindingProviderFields: providerFields(status, 'CRITICAL'),
    Compliance: { Status: status, RelatedRequirements: [...IAM4_RELATED_REQUIREMENTS], SecurityControlId: 'IAM.4' },
    RecordState: 'ACTIVE',
  };
}

function lastUse(k: AuditKey): string {
  if (k.lastUsedState === 'never') return 'never';
  if (k.lastUsedState === 'unknown' || !k.lastUsedAt) return 'unknown';
  return `${k.lastUsedAt}${k.lastUsedService ? ` (${k.lastUsedService}${k.lastUsedRegion ? `, ${k.lastUsedRegion}` : ''})` : ''}`;
}

/** Cut `text` to `limit` characters, ending with an ellipsis when cut. */
export function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
