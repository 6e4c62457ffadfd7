/**
 * What a deployment of keyage in an account and Region says: the Config rule's parameters
 * (`config:DescribeConfigRules`: its `InputParameters`) and the delete runbook's grace period
 * (`ssm:DescribeDocument`: the default of `GracePeriodDays`, which the member stack sets from its
 * settings). `keyage audit` (live) and `keyage remediate` take them as their defaults, so that the
 * command line, the Config console and the runbooks judge with the same limit and exemption.
 *
 * A conformance pack renames its rules (`<name>-conformance-pack-<id>`), so the rule is found by
 * its name prefix. Finding nothing is an answer (keyage is not deployed there); failing to ask is
 * a `problem`, said aloud by the caller, never a silent fall back to defaults.
 */
import { type ConfigRule, type ConfigServiceClient, DescribeConfigRulesCommand } from '@aws-sdk/client-config-service';
import { DescribeDocumentCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { type AwsCaller, awsErrorCode } from './aws-call';
import { messageOf } from './errors';
import { type ExemptionTag, parseRuleParameters } from '../rules/access-key-age/parameters';
import { parseGracePeriodDays } from '../remediation/parameters';
import { DELETE_RUNBOOK_NAME } from '../remediation/documents';

/** The rule name the member stack gives keyage's rule, before Config adds the pack's suffix. */
export const DEPLOYED_RULE_NAME = 'keyage-access-key-age';

/** keyage's rule, as Config names it in a pack or alone. */
const RULE_NAME = new RegExp(`^${DEPLOYED_RULE_NAME}(-conformance-pack-[a-z0-9]+)?$`);

/** What the deployment in one account and Region says. */
export interface DeployedSettings {
  /** The rule found, with its parameters; `null` when none is deployed here (or it could not be read). */
  readonly rule: { readonly name: string; readonly maxAccessKeyAgeDays: number; readonly exemptionTag?: ExemptionTag } | null;
  /** The delete runbook's default grace period; `null` when the document is not deployed (or could not be read). */
  readonly graceDays: { readonly document: string; readonly days: number } | null;
  /** Why part of it could not be read (permission, throttling, an unreadable parameter). Empty when all was read. */
  readonly problems: readonly string[];
}

/** Read the deployment's settings. Never throws for AWS failures: they become `problems`. */
export async function readDeployedSettings(r: { config: ConfigServiceClient; ssm: SSMClient; caller: AwsCaller }): Promise<DeployedSettings> {
  const problems: string[] = [];
  let rule: DeployedSettings['rule'] = null;
  try {
    const rules: ConfigRule[] = [];
    let token: string | undefined;
    do {
      const page = await r.caller.call('config:DescribeConfigRules', () => r.config.send(new DescribeConfigRulesCommand({ ...(token ? { NextToken: token } : {}) })));
      rules.push(...(page.ConfigRules ?? []).filter((c) => RULE_NAME.test(c.ConfigRuleName ?? '')));
      token = page.NextToken;
    } while (token);
    const read = rules.map((c) => ({ name: c.ConfigRuleName as string, ...parseRuleParameters(c.InputParameters ?? '{}') }));
    const distinct = new Set(read.map((x) => JSON.stringify({ m: x.maxAccessKeyAgeDays, e: x.exemptionTag ?? null })));
    if (distinct.size > 1) {
      problems.push(`${read.length} keyage rules with different parameters are deployed here (${read.map((x) => x.name).join(', ')}); name the parameters you want`);
    } else if (read[0]) {
      rule = read[0];
    }
  } catch (err) {
    problems.push(`the deployed rule could not be read (config:DescribeConfigRules): ${messageOf(err)}`);
  }
  let graceDays: DeployedSettings['graceDays'] = null;
  try {
    const doc = await r.caller.call('ssm:DescribeDocument', () => r.ssm.send(new DescribeDocumentCommand({ Name: DELETE_RUNBOOK_NAME })));
    const value = doc.Document?.Parameters?.find((p) => p.Name === 'GracePeriodDays')?.DefaultValue;
    if (value !== undefined) graceDays = { document: DELETE_RUNBOOK_NAME, days: parseGracePeriodDays(value) };
  } catch (err) {
    if (awsErrorCode(err) !== 'InvalidDocument') problems.push(`the delete runbook's grace period could not be read (ssm:DescribeDocument ${DELETE_RUNBOOK_NAME}): ${messageOf(err)}`);
  }
  return { rule, graceDays, problems };
}
