/**
 * `keyage pack`: render conformance-pack.yaml for one account and Region, with the literal
 * values AWS Config requires, into a file `aws configservice put-conformance-pack` deploys as
 * it is.
 *
 * AWS Config supports no CloudFormation intrinsic function for a remediation's automation role
 * or for `ConfigRuleName` in a conformance pack; the repository's file references both as
 * parameters so that it serves every account. This command inlines them (and the rule
 * function's ARN), computed from the account, the Region and keyage's fixed resource names —
 * the same rendering the member stack's pack reconciler does in each account.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidParameterError } from '../lib/errors';
import { CONFIG_RULE_NAME, CONFORMANCE_PACK_NAME, automationRoleArn, ruleFunctionArn } from '../stacks/names';
import { type PackLiterals, PackRenderError, remainingParameters, renderConformancePack } from '../stacks/pack-render';
import { parseRegionCode } from '../stacks/regions';

/** The options of `keyage pack`, as commander gives them. */
export interface PackOptions {
  account: string;
  region: string;
  automationRoleArn?: string;
  ruleFunctionArn?: string;
  configRuleName?: string;
  template?: string;
  output?: string;
}

/** What `keyage pack` needs from its surroundings. */
export interface PackIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Where relative file names are resolved. @default process.cwd() */
  readonly cwd?: string;
}

const ACCOUNT = /^\d{12}$/;
const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const FUNCTION_ARN = /^arn:aws(-cn|-us-gov)?:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}$/;
const RULE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** The literal values for an account and Region, defaults filled in from keyage's fixed names. */
export function packLiteralsFor(opts: PackOptions): { literals: PackLiterals; accountId: string; region: string } {
  const accountId = opts.account?.trim() ?? '';
  if (!ACCOUNT.test(accountId)) throw new InvalidParameterError('--account', opts.account, 'a 12-digit AWS account ID');
  const region = parseRegionCode(opts.region?.trim(), '--region');
  const checked = (value: string | undefined, name: string, pattern: RegExp, allowed: string, fallback: string): string => {
    if (value === undefined) return fallback;
    if (!pattern.test(value)) throw new InvalidParameterError(name, value, allowed);
    return value;
  };
  return {
    accountId,
    region: region.code,
    literals: {
      ConfigRuleName: checked(opts.configRuleName, '--config-rule-name', RULE_NAME, '1-128 letters, digits, _ or -', CONFIG_RULE_NAME),
      AutomationAssumeRole: checked(
        opts.automationRoleArn,
        '--automation-role-arn',
        ROLE_ARN,
        'the ARN of an IAM role, arn:aws:iam::ACCOUNT:role/NAME',
        automationRoleArn(region.partition, accountId, region.code),
      ),
      RuleFunctionArn: checked(
        opts.ruleFunctionArn,
        '--rule-function-arn',
        FUNCTION_ARN,
        'the ARN of a Lambda function, arn:aws:lambda:REGION:ACCOUNT:function:NAME',
        ruleFunctionArn(region.partition, accountId, region.code),
      ),
    },
  };
}

/** Render the pack text for the options (the template file's text given). */
export function renderPackFor(template: string, opts: PackOptions, outputName: string): string {
  const { literals, accountId, region } = packLiteralsFor(opts);
  const remaining = remainingParameters(template, literals);
  return renderConformancePack(template, literals, {
    header: [
      `keyage conformance pack for account ${accountId}, Region ${region}, rendered by keyage pack.`,
      'ConfigRuleName, the remediation AutomationAssumeRole and the rule function ARN are literal',
      'values: AWS Config supports no CloudFormation intrinsic function for the first two.',
      'The rule function, runbook 1 and the Automation role must exist (a keyage member stack).',
      '',
      'Deploy it with:',
      `  aws configservice put-conformance-pack --region ${region} \\`,
      `    --conformance-pack-name ${CONFORMANCE_PACK_NAME} --template-body file://${outputName}`,
      '',
      `Every other parameter has a default: ${remaining.join(', ')}.`,
      'Override one with, for example:',
      '    --conformance-pack-input-parameters ParameterName=AutomaticRemediation,ParameterValue=true',
    ],
  });
}

/** Register `keyage pack` on the program. */
export function registerPackCommand(program: Command, io: PackIo, defaultTemplate: () => Promise<string>): void {
  program
    .command('pack')
    .summary('render conformance-pack.yaml for an account and Region, ready for aws configservice put-conformance-pack')
    .description(
      'Render the conformance pack with the literal values AWS Config requires (the rule name and the remediation role ARN; no intrinsic function is ' +
        "supported there), for one account and Region. Defaults come from keyage's fixed names: role keyage-automation-<region>, function keyage-access-key-age.",
    )
    .requiredOption('--account <id>', 'the 12-digit account ID the pack is for')
    .requiredOption('--region <region>', 'the Region the pack is for (the one that records AWS::IAM::User)')
    .option('--automation-role-arn <arn>', 'the role the runbook runs as (default: arn:PARTITION:iam::ACCOUNT:role/keyage-automation-REGION)')
    .option('--rule-function-arn <arn>', 'the rule function (default: arn:PARTITION:lambda:REGION:ACCOUNT:function:keyage-access-key-age)')
    .option('--config-rule-name <name>', `the rule's name (default: ${CONFIG_RULE_NAME})`)
    .option('--template <file>', 'the pack template to render (default: conformance-pack.yaml of this keyage)')
    .option('--output <file>', 'write the pack to this file instead of standard output')
    .addHelpText(
      'after',
      `
Example:
  keyage pack --account 111122223333 --region eu-west-1 --output keyage-pack.yaml
  aws configservice put-conformance-pack --region eu-west-1 --conformance-pack-name keyage \\
    --template-body file://keyage-pack.yaml`,
    )
    .action(async (opts: PackOptions) => {
      const cwd = io.cwd ?? process.cwd();
      const templateFile = opts.template !== undefined ? resolve(cwd, opts.template) : await defaultTemplate();
      let template: string;
      try {
        template = await readFile(templateFile, 'utf8');
      } catch (err) {
        throw new InvalidParameterError('--template', opts.template ?? templateFile, `a readable conformance pack template (${err instanceof Error ? err.message : String(err)})`);
      }
      let body: string;
      try {
        body = renderPackFor(template, opts, opts.output ?? 'keyage-pack.yaml');
      } catch (err) {
        if (err instanceof PackRenderError) throw new InvalidParameterError('--template', opts.template ?? templateFile, `a keyage conformance pack template (${err.message})`);
        throw err;
      }
      if (opts.output !== undefined) {
        await writeFile(resolve(cwd, opts.output), body, 'utf8');
        io.stderr(`keyage: wrote ${opts.output}\n`);
      } else {
        io.stdout(body);
      }
    });
}

/** conformance-pack.yaml of this keyage, found lazily so the rest of the CLI works anywhere. */
export async function bundledPackTemplate(): Promise<string> {
  try {
    const { CONFORMANCE_PACK_FILE } = await import('../stacks/project');
    return CONFORMANCE_PACK_FILE;
  } catch (err) {
    throw new InvalidParameterError('--template', undefined, `the path of conformance-pack.yaml (${err instanceof Error ? err.message : String(err)})`);
  }
}
