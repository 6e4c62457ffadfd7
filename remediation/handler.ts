/**
 * The remediation Lambda, invoked by the runbooks' `aws:invokeLambdaFunction` steps with the
 * payload described in `parameters.ts` (`Operation` "deactivate" for runbook 1, "delete" for
 * runbook 2). It returns the report as a flat JSON object whose `status` is `Success` or
 * `Incomplete`; the runbook's next step reads it and fails the execution on anything else.
 * Any failure is thrown as a named error (the Lambda's `errorType`), never turned into a result.
 */
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { Context } from 'aws-lambda';
import { AwsCaller, type RetryPolicy } from '../lib/aws-call';
import { createConfigClient, createIamClient } from '../lib/clients';
import { KeyageError, messageOf } from '../lib/errors';
import { createLogger, type Logger } from '../lib/log';
import { type DeactivationReport, deactivateStaleKeys, deleteDeactivatedKeys, type DeletionReport, type RemediationContext } from './core';
import { parseRemediationPayload } from './parameters';

export interface RemediationDependencies {
  iam: IAMClient;
  config: ConfigServiceClient;
  /** The decision clock; also the time written in deactivation records. @default () => new Date() */
  now: () => Date;
  log: Logger;
  retry: Partial<RetryPolicy>;
  sleep: (ms: number) => Promise<void>;
  /** Stop examining more users when fewer ms than this remain before the Lambda timeout or the step budget. @default 30_000 */
  safetyMarginMs: number;
  /**
   * How long the runbook's aws:invokeLambdaFunction step waits for the function: at most
   * 300 s in Automation, whatever the Lambda's own timeout. @default 300_000
   */
  stepBudgetMs: number;
  /** Real time in ms, for the budget. @default Date.now */
  wallClock: () => number;
}

/** Automation waits at most this long for an aws:invokeLambdaFunction step. */
export const STEP_BUDGET_MS = 300_000;

/** At most this many actions are returned to the runbook (all are logged). */
export const MAX_ACTIONS_IN_RESULT = 100;

/** What the Lambda returns to the runbook. */
export type RemediationResult = (DeactivationReport | DeletionReport) & {
  /** `Incomplete`: runbook 2 stopped before its deadline; the next run continues. */
  readonly status: 'Success' | 'Incomplete';
  readonly automationExecutionId: string | null;
  /** Actions left out of `actions` to keep the runbook output small (they are in the logs). */
  readonly actionsOmitted: number;
  readonly iamCalls: number;
};

/** Build a handler with injected clients and clocks (tests); `handler` is the default one. */
export function createHandler(deps: Partial<RemediationDependencies> = {}) {
  let iam = deps.iam;
  let config = deps.config;
  const baseLog = deps.log ?? createLogger();

  return async function remediation(event: unknown, context?: Partial<Context>): Promise<RemediationResult> {
    const started = (deps.wallClock ?? Date.now)();
    iam ??= createIamClient();
    config ??= createConfigClient();
    let log = baseLog.child(context?.awsRequestId ? { requestId: context.awsRequestId } : {});
    const caller = new AwsCaller({
      ...(deps.retry ? { retry: deps.retry } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      pacing: true,
      onRetry: (r) => log.warn('AWS call retried', r),
    });
    try {
      const payload = parseRemediationPayload(event);
      log = log.child({ operation: payload.operation, dryRun: payload.dryRun, automationExecutionId: payload.automationExecutionId ?? null });
      const ctx: RemediationContext = { iam, config, caller, log };
      const now = (deps.now ?? (() => new Date()))();
      let report: DeactivationReport | DeletionReport;
      if (payload.operation === 'deactivate') {
        report = await deactivateStaleKeys(ctx, {
          userId: payload.userId,
          maxAccessKeyAgeDays: payload.maxAccessKeyAgeDays,
          ...(payload.exemptionTag ? { exemptionTag: payload.exemptionTag } : {}),
          dryRun: payload.dryRun,
          now,
        });
      } else {
        const remaining = context?.getRemainingTimeInMillis?.bind(context);
        const margin = deps.safetyMarginMs ?? 30_000;
        const wallClock = deps.wallClock ?? Date.now;
        const stepEnds = started + (deps.stepBudgetMs ?? STEP_BUDGET_MS);
        report = await deleteDeactivatedKeys(ctx, {
          ...payload.target,
          graceDays: payload.graceDays,
          ...(payload.exemptionTag ? { exemptionTag: payload.exemptionTag } : {}),
          dryRun: payload.dryRun,
          now,
          shouldStop: () => stepEnds - wallClock() < margin || (remaining !== undefined && remaining() < margin),
        });
      }
      const complete = report.operation === 'deactivate' || report.complete;
      const result: RemediationResult = {
        ...report,
        actions: report.actions.slice(0, MAX_ACTIONS_IN_RESULT),
        status: complete ? 'Success' : 'Incomplete',
        automationExecutionId: payload.automationExecutionId ?? null,
        actionsOmitted: Math.max(0, report.actions.length - MAX_ACTIONS_IN_RESULT),
        iamCalls: caller.count('iam'),
      };
      log.info('remediation finished', { status: result.status, summary: report.summary.text, iamCalls: result.iamCalls, configCalls: caller.count('config') });
      return result;
    } catch (err) {
      log.error('remediation failed', {
        errorType: err instanceof KeyageError ? err.code : err instanceof Error ? err.name : 'unknown',
        error: messageOf(err),
        iamCalls: caller.count('iam'),
      });
      throw err;
    }
  };
}

/** The Lambda entry point the runbooks invoke. */
export const handler = createHandler();
