/**
 * `--format asff`: AWS Security Finding Format findings, one per non-compliant access key,
 * ready for `aws securityhub batch-import-findings --findings file://findings.json` (a JSON
 * array; Security Hub takes at most 100 findings per call).
 *
 * Each finding is mapped to the control the way Security Hub maps its own control findings
 * (SecurityControlId IAM.3, the control's related requirements, CIS 1.14 in every benchmark
 * version) and carries what the Config-to-Security-Hub path does not: the key ID where known,
 * its slot, age and due date, and the rotation procedure. Root keys, when the report shows
 * any, are findings of the root-key control (IAM.4, CIS 1.4).
 *
 * Finding IDs are stable for a given key, so importing again updates the findings instead of
 * adding new ones; `CreatedAt` is when the key went over the limit, `UpdatedAt` is `--now`.
 */
import type { AuditKey, AuditReport, AuditUser } from './audit-report';

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

/** The fields of an ASFF finding keyage writes (a subset of AwsSecurityFinding). */
export interface AsffFinding {
  readonly SchemaVersion: string;
  readonly Id: string;
  readonly ProductArn: string;
  readonly ProductName: string;
  readonly GeneratorId: string;
  readonly AwsAccountId: string;
  readonly Region: string;
  readonly Types: readonly string[];
  readonly CreatedAt: string;
  readonly UpdatedAt: string;
  readonly Severity: { readonly Label: 'MEDIUM' | 'CRITICAL' };
  readonly Title: string;
  readonly Description: string;
  readonly Remediation: { readonly Recommendation: { readonly Text: string; readonly Url: string } };
  readonly ProductFields: Readonly<Record<string, string>>;
  readonly Resources: readonly AsffResource[];
  readonly Compliance: { readonly Status: 'FAILED'; readonly RelatedRequirements: readonly string[]; readonly SecurityControlId: string };
  readonly RecordState: 'ACTIVE';
  readonly Workflow: { readonly Status: 'NEW' };
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

/** One finding per non-compliant key (and per root key). */
export function buildAsffFindings(report: AuditReport): AsffFinding[] {
  const account = report.accountId;
  if (account === null) return [];
  const findings: AsffFinding[] = [];
  if (report.root) {
    for (const k of report.root.keys) findings.push(rootFinding(report, account, report.root.arn, k));
  }
  for (const user of report.users) {
    for (const k of user.keys) if (k.verdict === 'NON_COMPLIANT') findings.push(keyFinding(report, account, user, k));
  }
  return findings;
}

/** The audit as a JSON array of ASFF findings. */
export function formatAuditAsff(report: AuditReport): string {
  return `${JSON.stringify(buildAsffFindings(report), null, 2)}\n`;
}

function productArn(report: AuditReport, account: string): string {
  return `arn:${report.partition}:securityhub:${report.region}:${account}:product/${account}/default`;
}

function keyFinding(report: AuditReport, account: string, user: AuditUser, k: AuditKey): AsffFinding {
  const max = report.parameters.maxAccessKeyAgeDays;
  const keyName = k.accessKeyId ? `access key ${k.accessKeyId} (key ${k.slot})` : `access key ${k.slot}`;
  const resources: AsffResource[] = [];
  if (k.accessKeyId) {
    resources.push({
      Type: 'AwsIamAccessKey',
      Id: `AWS::IAM::AccessKey:${k.accessKeyId}`,
      Partition: report.partition,
      Region: report.region,
      Details: {
        AwsIamAccessKey: {
          AccessKeyId: k.accessKeyId,
          AccountId: account,
          CreatedAt: k.createdAt,
          PrincipalName: user.userName,
          PrincipalType: 'IAMUser',
          ...(user.userId ? { PrincipalId: user.userId } : {}),
          Status: k.status === 'Active' ? 'Active' : 'Inactive',
        },
      },
    });
  }
  resources.push({
    Type: 'AwsIamUser',
    Id: user.arn,
    Partition: report.partition,
    Region: report.region,
    Details: { AwsIamUser: { UserName: user.userName, ...(user.userId ? { UserId: user.userId } : {}) } },
  });
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: clip(`keyage/IAM.3/${account}/${user.userName}/${k.accessKeyId ?? `key-${k.slot}-${k.createdAt}`}`, ASFF_LIMITS.id),
    ProductArn: productArn(report, account),
    ProductName: 'keyage',
    GeneratorId: 'keyage/access-key-age',
    AwsAccountId: account,
    Region: report.region,
    Types: [CIS_FINDING_TYPE],
    CreatedAt: k.dueAt,
    UpdatedAt: report.now,
    Severity: { Label: 'MEDIUM' },
    Title: clip(`IAM user ${user.userName}: active ${keyName} is ${k.ageDays} days old (limit ${max})`, ASFF_LIMITS.title),
    Description: clip(
      `${k.reason} It went over the limit on ${k.dueAt.slice(0, 10)}; last used: ${lastUse(k)}. ` +
        `CIS AWS Foundations Benchmark 1.14 (Security Hub control IAM.3): access keys should be rotated every ${max} days or less. ` +
        `Planned action: ${k.action === 'deactivate' ? 'the keyage deactivate runbook makes this key Inactive' : k.action}.`,
      ASFF_LIMITS.description,
    ),
    Remediation: { Recommendation: { Text: clip(ROTATE_TEXT, ASFF_LIMITS.recommendationText), Url: ROTATE_KEYS_URL } },
    ProductFields: productFields(report, k, 'IAM.3'),
    Resources: resources,
    Compliance: { Status: 'FAILED', RelatedRequirements: [...IAM3_RELATED_REQUIREMENTS], SecurityControlId: 'IAM.3' },
    RecordState: 'ACTIVE',
    Workflow: { Status: 'NEW' },
  };
}

function rootFinding(report: AuditReport, account: string, arn: string, k: AuditKey): AsffFinding {
  const createdAt = k.createdAt < report.now ? k.createdAt : report.now;
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: `keyage/IAM.4/${account}/root/key-${k.slot}-${k.createdAt}`,
    ProductArn: productArn(report, account),
    ProductName: 'keyage',
    GeneratorId: 'keyage/root-access-key',
    AwsAccountId: account,
    Region: report.region,
    Types: [CIS_FINDING_TYPE],
    CreatedAt: createdAt,
    UpdatedAt: report.now,
    Severity: { Label: 'CRITICAL' },
    Title: `The root user has an access key (key ${k.slot}, ${k.status}, ${k.ageDays} days old)`,
    Description: clip(
      `The root user (${arn}) has access key ${k.slot}: ${k.status}, created ${k.createdAt}, ${k.ageDays} days old, last used: ${lastUse(k)}. ` +
        'CIS AWS Foundations Benchmark 1.4 (Security Hub control IAM.4): no root user access key should exist.',
      ASFF_LIMITS.description,
    ),
    Remediation: { Recommendation: { Text: ROOT_TEXT, Url: DELETE_ROOT_KEY_URL } },
    ProductFields: productFields(report, k, 'IAM.4'),
    Resources: [{ Type: 'AwsAccount', Id: `AWS::::Account:${account}`, Partition: report.partition, Region: report.region }],
    Compliance: { Status: 'FAILED', RelatedRequirements: [...IAM4_RELATED_REQUIREMENTS], SecurityControlId: 'IAM.4' },
    RecordState: 'ACTIVE',
    Workflow: { Status: 'NEW' },
  };
}

function productFields(report: AuditReport, k: AuditKey, control: string): Record<string, string> {
  return {
    'keyage/Control': control,
    'keyage/KeySlot': String(k.slot),
    'keyage/KeyStatus': k.status,
    'keyage/KeyCreatedAt': k.createdAt,
    'keyage/AgeDays': String(k.ageDays),
    'keyage/MaxAccessKeyAge': String(report.parameters.maxAccessKeyAgeDays),
    'keyage/LastUsed': lastUse(k),
    'keyage/PlannedAction': k.action,
    'keyage/Source': report.source.kind,
  };
}

function lastUse(k: AuditKey): string {
  if (k.lastUsedState === 'never') return 'never';
  if (k.lastUsedState === 'unknown' || !k.lastUsedAt) return 'unknown';
  return `${k.lastUsedAt}${k.lastUsedService ? ` (${k.lastUsedService}${k.lastUsedRegion ? `, ${k.lastUsedRegion}` : ''})` : ''}`;
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
