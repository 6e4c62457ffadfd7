/**
 * `--format json`: the report as it is, schema version `AUDIT_SCHEMA_VERSION` (documented in
 * docs/cli.md), two-space indented, one trailing newline.
 */
import type { AuditReport } from './audit-report';

/** The audit as versioned JSON. */
export function formatAuditJson(report: AuditReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
