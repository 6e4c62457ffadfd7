/**
 * The organization audit's report: one entry per account — a rollup (users, non-compliant users,
 * stale keys, oldest active key, root keys) and, for an account that was audited, its whole
 * audit report (the single-account schema, users and keys included) — or, for an account that
 * could not be audited, why. Plain, JSON-serialisable data: every output format renders it, and
 * its JSON form is the documented `--organization --format json` schema (docs/cli.md). Fields
 * are only ever added; `schemaVersion` rises on any incompatible change.
 */
import { type AuditParameters, type AuditReport, hasFindings, onlyFindings } from './audit-report';

/** The version of the `--organization --format json` schema. */
export const ORGANIZATION_SCHEMA_VERSION = 1;

/**
 * Why an account was not audited:
 *   - `not-active`: Organizations says the account is not ACTIVE (SUSPENDED, PENDING_CLOSURE, …);
 *   - `assume-role`: the audit role could not be assumed (missing, or not trusting the caller);
 *   - `access-denied`: the role may not make a call the audit needs;
 *   - `aws-error`: a call kept failing (throttling past the budget, 5xx, network);
 *   - `unexpected-response`: AWS answered something keyage cannot read;
 *   - `unexpected`: anything else (a bug: report it).
 */
export type AccountFailure = 'not-active' | 'assume-role' | 'access-denied' | 'aws-error' | 'unexpected-response' | 'unexpected';

/** An account of the organization, as Organizations lists it. */
export interface OrganizationAccount {
  readonly accountId: string;
  readonly name: string;
  /** `State` (ACTIVE, SUSPENDED, PENDING_CLOSURE, PENDING_ACTIVATION, CLOSED), else the older `Status`. */
  readonly state: string;
}

/** The oldest active key of an account. */
export interface OldestActiveKey {
  readonly userName: string;
  readonly accessKeyId: string | null;
  readonly slot: 1 | 2;
  readonly ageDays: number;
  readonly createdAt: string;
}

/** One account's line of the rollup. Counts are `null` for an account that was not audited. */
export interface AccountRollup extends OrganizationAccount {
  readonly audited: boolean;
  readonly failure: AccountFailure | null;
  /** Why the account was not audited; `null` when it was. */
  readonly reason: string | null;
  readonly users: number | null;
  readonly nonCompliantUsers: number | null;
  /** Active keys over the limit (exempt users' included, as in the single-account summary). */
  readonly staleKeys: number | null;
  readonly keysToDeactivate: number | null;
  readonly oldestActiveKey: OldestActiveKey | null;
  /** Whether the root user has an access key; `null` when not known. */
  readonly rootAccessKeysPresent: boolean | null;
  /** The limit the account was audited with (per-account parameters may differ); `null` when not audited. */
  readonly maxAccessKeyAgeDays: number | null;
}

/** One account of the report: its rollup, and its audit report when it was audited. */
export interface AccountEntry extends AccountRollup {
  readonly report: AuditReport | null;
}

/** Which accounts were asked for. */
export interface AccountSelection {
  /** `--ou`: these OUs (or roots) and every OU under them; `null`: the whole organization. */
  readonly organizationalUnits: readonly string[] | null;
  /** `--accounts`: exactly these; `null`: as `organizationalUnits` says. */
  readonly accounts: readonly string[] | null;
  /** `--exclude`. */
  readonly exclude: readonly string[];
}

/** Counts over every account. */
export interface OrganizationSummary {
  readonly accounts: number;
  readonly accountsAudited: number;
  readonly accountsNotAudited: number;
  readonly accountsWithFindings: number;
  readonly accountsWithRootAccessKeys: number;
  readonly users: number;
  readonly nonCompliantUsers: number;
  readonly notApplicableUsers: number;
  readonly keys: number;
  readonly activeKeys: number;
  readonly staleKeys: number;
  readonly keysToDeactivate: number;
  readonly keysToDelete: number;
}

/** The whole organization report. Field order is the JSON output's order. */
export interface OrganizationAuditReport {
  readonly schemaVersion: typeof ORGANIZATION_SCHEMA_VERSION;
  readonly command: 'audit';
  readonly scope: 'organization';
  /** The decision clock (`--now`), ISO 8601. */
  readonly now: string;
  /** The parameters given on the command line (each account's report says what it was audited with). */
  readonly parameters: AuditParameters;
  readonly source: {
    readonly kind: 'organization';
    readonly region: string;
    readonly profile: string | null;
    /** The role assumed in every account but the caller's own. */
    readonly roleName: string;
    /** The account the credentials belong to (audited with them, without assuming a role). */
    readonly callerAccountId: string;
    readonly selection: AccountSelection;
  };
  readonly partition: string;
  readonly region: string;
  readonly summary: OrganizationSummary;
  /** Every account selected, by account ID. */
  readonly accounts: readonly AccountEntry[];
}

/** The entry of an account that was audited. */
export function auditedEntry(account: OrganizationAccount, report: AuditReport): AccountEntry {
  let oldest: OldestActiveKey | null = null;
  for (const u of report.users) {
    for (const k of u.keys) {
      if (k.status !== 'Active') continue;
      if (!oldest || k.createdAt < oldest.createdAt) oldest = { userName: u.userName, accessKeyId: k.accessKeyId, slot: k.slot, ageDays: k.ageDays, createdAt: k.createdAt };
    }
  }
  return {
    ...account,
    audited: true,
    failure: null,
    reason: null,
    users: report.summary.users,
    nonCompliantUsers: report.summary.nonCompliantUsers,
    staleKeys: report.summary.staleKeys,
    keysToDeactivate: report.summary.keysToDeactivate,
    oldestActiveKey: oldest,
    rootAccessKeysPresent: report.root ? report.root.compliance === 'NON_COMPLIANT' : null,
    maxAccessKeyAgeDays: report.parameters.maxAccessKeyAgeDays,
    report,
  };
}

/** The entry of an account that could not be audited. */
export function notAuditedEntry(account: OrganizationAccount, failure: AccountFailure, reason: string): AccountEntry {
  return {
    ...account,
    audited: false,
    failure,
    reason,
    users: null,
    nonCompliantUsers: null,
    staleKeys: null,
    keysToDeactivate: null,
    oldestActiveKey: null,
    rootAccessKeysPresent: null,
    maxAccessKeyAgeDays: null,
    report: null,
  };
}

/** Count over every account. */
export function summarizeOrganization(entries: readonly AccountEntry[]): OrganizationSummary {
  const reports = entries.map((e) => e.report).filter((r): r is AuditReport => r !== null);
  const sum = (pick: (r: AuditReport) => number) => reports.reduce((n, r) => n + pick(r), 0);
  return {
    accounts: entries.length,
    accountsAudited: reports.length,
    accountsNotAudited: entries.length - reports.length,
    accountsWithFindings: reports.filter((r) => hasFindings(r)).length,
    accountsWithRootAccessKeys: entries.filter((e) => e.rootAccessKeysPresent === true).length,
    users: sum((r) => r.summary.users),
    nonCompliantUsers: sum((r) => r.summary.nonCompliantUsers),
    notApplicableUsers: sum((r) => r.summary.notApplicableUsers),
    keys: sum((r) => r.summary.keys),
    activeKeys: sum((r) => r.summary.activeKeys),
    staleKeys: sum((r) => r.summary.staleKeys),
    keysToDeactivate: sum((r) => r.summary.keysToDeactivate),
    keysToDelete: sum((r) => r.summary.keysToDelete),
  };
}

/** True when an audited account holds anything out of compliance. */
export function organizationHasFindings(report: OrganizationAuditReport): boolean {
  return report.summary.accountsWithFindings > 0;
}

/** True when an account selected could not be audited: the CLI then exits 3 (after printing every result). */
export function organizationIncomplete(report: OrganizationAuditReport): boolean {
  return report.summary.accountsNotAudited > 0;
}

/**
 * The organization audit with only its findings (`--only-findings`): every account keeps its
 * entry and rollup (the rollup counts everything), and each audited account's report keeps
 * only its findings (`onlyFindings`).
 */
export function organizationOnlyFindings(report: OrganizationAuditReport): OrganizationAuditReport {
  return { ...report, accounts: report.accounts.map((e) => (e.report ? { ...e, report: onlyFindings(e.report) } : e)) };
}
