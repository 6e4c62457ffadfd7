/**
 * `keyage remediate --user NAME`: the runbooks' own remediation (`remediation/core.ts`, the
 * module the remediation Lambda runs) against the live account, for one user.
 *
 *   - DRY RUN unless `--apply`: the plan is read from live IAM and printed; nothing changes.
 *   - Stage 1 (runbook 1) deactivates the user's active keys older than `--max-age`, writing the
 *     record `keyage:deactivated:<AccessKeyId>` = `--now` first.
 *   - Stage 2 (runbook 2), only with `--delete`, deletes keys keyage deactivated at least
 *     `--grace-days` ago that show no use since, and clears records that no longer apply.
 *
 * `--now` is the clock for every decision and every record written, so a whole key life can be
 * replayed: deactivate at one `--now`, delete at a later one.
 */
import { KeyageError, messageOf } from '../lib/errors';
import {
  type DeactivationReport,
  deactivateStaleKeys,
  type DeletionReport,
  deleteDeactivatedKeys,
  type RemediationAction,
  type RemediationContext,
  RemediationFailedError,
} from '../remediation/core';
import { formatExemptionTag, type ExemptionTag } from '../rules/access-key-age/parameters';

/**
 * Actions of a dry run (reads only). `iam:ListUsers` only when the user is named by ID; the
 * deployed rule and runbook for the defaults; the record key to verify records (stage 2).
 */
export const REMEDIATE_READ_ACTIONS = [
  'iam:GetUser',
  'iam:ListUsers',
  'iam:ListAccessKeys',
  'iam:GetAccessKeyLastUsed',
  'iam:ListUserTags',
  'config:DescribeConfigRules',
  'ssm:DescribeDocument',
  'kms:DescribeKey',
  'kms:VerifyMac',
] as const;

/**
 * Actions `--apply` adds: stage 1 (GenerateMac on the record key, TagUser, UpdateAccessKey),
 * stage 2 (DeleteAccessKey, UntagUser). kms:GenerateMac is granted by the record key's policy to
 * the roles the deployment names in `recordSignerRoleNames` only.
 */
export const REMEDIATE_WRITE_ACTIONS = ['kms:GenerateMac', 'iam:TagUser', 'iam:UpdateAccessKey', 'iam:DeleteAccessKey', 'iam:UntagUser'] as const;

/** The version of the `keyage remediate --format json` schema. */
export const REMEDIATE_SCHEMA_VERSION = 1;

/** Who to remediate: a user name, or a user ID (AIDA…). */
export type RemediateTarget = { readonly userName: string } | { readonly userId: string };

/** What `keyage remediate` was asked to do, parsed. */
export interface RemediateRequest {
  readonly target: RemediateTarget;
  readonly apply: boolean;
  /** Run stage 2 (delete) after stage 1. */
  readonly deleteStage: boolean;
  readonly now: Date;
  readonly maxAccessKeyAgeDays: number;
  readonly graceDays: number;
  readonly exemptionTag?: ExemptionTag;
  /** Where each parameter came from: `flag`, `deployed rule <name>`, `deployed runbook <name>` or `default`. */
  readonly sources: ParameterSources;
}

/** Where each decision parameter came from. */
export interface ParameterSources {
  readonly maxAccessKeyAgeDays: string;
  readonly exemptionTag: string;
  readonly graceDays: string;
}

/** What `keyage remediate` did or would do: the JSON output. */
export interface RemediateResult {
  readonly schemaVersion: typeof REMEDIATE_SCHEMA_VERSION;
  readonly command: 'remediate';
  readonly dryRun: boolean;
  readonly now: string;
  readonly parameters: {
    readonly maxAccessKeyAgeDays: number;
    readonly exemptionTag: string | null;
    readonly graceDays: number;
    readonly deleteStage: boolean;
    /** The key records are signed with (its ARN), or `null`: written unsigned, never deleted later by keyage. */
    readonly recordKey: string | null;
    readonly sources: ParameterSources;
  };
  /** Stage 1, runbook 1's report. */
  readonly deactivation: DeactivationReport | null;
  /** Stage 2, runbook 2's report; `null` without `--delete`. */
  readonly deletion: DeletionReport | null;
}

/**
 * A stage failed part-way (a planned change was refused, or stage 2 could not run after stage 1
 * changed IAM). `result` holds what was done, so the CLI can still print it.
 */
export class RemediateFailedError extends KeyageError {
  constructor(
    public readonly result: RemediateResult,
    message: string,
    options: { cause: unknown },
  ) {
    super('RemediationFailed', message, options);
  }
}

/**
 * Run stage 1 and, if asked, stage 2 for one user.
 * @throws NoSuchUserError when the user does not exist (before anything is changed).
 * @throws RemediateFailedError when a stage failed after IAM may have been changed; it carries the result so far.
 */
export async function remediateUser(ctx: RemediationContext, request: RemediateRequest): Promise<RemediateResult> {
  const common = {
    ...request.target,
    dryRun: !request.apply,
    now: request.now,
    // A dry run is a plan: its reasons say what keyage would do, never what it is doing.
    voice: request.apply ? ('acting' as const) : ('conditional' as const),
    ...(request.exemptionTag ? { exemptionTag: request.exemptionTag } : {}),
  };
  let deactivation: DeactivationReport;
  try {
    deactivation = await deactivateStaleKeys(ctx, { ...common, maxAccessKeyAgeDays: request.maxAccessKeyAgeDays });
  } catch (err) {
    if (err instanceof RemediationFailedError) {
      throw new RemediateFailedError(resultOf(request, err.report as DeactivationReport, null, ctx.signer?.keyId ?? null), `stage 1 (deactivate): ${err.message}`, { cause: err });
    }
    throw err;
  }
  if (!request.deleteStage) return resultOf(request, deactivation, null, ctx.signer?.keyId ?? null);
  // A dry run plans stage 2 on the state stage 1 would leave, so that the plan is exactly what
  // --apply does (a re-activated stale key is deactivated again, not a record to clear).
  const assumeDeactivated = request.apply ? [] : deactivation.actions.filter((a) => a.action === 'deactivate').map((a) => a.accessKeyId);
  try {
    const deletion = await deleteDeactivatedKeys(ctx, { ...common, graceDays: request.graceDays, ...(assumeDeactivated.length ? { assumeDeactivated } : {}) });
    return resultOf(request, deactivation, deletion, ctx.signer?.keyId ?? null);
  } catch (err) {
    const partial = err instanceof RemediationFailedError ? (err.report as DeletionReport) : null;
    throw new RemediateFailedError(resultOf(request, deactivation, partial, ctx.signer?.keyId ?? null), `stage 2 (delete): ${messageOf(err)}`, { cause: err });
  }
}

/** The JSON result, from the stage reports (also used when a stage failed part-way). */
export function resultOf(request: RemediateRequest, deactivation: DeactivationReport | null, deletion: DeletionReport | null, recordKey: string | null): RemediateResult {
  return {
    schemaVersion: REMEDIATE_SCHEMA_VERSION,
    command: 'remediate',
    dryRun: !request.apply,
    now: request.now.toISOString(),
    parameters: {
      maxAccessKeyAgeDays: request.maxAccessKeyAgeDays,
      exemptionTag: request.exemptionTag ? formatExemptionTag(request.exemptionTag) : null,
      graceDays: request.graceDays,
      deleteStage: request.deleteStage,
      recordKey,
      sources: request.sources,
    },
    deactivation,
    deletion,
  };
}

/** Every action of both stages. */
export function allActions(result: RemediateResult): RemediationAction[] {
  return [...(result.deactivation?.actions ?? []), ...(result.deletion?.actions ?? [])];
}

/**
 * True when the user is left out of compliance: a stale key the plan would deactivate was not
 * deactivated (always so in a dry run). The CLI then exits 1.
 */
export function leavesNonCompliantKeys(result: RemediateResult): boolean {
  return (result.deactivation?.actions ?? []).some((a) => a.action === 'deactivate' && !a.applied);
}
