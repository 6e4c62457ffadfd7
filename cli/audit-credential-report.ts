/**
 * `keyage audit --credential-report FILE`: the audit from the file `aws iam
 * get-credential-report` gives (raw CSV, its base64 `Content`, or the whole JSON output),
 * without any AWS call. The credential report carries no access key IDs, no user IDs and no
 * tags; key IDs show as unknown and exemptions need a live audit.
 */
import { type CredentialReportRow, decodeCredentialReport, reportRowKeys } from '../rules/access-key-age/credential-report';
import {
  accountOf,
  AUDIT_SCHEMA_VERSION,
  type AuditReport,
  auditRoot,
  auditUser,
  type DecisionParameters,
  type KeyUsage,
  summarize,
} from './audit-report';

/** How to audit a credential report. */
export interface CredentialReportAuditOptions {
  /** The decision clock. */
  readonly now: Date;
  readonly params: DecisionParameters;
  readonly graceDays: number;
  /** How the file is named in the report and in error messages. */
  readonly file: string;
  /** The region findings are attributed to. */
  readonly region: string;
}

/**
 * Audit a credential report.
 * @throws CredentialReportError (with line and column) when the report cannot be read.
 */
export function auditCredentialReport(input: Buffer | string, options: CredentialReportAuditOptions): AuditReport {
  const report = decodeCredentialReport(input, options.file);
  const { accountId, partition } = accountOf(report.rows);
  const users = report.users.map((row) =>
    auditUser(
      {
        userName: row.user,
        userId: null,
        arn: row.arn,
        ...(row.userCreationTime ? { createdAt: row.userCreationTime } : {}),
        keys: reportRowKeys(row),
        usage: usageOf(row),
        exempt: false,
      },
      options.now,
      options.params,
    ),
  );
  const root = report.root ? auditRoot(report.root.arn, reportRowKeys(report.root), usageOf(report.root), options.now, options.params) : null;
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    command: 'audit',
    now: options.now.toISOString(),
    parameters: { maxAccessKeyAgeDays: options.params.maxAccessKeyAgeDays, exemptionTag: null, graceDays: options.graceDays },
    source: { kind: 'credential-report', file: options.file, generatedAt: report.generatedAt?.toISOString() ?? null },
    accountId,
    partition,
    region: options.region,
    summary: summarize(users, root),
    root,
    users,
  };
}

function usageOf(row: CredentialReportRow): Map<1 | 2, KeyUsage> {
  return new Map(
    row.keys.map((k) => [
      k.slot,
      { ...(k.lastUsedService ? { lastUsedService: k.lastUsedService } : {}), ...(k.lastUsedRegion ? { lastUsedRegion: k.lastUsedRegion } : {}) },
    ]),
  );
}
