/**
 * `--format table`: one row per access key (user, slot, key ID where known, status, age, last
 * use, verdict, planned action, reason), users without keys on a row of their own, the root
 * user apart, then a summary. Control characters and bidirectional overrides from the input are
 * shown as escapes (`visible`), never sent to the terminal.
 */
import type { AuditKey, AuditReport, AuditUser } from './audit-report';
import { textTable, visible } from './text-table';

/** The column headers of the key rows. */
export const KEY_HEADERS = ['USER', 'SLOT', 'KEY ID', 'STATUS', 'AGE', 'LAST USED', 'VERDICT', 'ACTION', 'REASON'];

/** The audit as a table for humans. */
export function formatAuditTable(report: AuditReport): string {
  const rows = keyRows(report);
  const out: string[] = [rows.length > 0 ? textTable(KEY_HEADERS, rows) : 'No IAM users.', ''];
  // The root lines and the source line carry text from the input (its reason, the file name).
  for (const line of [...rootLines(report), summaryLine(report), decisionLine(report), sourceLine(report)]) out.push(visible(line));
  return `${out.join('\n')}\n`;
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
