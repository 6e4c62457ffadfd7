/**
 * `--format csv`: one row per access key (and one per user without keys, and one per root
 * key), under a fixed header documented in docs/cli.md. Fields are quoted the RFC 4180 way;
 * lines end with LF. Text that a spreadsheet would run as a formula is defused unless
 * `--csv-raw` asks for the cells as they are.
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

/** How cells are written. */
export interface CsvOptions {
  /**
   * Write every text cell exactly as it is (`--csv-raw`), even one a spreadsheet would run as a
   * formula. @default false: such cells are defused (see `csvField`).
   */
  readonly raw?: boolean;
}

/**
 * The characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection"): a
 * user name such as `=HYPERLINK(…)`, `@SUM(1)`, `-2+3` or `+x` (IAM allows all four) would run
 * when the file is opened by double-click.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a double quote, CR or LF, or starts
 * or ends with a space; inner quotes doubled. `null` is the empty field. Unless `options.raw`, a
 * text cell that begins with `=`, `+`, `-`, `@`, a tab or CR gets a leading `'` and is quoted, as
 * OWASP advises, so a spreadsheet shows it as text. Numbers and booleans are keyage's own and are
 * written as they print.
 */
export function csvField(value: Cell, options: CsvOptions = {}): string {
  if (value === null) return '';
  const text = String(value);
  if (typeof value === 'string' && !options.raw && FORMULA_START.test(text)) return `"'${text.replace(/"/g, '""')}"`;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The audit as CSV. */
export function formatAuditCsv(report: AuditReport, options: CsvOptions = {}): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of auditCsvRows(report)) lines.push(csvLine(row, options));
  return `${lines.join('\n')}\n`;
}

/** One CSV line from cells (no line end). */
export function csvLine(cells: readonly Cell[], options: CsvOptions = {}): string {
  return cells.map((c) => csvField(c, options)).join(',');
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
