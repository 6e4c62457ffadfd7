/**
 * `keyage audit --security-hub`: import the audit's findings into Security Hub and close the
 * ones that no longer apply, so that findings have a lifecycle.
 *
 *   1. GetFindings pages through the ACTIVE findings keyage put into this account and Region
 *      (filters: ProductArn, AwsAccountId, Region, GeneratorId prefix `keyage/`, RecordState
 *      ACTIVE). Every finding returned is checked against the same criteria again before it is
 *      touched: a finding that is not keyage's own, of this account, Region and product, is
 *      never changed, whatever the service returned.
 *   2. Each of those that the audit no longer reports (the key was rotated away or deleted, the
 *      user was deleted or became exempt) is sent back with `RecordState: ARCHIVED` and
 *      `Compliance.Status` PASSED (NOT_AVAILABLE for an exempt user, as Security Hub marks a
 *      Config NOT_APPLICABLE). Only findings of kinds the audit covered in full are closed: a
 *      live audit never sees the root user, so it never closes a root finding.
 *   3. BatchImportFindings sends the audit's findings and the archived ones in batches of at
 *      most 100 findings and 5 MB (the service takes 100 findings and 6 MB a call, 240 KB a
 *      finding); every call goes through the `AwsCaller` (throttling retried, Security Hub
 *      allows 10 calls a second). Findings in `FailedFindings` are sent again, up to
 *      `rounds` times, and those still refused are reported with their error code and message.
 *
 * BatchImportFindings accepts only findings whose AwsAccountId is the caller's own account
 * (with the default product ARN), so each account's findings are imported with that account's
 * credentials. Nothing is imported from an audit that did not complete: closing findings from
 * a partial view would close findings of keys that still exist.
 */
import {
  type AwsSecurityFinding,
  type AwsSecurityFindingFilters,
  BatchImportFindingsCommand,
  GetFindingsCommand,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import type { AwsCaller } from '../lib/aws-call';
import { KeyageError, UnexpectedResponseError } from '../lib/errors';
import type { AuditReport } from './audit-report';
import { type AsffComplianceStatus, type AsffFinding, ASFF_LIMITS, buildAsffFindings, clip, type FindingScope, findingScope, KEYAGE_PREFIX } from './format-asff';

export { SECURITY_HUB_IMPORT_ACTIONS } from './permissions';

/** Findings per BatchImportFindings call (the service's limit). */
export const IMPORT_BATCH_FINDINGS = 100;
/** Bytes per BatchImportFindings call, under the service's 6 MB. */
export const IMPORT_BATCH_BYTES = 5 * 1024 * 1024;
/** Findings per GetFindings page (the service's limit). */
export const GET_FINDINGS_PAGE = 100;

/** The Security Hub side of one account. */
export interface SecurityHubContext {
  readonly securityHub: SecurityHubClient;
  readonly caller: AwsCaller;
  /** Waits between rounds of resending FailedFindings. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A finding Security Hub refused, as it said. */
export interface RefusedFinding {
  readonly id: string;
  readonly errorCode: string;
  readonly errorMessage: string;
}

/** What an import did. */
export interface ImportResult {
  readonly accountId: string;
  readonly region: string;
  /** ACTIVE findings sent and accepted, by compliance status. */
  readonly active: Readonly<Record<AsffComplianceStatus, number>>;
  /** Findings closed (sent back ARCHIVED) and accepted. */
  readonly archived: number;
  /** Findings still refused after every round. */
  readonly refused: readonly RefusedFinding[];
  /** BatchImportFindings calls made (retries of throttled calls not counted). */
  readonly importCalls: number;
  /** GetFindings pages read. */
  readonly findingPages: number;
}

/** Some findings were refused by Security Hub even after retries. */
export class FindingsNotImportedError extends KeyageError {
  constructor(public readonly result: ImportResult) {
    const shown = result.refused.slice(0, 3).map((r) => `${r.id}: ${r.errorCode} ${r.errorMessage}`);
    super(
      'FindingsNotImported',
      `Security Hub refused ${result.refused.length} finding(s) of account ${result.accountId} in ${result.region} after retries: ${shown.join('; ')}${result.refused.length > 3 ? '; …' : ''}`,
    );
  }
}

/** The GetFindings filters for keyage's ACTIVE findings of one account, Region and product. */
export function activeFindingFilters(scope: FindingScope): AwsSecurityFindingFilters {
  return {
    ProductArn: [{ Value: scope.productArn, Comparison: 'EQUALS' }],
    AwsAccountId: [{ Value: scope.accountId, Comparison: 'EQUALS' }],
    Region: [{ Value: scope.region, Comparison: 'EQUALS' }],
    GeneratorId: [{ Value: KEYAGE_PREFIX, Comparison: 'PREFIX' }],
    RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
  };
}

/** True when `f` is keyage's own ACTIVE finding of this scope: the only findings keyage may change. */
export function isOwnActiveFinding(f: AwsSecurityFinding, scope: FindingScope): boolean {
  return (
    f.ProductArn === scope.productArn &&
    f.AwsAccountId === scope.accountId &&
    f.Region === scope.region &&
    f.RecordState === 'ACTIVE' &&
    typeof f.Id === 'string' &&
    f.Id.startsWith(KEYAGE_PREFIX) &&
    typeof f.GeneratorId === 'string' &&
    f.GeneratorId.startsWith(KEYAGE_PREFIX)
  );
}

/** keyage's ACTIVE findings of the scope, paged to the end. */
export async function readActiveFindings(ctx: SecurityHubContext, scope: FindingScope): Promise<{ findings: AwsSecurityFinding[]; pages: number }> {
  const findings: AwsSecurityFinding[] = [];
  let token: string | undefined;
  let pages = 0;
  const seen = new Set<string>();
  do {
    const page = await ctx.caller.call('securityhub:GetFindings', () =>
      ctx.securityHub.send(new GetFindingsCommand({ Filters: activeFindingFilters(scope), MaxResults: GET_FINDINGS_PAGE, ...(token ? { NextToken: token } : {}) })),
    );
    pages++;
    for (const f of page.Findings ?? []) {
      if (isOwnActiveFinding(f, scope) && !seen.has(f.Id as string)) {
        seen.add(f.Id as string);
        findings.push(f);
      }
    }
    if (page.NextToken !== undefined && page.NextToken !== null && page.NextToken !== '' && page.NextToken === token) {
      throw new UnexpectedResponseError('securityhub:GetFindings', 'the same NextToken came back twice');
    }
    token = page.NextToken || undefined;
  } while (token);
  return { findings, pages };
}

const KEY_OR_USER_ID = /^keyage\/IAM\.3\/\d{12}\/user\/([^/]+)(\/key\/.+)?$/;

/**
 * Why an earlier finding no longer applies, from the audit that did not report it, and the
 * status it is closed with.
 */
export function closingReason(found: AwsSecurityFinding, report: AuditReport): { status: AsffComplianceStatus; reason: string } {
  const id = found.Id ?? '';
  const match = KEY_OR_USER_ID.exec(id);
  if (!match) {
    const previous = (found.Compliance?.Status as AsffComplianceStatus | undefined) ?? 'NOT_AVAILABLE';
    return { status: previous, reason: 'superseded by keyage\'s stable finding IDs (one finding per key and per user, the same offline and live)' };
  }
  const userName = match[1] as string;
  const user = report.users.find((u) => u.userName === userName);
  if (user?.exempt) return { status: 'NOT_AVAILABLE', reason: `user ${userName} carries the exemption tag ${report.parameters.exemptionTag ?? ''}`.trim() };
  if (!user || user.compliance === 'NOT_APPLICABLE') return { status: 'PASSED', reason: `IAM user ${userName} no longer exists` };
  if (match[2]) return { status: 'PASSED', reason: `the access key no longer exists: it was rotated away or deleted` };
  return { status: 'PASSED', reason: 'no longer reported' };
}

/**
 * The finding sent back to close `found`: its own required fields, `RecordState: ARCHIVED`, the
 * closing compliance status, `UpdatedAt` now. Severity, Types, Workflow and the customer's
 * fields (Note, UserDefinedFields, VerificationState) are not sent.
 */
export function archivedFinding(found: AwsSecurityFinding, updatedAt: string, why: { status: AsffComplianceStatus; reason: string }): AwsSecurityFinding {
  const keep = <K extends keyof AwsSecurityFinding>(k: K) => (found[k] !== undefined ? { [k]: found[k] } : {});
  return {
    SchemaVersion: found.SchemaVersion,
    Id: found.Id,
    ProductArn: found.ProductArn,
    GeneratorId: found.GeneratorId,
    AwsAccountId: found.AwsAccountId,
    ...keep('ProductName'),
    ...keep('Region'),
    CreatedAt: found.CreatedAt,
    UpdatedAt: updatedAt,
    Title: found.Title,
    Description: clip(`Closed by keyage on ${updatedAt.slice(0, 10)}: ${why.reason}. ${found.Description ?? ''}`.trim(), ASFF_LIMITS.description),
    ...keep('Remediation'),
    ProductFields: { ...(found.ProductFields ?? {}), 'keyage/ClosedReason': why.reason },
    Resources: found.Resources,
    Compliance: { ...(found.Compliance ?? {}), Status: why.status },
    RecordState: 'ARCHIVED',
  };
}

/** The findings to send: the audit's own, and the earlier ones to close. */
export interface ImportPlan {
  readonly active: readonly AsffFinding[];
  readonly archive: readonly AwsSecurityFinding[];
  readonly findingPages: number;
}

/**
 * Read what Security Hub holds and decide what to send.
 * @param findings the audit's findings (all ACTIVE), stamped with `updatedAt`.
 */
export async function planImport(ctx: SecurityHubContext, scope: FindingScope, report: AuditReport, findings: readonly AsffFinding[], updatedAt: string): Promise<ImportPlan> {
  const current = new Set(findings.map((f) => f.Id));
  const { findings: existing, pages } = await readActiveFindings(ctx, scope);
  const archive = existing
    .filter((f) => !current.has(f.Id as string) && scope.generators.has(f.GeneratorId as string))
    .map((f) => archivedFinding(f, updatedAt, closingReason(f, report)));
  return { active: findings, archive, findingPages: pages };
}

/** Split findings into batches of at most 100 findings and `IMPORT_BATCH_BYTES` bytes. */
export function importBatches<T>(findings: readonly T[]): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const f of findings) {
    const size = Buffer.byteLength(JSON.stringify(f));
    if (batch.length > 0 && (batch.length >= IMPORT_BATCH_FINDINGS || bytes + size > IMPORT_BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(f);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Rounds of sending, the first included, before a refused finding is reported. @default 3 */
export const IMPORT_ROUNDS = 3;

/**
 * Send `plan` with BatchImportFindings; resend what lands in FailedFindings.
 * @returns what was accepted and what was refused for good (the caller decides the exit status).
 */
export async function sendImport(ctx: SecurityHubContext, scope: FindingScope, plan: ImportPlan, rounds = IMPORT_ROUNDS): Promise<ImportResult> {
  const all: AwsSecurityFinding[] = [...(plan.active as unknown as AwsSecurityFinding[]), ...plan.archive];
  const byId = new Map(all.map((f) => [f.Id as string, f]));
  let pending = all;
  let refused: RefusedFinding[] = [];
  let calls = 0;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let round = 1; round <= rounds && pending.length > 0; round++) {
    if (round > 1) await sleep(250 * 2 ** (round - 2));
    refused = [];
    for (const batch of importBatches(pending)) {
      calls++;
      const out = await ctx.caller.call('securityhub:BatchImportFindings', () => ctx.securityHub.send(new BatchImportFindingsCommand({ Findings: batch })));
      for (const failed of out.FailedFindings ?? []) {
        refused.push({ id: failed.Id ?? '?', errorCode: failed.ErrorCode ?? 'unknown', errorMessage: failed.ErrorMessage ?? '' });
      }
      const failedCount = out.FailedCount ?? 0;
      if (failedCount !== (out.FailedFindings ?? []).length) {
        throw new UnexpectedResponseError('securityhub:BatchImportFindings', `FailedCount is ${failedCount} but ${(out.FailedFindings ?? []).length} FailedFindings are listed`);
      }
    }
    pending = refused.map((r) => byId.get(r.id)).filter((f): f is AwsSecurityFinding => f !== undefined);
  }
  const refusedIds = new Set(refused.map((r) => r.id));
  const active: Record<AsffComplianceStatus, number> = { PASSED: 0, FAILED: 0, NOT_AVAILABLE: 0 };
  for (const f of plan.active) if (!refusedIds.has(f.Id)) active[f.Compliance.Status]++;
  return {
    accountId: scope.accountId,
    region: scope.region,
    active,
    archived: plan.archive.filter((f) => !refusedIds.has(f.Id as string)).length,
    refused,
    importCalls: calls,
    findingPages: plan.findingPages,
  };
}

/** One line for standard error about an import. */
export function describeImport(r: ImportResult): string {
  return (
    `Security Hub ${r.region}, account ${r.accountId}: ${r.active.FAILED} FAILED and ${r.active.PASSED} PASSED finding(s) imported, ` +
    `${r.archived} closed (ARCHIVED)${r.refused.length > 0 ? `, ${r.refused.length} refused` : ''}.`
  );
}

/**
 * Import one complete audit of one account: its findings ACTIVE, and every earlier keyage
 * finding of the kinds it covered that it no longer reports, ARCHIVED.
 * @param accountId the account the credentials of `ctx` belong to (BatchImportFindings takes only
 *   the caller's own findings); the report's own account, when it tells one, must be the same.
 * @param updatedAt the real time of the import (Security Hub ignores an update older than the finding).
 */
export async function importAudit(ctx: SecurityHubContext, report: AuditReport, accountId: string, updatedAt: string): Promise<ImportResult> {
  if (report.accountId !== null && report.accountId !== accountId) {
    throw new SecurityHubAccountMismatchError(report.accountId, accountId);
  }
  const scope = findingScope(report, accountId) as FindingScope;
  const findings = buildAsffFindings(report, { updatedAt, accountId });
  const plan = await planImport(ctx, scope, report, findings, updatedAt);
  return sendImport(ctx, scope, plan);
}

/** The audit is of another account than the credentials that would import it. */
export class SecurityHubAccountMismatchError extends KeyageError {
  constructor(
    public readonly reportAccount: string,
    public readonly callerAccount: string,
  ) {
    super(
      'SecurityHubAccountMismatch',
      `--security-hub: the audit is of account ${reportAccount} but the credentials are of account ${callerAccount}; Security Hub accepts an account's findings (default product ARN) only from that account itself, so import with credentials of ${reportAccount}`,
    );
  }
}
