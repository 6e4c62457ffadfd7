/**
 * `--format csv`: one row per access key (and one per user without keys, and one per root
 * key), under a fixed header documented in docs/cli.md. Fields are quoted the RFC 4180 way;
 * lines end with LF.
 */
import { ROOT_ACCOUNT_USER } from '../rules/access-key-age/credential-report';
import type { AuditKey, AuditReport } from './audit-report';

/** The CSV header, in order. A public contract: columns are only ever added at the end. */
export const CSV_COLUMNS = [
  'account_id',
  'user_name',
  'user_id',
  'arn',
  'user_compliance',
  'exempt',
  'slot',
  'access_key_id',
  'status',
  'created_at',
  'age_days',
  'due_at',
  'last_used_state',
  'last_used_at',
  'last_used_service',
  'last_used_region',
  'verdict',
  'action',
  'reason',
] as const;

/** A CSV cell before quoting. */
export type Cell = string | number | boolean | null;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a double quote, CR or LF, or starts
 * or ends with a space; inner quotes doubled. `null` is the empty field.
 */
export function csvField(value: Cell): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The audit as CSV. */
export function formatAuditCsv(report: AuditReport): string {
  return [CSV_COLUMNS.join(','), ...auditCsvRows(report).map(csvLine)].join('\n') + '\n';
}

/** One CSV line from cells (no line end). */
export function csvLine(cells: readonly Cell[]): string {
  return cells.map(csvField).join(',');
}

/** The rows of one report, in `CSV_COLUMNS` order, unquoted. */
export function auditCsvRows(report: AuditReport): Cell[][] {
  const rows: Cell[][] = [];
  const account = report.accountId;
  const keyCells = (k: AuditKey): Cell[] => [
    k.slot,
    k.accessKeyId,
    k.status,
    k.createdAt,
    k.ageDays,
    k.dueAt,
    k.lastUsedState,
    k.lastUsedAt,
    k.lastUsedService,
    k.lastUsedRegion,
    k.verdict,
    k.action,
    k.reason,
  ];
  if (report.root) {
    for (const k of report.root.keys) rows.push([account, ROOT_ACCOUNT_USER, null, report.root.arn, report.root.compliance, false, ...keyCells(k)]);
  }
  for (const u of report.users) {
    const head: Cell[] = [account, u.userName, u.userId, u.arn, u.compliance, u.exempt];
    if (u.keys.length === 0) rows.push([...head, null, null, null, null, null, null, null, null, null, null, null, 'none', u.annotation]);
    for (const k of u.keys) rows.push([...head, ...keyCells(k)]);
  }
  return rows;
}
