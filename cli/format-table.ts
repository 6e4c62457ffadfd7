/**
 * `--format table`: one row per access key (user, slot, key ID where known, status, age, last
 * use, verdict, planned action, reason), users without keys on a row of their own, the root
 * user apart, then a summary. Control characters and bidirectional overrides from the input are
 * shown as escapes (`visible`), never sent to the terminal.
 */
import type { AuditKey, AuditReport, AuditUser } from './audit-report';
import { paintVerdict, type TableStyle } from './terminal';
import { type TextTableOptions, textTable, visible } from './text-table';

/** The column headers of the key rows. */
export const KEY_HEADERS = ['USER', 'SLOT', 'KEY ID', 'STATUS', 'AGE', 'LAST USED', 'VERDICT', 'ACTION', 'REASON'];

/** How a table is shown: the terminal's style, and whether the report holds only its findings. */
export interface AuditTableOptions extends Partial<TableStyle> {
  /** The report was filtered with `onlyFindings` (`--only-findings`): say so, and what an empty table means. */
  readonly onlyFindings?: boolean;
}

/** The line printed instead of an empty table of findings. */
export const NO_FINDINGS = 'No findings: no key is non-compliant, and the runbooks would change none.';

/** The audit as a table for humans. */
export function formatAuditTable(report: AuditReport, options: AuditTableOptions = {}): string {
  const rows = keyRows(report);
  const out: string[] = [];
  out.push(rows.length > 0 ? textTable(KEY_HEADERS, rows, keyTableOptions(options, 0)) : options.onlyFindings ? NO_FINDINGS : 'No IAM users.');
  out.push('');
  if (options.onlyFindings) {
    const total = report.summary.keys + report.summary.usersWithoutKeys;
    out.push(`Only findings are shown (--only-findings): ${rows.length} of ${total} row${total === 1 ? '' : 's'}; the summary counts every user.`);
  }
  // The root lines and the source line carry text from the input (its reason, the file name).
  for (const line of [...rootLines(report), summaryLine(report), decisionLine(report), sourceLine(report)]) out.push(visible(line));
  return `${out.join('\n')}\n`;
}

/**
 * Table options for the key rows: fitted to the terminal's width (only the reason is cut) and,
 * when colour is on, the verdict painted. `offset`: columns before `KEY_HEADERS` (ACCOUNT).
 */
export function keyTableOptions(style: Partial<TableStyle>, offset: number): TextTableOptions {
  const verdict = KEY_HEADERS.indexOf('VERDICT') + offset;
  return {
    ...(style.width !== undefined ? { maxWidth: style.width } : {}),
    ...(style.color ? { paint: (cell: string, column: number) => (column === verdict ? paintVerdict(cell) : cell) } : {}),
  };
}

/** One row per key (and per user without keys), in `KEY_HEADERS` order. */
export function keyRows(report: AuditReport): string[][] {
  return report.users.flatMap((u) => (u.keys.length === 0 ? [userRow(u)] : u.keys.map((k) => keyRow(u.userName, k))));
}

function summaryLine(report: AuditReport): string {
  const s = report.summary;
  return (
    `Summary: ${s.users} user${s.users === 1 ? '' : 's'}, ${s.nonCompliantUsers} non-compliant, ${s.notApplicableUsers} exempt or not applicable; ` +
      `${s.keys} key${s.keys === 1 ? '' : 's'} (${s.activeKeys} active), ${s.keysToDeactivate} to deactivate, ${s.keysToDelete} to delete` +
      `${s.recordsToClear > 0 ? `, ${s.recordsToClear} deactivation record${s.recordsToClear === 1 ? '' : 's'} to clear` : ''}.`
  );
}

/** "Decided at … with a limit of … days". */
export function decisionLine(report: Pick<AuditReport, 'now' | 'parameters'>): string {
  return (
    `Decided at ${report.now} with a limit of ${report.parameters.maxAccessKeyAgeDays} days (a key exactly ${report.parameters.maxAccessKeyAgeDays} days old is compliant)` +
    `${report.parameters.exemptionTag ? `; exemption tag ${report.parameters.exemptionTag}` : ''}.`
  );
}

function keyRow(userName: string, k: AuditKey): string[] {
  return [userName, String(k.slot), k.accessKeyId ?? '-', k.status, `${k.ageDays}d`, lastUsed(k), k.verdict, k.action, k.reason];
}

function userRow(u: AuditUser): string[] {
  return [u.userName, '-', '-', '-', '-', '-', u.compliance, 'none', u.annotation];
}

/** A key's last use as the table shows it: a date, `never` or `unknown`. */
export function lastUsed(k: AuditKey): string {
  if (k.lastUsedState === 'never') return 'never';
  if (k.lastUsedState === 'unknown' || !k.lastUsedAt) return 'unknown';
  return k.lastUsedAt.slice(0, 10);
}

function rootLines(report: AuditReport): string[] {
  if (report.source.kind === 'live') return ['Root user: not checked by a live audit (the root user\'s keys appear only in the credential report).'];
  if (!report.root) return ['Root user: no <root_account> row in the report.'];
  const lines = [`Root user: ${report.root.compliance}. ${report.root.reason}`];
  for (const k of report.root.keys) {
    lines.push(`  key ${k.slot}: ${k.status}, ${k.ageDays} days old, last used ${lastUsed(k)}.`);
  }
  return lines;
}

function sourceLine(report: AuditReport): string {
  const src = report.source;
  const account = report.accountId ? `account ${report.accountId}` : 'account unknown';
  if (src.kind === 'live') return `Source: live IAM, ${account}${src.profile ? `, profile ${src.profile}` : ''}.`;
  return (
    `Source: credential report ${src.file}${src.generatedAt ? ` generated at ${src.generatedAt}` : ''}, ${account}. ` +
    'The report has no key IDs: run a live audit to see them.'
  );
}
