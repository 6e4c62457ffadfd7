/**
 * `keyage audit --credential-report FILE`: the audit from the file `aws iam
 * get-credential-report` gives (raw CSV, its base64 `Content`, or the whole JSON output),
 * without any AWS call. The credential report carries no access key IDs, no user IDs and no
 * tags; key IDs show as unknown and exemptions need a live audit.
 */
import { asciiLower } from '../lib/ascii';
import { type CredentialReport, type CredentialReportRow, decodeCredentialReport, reportRowKeys } from '../rules/access-key-age/credential-report';
import { DEFAULT_MAX_REPORT_AGE_MS } from '../rules/access-key-age/iam';
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
  /** How the decision clock is named in warnings: `--now` when given. @default 'the current time' */
  readonly nowSource?: string;
  /** Told each thing about the report that looks wrong but does not stop the audit (see `reportWarnings`). */
  readonly warn?: (message: string) => void;
}

/**
 * Audit a credential report.
 * @throws CredentialReportError (with line and column) when the report cannot be read.
 */
export function auditCredentialReport(input: Buffer | string, options: CredentialReportAuditOptions): AuditReport {
  const report = decodeCredentialReport(input, options.file);
  const { accountId, partition } = accountOf(report.rows);
  for (const warning of reportWarnings(report, options.now, options.file, options.nowSource)) options.warn?.(warning);
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

/** At most this many duplicated user names are named in one warning. */
const DUPLICATES_NAMED = 5;

/**
 * What about a report looks wrong without making it unreadable, one sentence each: the same user
 * on several rows (IAM has one user per name, compared case-insensitively: the file was edited or
 * joined); a report older than the rule would use (it ignores one 4 hours old); and a decision
 * clock before the report was made (its `GeneratedTime`, or without one the newest time in it).
 */
export function reportWarnings(report: CredentialReport, now: Date, file: string, nowSource = 'the current time'): string[] {
  const warnings: string[] = [];
  const byName = new Map<string, CredentialReportRow[]>();
  for (const row of report.users) {
    const key = asciiLower(row.user);
    const rows = byName.get(key);
    if (rows) rows.push(row);
    else byName.set(key, [row]);
  }
  const duplicated = [...byName.values()].filter((rows) => rows.length > 1);
  if (duplicated.length > 0) {
    const named = duplicated
      .slice(0, DUPLICATES_NAMED)
      .map((rows) => `${JSON.stringify(rows[0]?.user)} on lines ${rows.map((r) => r.line).join(', ')}`)
      .join('; ');
    const more = duplicated.length > DUPLICATES_NAMED ? `; and ${duplicated.length - DUPLICATES_NAMED} more` : '';
    warnings.push(
      `${file}: ${duplicated.length} user name${duplicated.length === 1 ? ' appears' : 's appear'} on more than one row (${named}${more}); ` +
        'IAM has one user per name (compared case-insensitively), so the file was edited or put together from several reports. Each row is audited as it is.',
    );
  }
  const at = now.toISOString();
  if (report.generatedAt) {
    const age = now.getTime() - report.generatedAt.getTime();
    if (age > DEFAULT_MAX_REPORT_AGE_MS) {
      warnings.push(
        `${file} was generated at ${report.generatedAt.toISOString()}, ${describeDuration(age)} before ${nowSource} (${at}); the Config rule does not use a credential report ` +
          `more than ${DEFAULT_MAX_REPORT_AGE_MS / 3_600_000} hours old, because keys created, rotated or deactivated since are not in it. Generate a new one (aws iam generate-credential-report).`,
      );
    } else if (age < 0) {
      warnings.push(
        `${nowSource} (${at}) is ${describeDuration(-age)} before ${file} was generated (${report.generatedAt.toISOString()}): the report shows the keys as they were then, ` +
          'so they are judged at a time some of them may not have existed yet.',
      );
    }
  } else {
    const newest = newestTime(report);
    if (newest && newest.at.getTime() > now.getTime()) {
      warnings.push(
        `${nowSource} (${at}) is before ${file} was generated: line ${newest.line} shows ${newest.column} ${newest.at.toISOString()}, ${describeDuration(newest.at.getTime() - now.getTime())} later, ` +
          'so the keys are judged at a time some of them may not have existed yet.',
      );
    }
  }
  return warnings;
}

/** The latest time a report shows (it was generated no earlier), with its line and column name. */
function newestTime(report: CredentialReport): { at: Date; line: number; column: string } | undefined {
  let newest: { at: Date; line: number; column: string } | undefined;
  const consider = (at: Date | null | undefined, line: number, column: string) => {
    if (at && (!newest || at.getTime() > newest.at.getTime())) newest = { at, line, column };
  };
  for (const row of report.rows) {
    consider(row.userCreationTime, row.line, 'user_creation_time');
    for (const k of row.keys) {
      consider(k.lastRotated, row.line, `access_key_${k.slot}_last_rotated`);
      consider(k.lastUsedAt, row.line, `access_key_${k.slot}_last_used_date`);
    }
  }
  return newest;
}

/** A span of time as people say it: `3 days 4 hours`, `5 hours 12 minutes`, `40 minutes`. */
export function describeDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (days > 0) return hours > 0 ? `${unit(days, 'day')} ${unit(hours, 'hour')}` : unit(days, 'day');
  if (hours > 0) return minutes % 60 > 0 ? `${unit(hours, 'hour')} ${unit(minutes % 60, 'minute')}` : unit(hours, 'hour');
  return minutes > 0 ? unit(minutes, 'minute') : 'less than a minute';
}
