/**
 * The organization audit in every format:
 *
 *   - `table`: the per-account rollup, then every key row with an ACCOUNT column, then the
 *     accounts that could not be audited with their reasons, the summary, clock and source;
 *   - `json`: the report as it is (`OrganizationAuditReport`, schema version 1);
 *   - `csv`: the single-account columns, one row per key (and per user without keys) of every
 *     audited account, with the account's rollup appended to each row (`ORGANIZATION_CSV_COLUMNS`),
 *     and one row with empty user columns for an account without users or not audited;
 *   - `asff`: the findings of every audited account, each with its own account and product ARN.
 */
import { type AsffFinding, buildAsffFindings } from './format-asff';
import { auditCsvRows, type Cell, CSV_COLUMNS, type CsvOptions, csvLine } from './format-csv';
import { type AuditTableOptions, decisionLine, KEY_HEADERS, keyRows, keyTableOptions } from './format-table';
import { jsonChunks } from './json-chunks';
import type { AccountEntry, OrganizationAuditReport } from './organization-report';
import { textTable, visible } from './text-table';

/** Columns appended to `CSV_COLUMNS` in organization mode. A public contract: only ever appended to. */
export const ORGANIZATION_CSV_COLUMNS = [
  'account_name',
  'account_state',
  'account_audited',
  'account_reason',
  'account_users',
  'account_non_compliant_users',
  'account_stale_keys',
  'account_oldest_active_key_days',
  'account_root_access_keys',
] as const;

const ROLLUP_HEADERS = ['ACCOUNT', 'NAME', 'STATE', 'AUDIT', 'USERS', 'NON-COMPLIANT', 'STALE KEYS', 'OLDEST ACTIVE KEY', 'ROOT KEYS'];

const dash = (n: number | null): string => (n === null ? '-' : String(n));

function rootCell(e: AccountEntry): string {
  if (e.rootAccessKeysPresent === null) return '-';
  return e.rootAccessKeysPresent ? 'PRESENT' : 'none';
}

function oldestCell(e: AccountEntry): string {
  const k = e.oldestActiveKey;
  if (!k) return e.audited ? 'none' : '-';
  return `${k.ageDays}d ${k.userName} (${k.accessKeyId ?? `key ${k.slot}`})`;
}

/** The rollup as rows, in `ROLLUP_HEADERS` order. */
export function rollupRows(report: OrganizationAuditReport): string[][] {
  return report.accounts.map((e) => [
    e.accountId,
    e.name || '-',
    e.state,
    e.audited ? 'complete' : 'NOT AUDITED',
    dash(e.users),
    dash(e.nonCompliantUsers),
    dash(e.staleKeys),
    oldestCell(e),
    rootCell(e),
  ]);
}

/** The organization audit as tables for humans. */
export function formatOrganizationTable(report: OrganizationAuditReport, options: AuditTableOptions = {}): string {
  const out: string[] = [];
  // The rollup is never cut: its last column is the root keys, not a sentence.
  out.push(report.accounts.length > 0 ? textTable(ROLLUP_HEADERS, rollupRows(report)) : 'No accounts selected.');
  out.push('');
  const rows = report.accounts.flatMap((e) => (e.report ? keyRows(e.report).map((r) => [e.accountId, ...r]) : []));
  if (rows.length > 0) {
    out.push(textTable(['ACCOUNT', ...KEY_HEADERS], rows, keyTableOptions(options, 1)));
    out.push('');
  } else if (options.onlyFindings && report.accounts.some((e) => e.report)) {
    out.push('No findings in the audited accounts: no key is non-compliant, and the runbooks would change none.');
    out.push('');
  }
  if (options.onlyFindings) out.push(`Only findings are shown (--only-findings): ${rows.length} key row${rows.length === 1 ? '' : 's'}; the rollup and the summary count everything.`, '');
  const failed = report.accounts.filter((e) => !e.audited);
  if (failed.length > 0) {
    out.push(`Not audited (${failed.length}):`);
    for (const e of failed) out.push(visible(`  ${e.accountId}${e.name ? ` (${e.name})` : ''}: ${e.reason}`));
    out.push('');
  }
  const s = report.summary;
  out.push(
    `Summary: ${s.accounts} account${s.accounts === 1 ? '' : 's'}, ${s.accountsAudited} audited, ${s.accountsNotAudited} not audited; ` +
      `${s.users} user${s.users === 1 ? '' : 's'}, ${s.nonCompliantUsers} non-compliant; ${s.keys} key${s.keys === 1 ? '' : 's'} (${s.activeKeys} active), ` +
      `${s.staleKeys} stale, ${s.keysToDeactivate} to deactivate, ${s.keysToDelete} to delete; root access keys in ${s.accountsWithRootAccessKeys} account${s.accountsWithRootAccessKeys === 1 ? '' : 's'}.`,
  );
  out.push(visible(decisionLine(report)));
  const src = report.source;
  out.push(
    visible(
      `Source: live IAM of the organization's accounts, through role ${src.roleName} (account ${src.callerAccountId} with its own credentials)` +
        `${src.profile ? `, profile ${src.profile}` : ''}, region ${src.region}.`,
    ),
  );
  return `${out.join('\n')}\n`;
}

/** The organization audit as versioned JSON. */
export function formatOrganizationJson(report: OrganizationAuditReport): string {
  return [...organizationJsonChunks(report)].join('');
}

/** `formatOrganizationJson`'s text in pieces, a user at a time (report → accounts → account → report → users). */
export function* organizationJsonChunks(report: OrganizationAuditReport): Generator<string> {
  yield* jsonChunks(report, 5);
  yield '\n';
}

function rollupCells(e: AccountEntry): Cell[] {
  return [
    e.name,
    e.state,
    e.audited,
    e.reason,
    e.users,
    e.nonCompliantUsers,
    e.staleKeys,
    e.oldestActiveKey ? e.oldestActiveKey.ageDays : null,
    e.rootAccessKeysPresent === null ? null : e.rootAccessKeysPresent ? 'present' : 'none',
  ];
}

/** The organization audit as one CSV table (cells defused as `csvField` says, unless `options.raw`). */
export function formatOrganizationCsv(report: OrganizationAuditReport, options: CsvOptions = {}): string {
  const lines = [[...CSV_COLUMNS, ...ORGANIZATION_CSV_COLUMNS].join(',')];
  const blank: Cell[] = CSV_COLUMNS.slice(1).map(() => null);
  for (const e of report.accounts) {
    const rows = e.report ? auditCsvRows(e.report) : [];
    if (rows.length === 0) rows.push([e.accountId, ...blank]);
    for (const r of rows) lines.push(csvLine([...r, ...rollupCells(e)], options));
  }
  return `${lines.join('\n')}\n`;
}

/** The findings of every audited account. */
export function organizationFindings(report: OrganizationAuditReport): AsffFinding[] {
  return report.accounts.flatMap((e) => (e.report ? buildAsffFindings(e.report, { accountId: e.accountId }) : []));
}

/** The organization audit as a JSON array of ASFF findings. */
export function formatOrganizationAsff(report: OrganizationAuditReport): string {
  return [...organizationAsffChunks(report)].join('');
}

/** `formatOrganizationAsff`'s text in pieces, a finding at a time. */
export function* organizationAsffChunks(report: OrganizationAuditReport): Generator<string> {
  yield* jsonChunks(organizationFindings(report), 1);
  yield '\n';
}
