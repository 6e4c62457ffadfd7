/**
 * Output of `keyage remediate`: `table` (one row per key and stage, then each stage's summary
 * line) or `json` (the `RemediateResult`, schema version `REMEDIATE_SCHEMA_VERSION`).
 */
import type { RemediationAction } from '../remediation/core';
import type { RemediateResult } from './remediate';
import type { TableStyle } from './terminal';
import { textTable, visible } from './text-table';

const HEADERS = ['STAGE', 'SLOT', 'KEY ID', 'STATUS', 'AGE', 'LAST USED', 'DEACTIVATED', 'ACTION', 'DONE', 'REASON'];

/** The remediation as a table for humans. */
export function formatRemediationTable(result: RemediateResult, style: Partial<TableStyle> = {}): string {
  const out: string[] = [];
  const user = result.deactivation?.user;
  out.push(
    result.dryRun
      ? 'DRY RUN: nothing was changed. Run again with --apply to make the changes marked below.'
      : 'APPLIED: the changes marked "yes" were made in IAM.',
  );
  out.push(
    visible(
      `User ${user ? `${user.userName} (${user.userId})` : '?'}; clock ${result.now}; limit ${result.parameters.maxAccessKeyAgeDays} days; ` +
      `${result.parameters.deleteStage ? `delete stage on, grace period ${result.parameters.graceDays} days` : 'delete stage off (add --delete)'}` +
        `${result.parameters.exemptionTag ? `; exemption tag ${result.parameters.exemptionTag}` : ''}.`,
    ),
  );
  out.push('');
  const rows = [
    ...(result.deactivation?.actions ?? []).map((a) => row('deactivate', a, result.dryRun)),
    ...(result.deletion?.actions ?? []).map((a) => row('delete', a, result.dryRun)),
  ];
  // Fitted to the terminal (only the reason is cut); no colour: this table holds no verdicts.
  out.push(rows.length > 0 ? textTable(HEADERS, rows, style.width !== undefined ? { maxWidth: style.width } : {}) : 'The user has no access keys.');
  out.push('');
  if (result.deactivation) out.push(visible(`Stage 1 (deactivate): ${result.deactivation.summary.text}`));
  if (result.deletion) out.push(visible(`Stage 2 (delete): ${result.deletion.summary.text}`));
  return `${out.join('\n')}\n`;
}

/** The remediation as versioned JSON. */
export function formatRemediationJson(result: RemediateResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

function row(stage: string, a: RemediationAction, dryRun: boolean): string[] {
  const done = a.action === 'keep' ? '-' : a.applied ? 'yes' : dryRun ? 'planned' : 'no';
  return [
    stage,
    a.slot === null ? '-' : String(a.slot),
    a.accessKeyId,
    a.status,
    a.ageDays === null ? '-' : `${a.ageDays}d`,
    a.status === 'Missing' ? '-' : a.lastUsed ? a.lastUsed.slice(0, 10) : 'never',
    a.deactivatedAt ? a.deactivatedAt.slice(0, 10) : '-',
    a.action,
    done,
    a.outcome ? `${a.reason} Outcome: ${a.outcome}` : a.reason,
  ];
}
