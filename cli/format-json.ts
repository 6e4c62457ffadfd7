/**
 * `--format json`: the report as it is, schema version `AUDIT_SCHEMA_VERSION` (documented in
 * docs/cli.md), two-space indented, one trailing newline; produced in pieces (`jsonChunks`) so
 * that a report of any size can be written.
 */
import type { AuditReport } from './audit-report';
import { jsonChunks } from './json-chunks';

/** The audit as versioned JSON. */
export function formatAuditJson(report: AuditReport): string {
  return [...auditJsonChunks(report)].join('');
}

/** `formatAuditJson`'s text in pieces, a user at a time, for output of any size. */
export function* auditJsonChunks(report: AuditReport): Generator<string> {
  yield* jsonChunks(report, 2);
  yield '\n';
}
