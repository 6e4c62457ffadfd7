/**
 * The audit report: what `keyage audit` found, in one plain data structure that every output
 * format (table, json, csv, asff) renders. Its JSON form is the documented, versioned schema
 * of `keyage audit --format json` (see docs/cli.md), so field names and order here are a
 * public contract: add fields, never rename or remove them without raising the version.
 *
 * Every verdict comes from the rule's pure policy (`evaluateAccessKeys`); this module only
 * arranges the policy's answers per user and per key and adds the action the remediation
 * would take.
 */
import { CredentialReportError } from '../lib/errors';
import { type ExemptionTag, formatExemptionTag } from '../rules/access-key-age/parameters';
import { type AccessKey, type AccessKeyStatus, evaluateAccessKeys, type KeyAssessment } from '../rules/access-key-age/policy';

/** The version of the `--format json` schema. Raised on any incompatible change. */
export const AUDIT_SCHEMA_VERSION = 1;

/** A key's verdict: does this key make its user non-compliant? */
export type KeyVerdict = 'COMPLIANT' | 'NON_COMPLIANT' | 'EXEMPT';

/** A user's compliance, as the Config rule reports it (NOT_APPLICABLE: exempt, or deleted mid-audit). */
export type UserCompliance = 'COMPLIANT' | 'NON_COMPLIANT' | 'NOT_APPLICABLE';

/**
 * What the runbooks would do about a key: `deactivate` (runbook 1), `delete` or `clear-record`
 * (runbook 2: delete a key keyage deactivated, or forget its record), or `none`.
 */
export type PlannedAction = 'deactivate' | 'delete' | 'clear-record' | 'none';

/** Whether a key's last use is known: `never` means IAM says the key was never used. */
export type LastUsedState = 'used' | 'never' | 'unknown';

/** One access key in the report. */
export interface AuditKey {
  readonly slot: 1 | 2;
  /** `null` when the source does not carry key IDs (the credential report). */
  readonly accessKeyId: string | null;
  readonly status: AccessKeyStatus;
  /** ISO 8601, UTC. */
  readonly createdAt: string;
  readonly ageDays: number;
  /** The first instant at which the key counts as older than the limit. */
  readonly dueAt: string;
  /** Whole days until `dueAt`; 0 or less once over the limit. */
  readonly daysUntilDue: number;
  readonly overLimit: boolean;
  readonly lastUsedState: LastUsedState;
  readonly lastUsedAt: string | null;
  readonly lastUsedService: string | null;
  readonly lastUsedRegion: string | null;
  readonly verdict: KeyVerdict;
  readonly action: PlannedAction;
  readonly reason: string;
}

/** One IAM user in the report. */
export interface AuditUser {
  readonly userName: string;
  /** The user ID (AIDA…); `null` from a credential report, which has none. */
  readonly userId: string | null;
  readonly arn: string;
  readonly compliance: UserCompliance;
  readonly exempt: boolean;
  /** The rule's annotation for this user (what the Config console shows). */
  readonly annotation: string;
  readonly keys: readonly AuditKey[];
  /** When the user was created (ISO 8601), when the source says. */
  readonly createdAt?: string | null;
}

/** The root user's access keys (credential report only). CIS 1.4 / Security Hub IAM.4: there should be none. */
export interface RootAudit {
  readonly arn: string;
  readonly compliance: 'COMPLIANT' | 'NON_COMPLIANT';
  readonly reason: string;
  /** The keys with their details (credential report); empty when only their presence is known. */
  readonly keys: readonly AuditKey[];
  /**
   * Set when the presence of root keys was read without their details (an organization audit
   * reads iam:GetAccountSummary `AccountAccessKeysPresent`, 0 or 1).
   */
  readonly accessKeysPresent?: boolean;
}

/** Where the audit's facts came from. */
export type AuditSource =
  | { readonly kind: 'credential-report'; readonly file: string; readonly generatedAt: string | null }
  | {
      readonly kind: 'live';
      readonly region: string;
      readonly profile: string | null;
      /** The role assumed in the account (organization audits); absent when the credentials were used as they are. */
      readonly roleArn?: string;
    };

/** Counts over the report, for the summary line and CI dashboards. */
export interface AuditSummary {
  readonly users: number;
  readonly compliantUsers: number;
  readonly nonCompliantUsers: number;
  /** Exempt users, and users deleted while the audit ran. */
  readonly notApplicableUsers: number;
  readonly usersWithoutKeys: number;
  readonly keys: number;
  readonly activeKeys: number;
  /** Active keys over the limit, exempt users' included. */
  readonly staleKeys: number;
  readonly keysToDeactivate: number;
  readonly keysToDelete: number;
  /** Keys whose keyage deactivation record runbook 2 would clear (re-activated by a person). */
  readonly recordsToClear: number;
  /** Access keys of the root user (any status); 1 when only their presence is known. */
  readonly rootAccessKeys: number;
}

/** The parameters the audit decided with, as given. */
export interface AuditParameters {
  readonly maxAccessKeyAgeDays: number;
  /** As given (`key` or `key=value`), or `null`. */
  readonly exemptionTag: string | null;
  readonly graceDays: number;
  /**
   * Live audits only: where each parameter came from (`flag`, `deployed rule <name>`,
   * `deployed runbook <name>`, `default`), and the record key that verified records (`null`: none).
   */
  readonly sources?: { readonly maxAccessKeyAgeDays: string; readonly exemptionTag: string; readonly graceDays: string };
  readonly recordKey?: string | null;
}

/** The whole report. Field order is the JSON output's order. */
export interface AuditReport {
  readonly schemaVersion: typeof AUDIT_SCHEMA_VERSION;
  readonly command: 'audit';
  /** The decision clock (`--now`), ISO 8601. */
  readonly now: string;
  readonly parameters: AuditParameters;
  readonly source: AuditSource;
  /** From the ARNs; `null` when the account has no users to tell it by. */
  readonly accountId: string | null;
  readonly partition: string;
  /** The region findings are attributed to (`--region`, default us-east-1). */
  readonly region: string;
  readonly summary: AuditSummary;
  readonly root: RootAudit | null;
  readonly users: readonly AuditUser[];
}

/** What is known about one key beyond the policy's `AccessKey`. */
export interface KeyUsage {
  readonly lastUsedService?: string;
  readonly lastUsedRegion?: string;
}

/** The inputs for one user's entry. */
export interface UserInput {
  readonly userName: string;
  readonly userId: string | null;
  readonly arn: string;
  /** When the user was created, when known. */
  readonly createdAt?: Date;
  readonly keys: readonly AccessKey[];
  /** Extra last-use detail, by slot. */
  readonly usage?: ReadonlyMap<1 | 2, KeyUsage>;
  readonly exempt: boolean;
  /**
   * The runbooks' plan for each key, by slot, when it could be made (live keys, with IDs and
   * tags). Absent: the deactivate runbook's rule alone applies (deactivate every stale active
   * key of a user who is not exempt); nothing can be planned for deletion without records.
   */
  readonly plan?: ReadonlyMap<1 | 2, { readonly action: PlannedAction; readonly reason: string }>;
}

/** The rule's parameters, parsed (`--max-age`, `--exemption-tag`). */
export interface DecisionParameters {
  readonly maxAccessKeyAgeDays: number;
  readonly exemptionTag?: ExemptionTag;
}

/**
 * One user's entry: the policy's verdict on the user's keys, with the action the deactivate
 * runbook would take on each (deactivate the stale active keys of users who are not exempt).
 */
export function auditUser(input: UserInput, now: Date, params: DecisionParameters): AuditUser {
  const verdict = evaluateAccessKeys(input.keys, now, { maxAccessKeyAgeDays: params.maxAccessKeyAgeDays });
  const exemptNote = input.exempt && params.exemptionTag ? `Exempt: the user carries the exemption tag ${formatExemptionTag(params.exemptionTag)}. ` : '';
  const keys = verdict.keys.map((a) => {
    const keyVerdict: KeyVerdict = input.exempt ? 'EXEMPT' : a.stale ? 'NON_COMPLIANT' : 'COMPLIANT';
    const planned = input.plan?.get(a.key.slot);
    if (planned) return auditKey(a, input.usage?.get(a.key.slot), keyVerdict, planned.action, planned.reason);
    const action: PlannedAction = keyVerdict === 'NON_COMPLIANT' ? 'deactivate' : 'none';
    return auditKey(a, input.usage?.get(a.key.slot), keyVerdict, action, `${exemptNote}${a.reason}`);
  });
  return {
    userName: input.userName,
    userId: input.userId,
    arn: input.arn,
    compliance: input.exempt ? 'NOT_APPLICABLE' : verdict.compliance,
    exempt: input.exempt,
    annotation: input.exempt ? exemptNote.trim() : verdict.annotation,
    keys,
    createdAt: input.createdAt ? input.createdAt.toISOString() : null,
  };
}

/** The entry of a user that disappeared between being listed and being read. */
export function deletedUser(userName: string, userId: string | null, arn: string): AuditUser {
  return {
    userName,
    userId,
    arn,
    compliance: 'NOT_APPLICABLE',
    exempt: false,
    annotation: `User ${userName} was deleted during the audit.`,
    keys: [],
    createdAt: null,
  };
}

/**
 * The root user as iam:GetAccountSummary tells it: whether it has an access key, not how many
 * or how old (CIS 1.4, Security Hub IAM.4: there should be none).
 */
export function rootFromSummary(arn: string, accessKeysPresent: boolean): RootAudit {
  return {
    arn,
    compliance: accessKeysPresent ? 'NON_COMPLIANT' : 'COMPLIANT',
    reason: accessKeysPresent
      ? 'The root user has an access key (iam:GetAccountSummary AccountAccessKeysPresent = 1); it should have none (CIS 1.4, Security Hub IAM.4). Audit the account\'s credential report to see the key\'s age and last use.'
      : 'The root user has no access keys (iam:GetAccountSummary).',
    keys: [],
    accessKeysPresent,
  };
}

/**
 * The root user's keys. Any key, active or not, is a finding of its own (CIS 1.4, Security
 * Hub IAM.4), apart from the access-key-age control; keyage never acts on the root user.
 */
export function auditRoot(arn: string, keys: readonly AccessKey[], usage: ReadonlyMap<1 | 2, KeyUsage> | undefined, now: Date, params: DecisionParameters): RootAudit {
  const verdict = evaluateAccessKeys(keys, now, { maxAccessKeyAgeDays: params.maxAccessKeyAgeDays });
  const rootKeys = verdict.keys.map((a) =>
    auditKey(
      a,
      usage?.get(a.key.slot),
      'NON_COMPLIANT',
      'none',
      `The root user has an access key (${a.key.status.toLowerCase()}, ${a.ageDays} day${a.ageDays === 1 ? '' : 's'} old); CIS 1.4 (Security Hub IAM.4) says it should have none. keyage never changes root keys: delete it by hand.`,
    ),
  );
  return {
    arn,
    compliance: rootKeys.length > 0 ? 'NON_COMPLIANT' : 'COMPLIANT',
    reason:
      rootKeys.length > 0
        ? `The root user has ${rootKeys.length} access key${rootKeys.length === 1 ? '' : 's'}; it should have none (CIS 1.4, Security Hub IAM.4).`
        : 'The root user has no access keys.',
    keys: rootKeys,
  };
}

function auditKey(a: KeyAssessment, usage: KeyUsage | undefined, verdict: KeyVerdict, action: PlannedAction, reason: string): AuditKey {
  const lastUsed = a.key.lastUsedAt;
  return {
    slot: a.key.slot,
    accessKeyId: a.key.accessKeyId ?? null,
    status: a.key.status,
    createdAt: a.key.createdAt.toISOString(),
    ageDays: a.ageDays,
    dueAt: a.dueAt.toISOString(),
    daysUntilDue: a.daysUntilDue,
    overLimit: a.overLimit,
    lastUsedState: lastUsed === undefined ? 'unknown' : lastUsed === null ? 'never' : 'used',
    lastUsedAt: lastUsed ? lastUsed.toISOString() : null,
    lastUsedService: usage?.lastUsedService ?? null,
    lastUsedRegion: usage?.lastUsedRegion ?? null,
    verdict,
    action,
    reason,
  };
}

/** Count users and keys for the summary. */
export function summarize(users: readonly AuditUser[], root: RootAudit | null): AuditSummary {
  const keys = users.flatMap((u) => u.keys);
  return {
    users: users.length,
    compliantUsers: users.filter((u) => u.compliance === 'COMPLIANT').length,
    nonCompliantUsers: users.filter((u) => u.compliance === 'NON_COMPLIANT').length,
    notApplicableUsers: users.filter((u) => u.compliance === 'NOT_APPLICABLE').length,
    usersWithoutKeys: users.filter((u) => u.keys.length === 0).length,
    keys: keys.length,
    activeKeys: keys.filter((k) => k.status === 'Active').length,
    staleKeys: keys.filter((k) => k.status === 'Active' && k.overLimit).length,
    keysToDeactivate: keys.filter((k) => k.action === 'deactivate').length,
    keysToDelete: keys.filter((k) => k.action === 'delete').length,
    recordsToClear: keys.filter((k) => k.action === 'clear-record').length,
    rootAccessKeys: root ? Math.max(root.keys.length, root.accessKeysPresent ? 1 : 0) : 0,
  };
}

/**
 * A key a reader must see: it makes its user NON_COMPLIANT, or a runbook would change it
 * (deactivate, delete, clear its record). An exempt user's stale key is not one: the exemption
 * is the deployment's decision, and the rule reports the user NOT_APPLICABLE.
 */
export function isFinding(key: Pick<AuditKey, 'verdict' | 'action'>): boolean {
  return key.verdict === 'NON_COMPLIANT' || key.action !== 'none';
}

/**
 * The report with only its findings (`--only-findings`): each user's keys that are findings,
 * and the users that have one. The summary, the root user and everything else stay as they
 * are, so the counts still speak of the whole account.
 */
export function onlyFindings(report: AuditReport): AuditReport {
  const users = report.users.flatMap((u) => {
    const keys = u.keys.filter(isFinding);
    return keys.length > 0 ? [{ ...u, keys }] : [];
  });
  return { ...report, users };
}

/** True when the report holds anything out of compliance: the CLI then exits 1. */
export function hasFindings(report: Pick<AuditReport, 'summary' | 'root'>): boolean {
  return report.summary.nonCompliantUsers > 0 || report.root?.compliance === 'NON_COMPLIANT';
}

const IAM_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):(root|user\/.+)$/;

/** The partition and account ID of an IAM user or root ARN, or `undefined` when it is not one. */
export function parseIamArn(arn: string): { partition: string; accountId: string } | undefined {
  const m = IAM_ARN.exec(arn);
  return m ? { partition: m[1] as string, accountId: m[2] as string } : undefined;
}

/**
 * The one account the given ARNs belong to. A report mixing accounts, or an ARN that is not
 * an IAM user's, is an input error naming the line.
 */
export function accountOf(rows: ReadonlyArray<{ arn: string; line?: number }>): { accountId: string | null; partition: string } {
  let found: { partition: string; accountId: string; line?: number } | undefined;
  for (const row of rows) {
    const parsed = parseIamArn(row.arn);
    if (!parsed) {
      throw new CredentialReportError(`arn ${JSON.stringify(row.arn.slice(0, 80))} is not the ARN of an IAM user or root (arn:aws:iam::123456789012:user/NAME)`, row.line);
    }
    if (found && (found.accountId !== parsed.accountId || found.partition !== parsed.partition)) {
      throw new CredentialReportError(
        `account ${parsed.accountId} differs from account ${found.accountId}${found.line !== undefined ? ` (line ${found.line})` : ''}; a credential report covers one account`,
        row.line,
      );
    }
    found ??= { ...parsed, ...(row.line !== undefined ? { line: row.line } : {}) };
  }
  return { accountId: found?.accountId ?? null, partition: found?.partition ?? 'aws' };
}
