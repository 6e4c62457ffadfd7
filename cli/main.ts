/**
 * The `keyage` command line.
 *
 *   keyage audit --credential-report FILE   offline, from `aws iam get-credential-report`
 *   keyage audit                            live, read-only, default AWS credential chain
 *   keyage audit --organization             every account of the organization, through a
 *                                           read-only role in each
 *   keyage audit … --security-hub           also import the findings, with a lifecycle
 *   keyage remediate --user NAME            the runbooks' remediation for one user; dry run
 *                                           unless --apply
 *   keyage pack --account ID --region R     the conformance pack rendered with literal values
 *
 * `main()` runs in-process (argv, output writers, environment and clients injected), so the
 * tests drive it without spawning; `run()` is what the `keyage` bin calls.
 *
 * Exit status: 0 all compliant (or the remediation did what it planned), 1 something is not
 * compliant, 2 a usage or input error (the message names the option, or the file, line and
 * column), 3 AWS refused or failed a call, or answered something unreadable, or an account of an
 * organization audit could not be audited, or Security Hub refused findings, 4 an internal error
 * (a fault in keyage itself, not in the input or in AWS): never 0 or 1 then, so a failure can
 * never pass for a verdict. Whatever was found is still printed.
 */
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { version } from '../package.json';
import { AwsCaller, type RetryPolicy } from '../lib/aws-call';
import { awsErrorCode } from '../lib/aws-call';
import { type DeployedSettings, readDeployedSettings } from '../lib/deployed-rule';
import { AwsAccessDeniedError, AwsCallError, InvalidParameterError, KeyageError, messageOf, UnexpectedResponseError } from '../lib/errors';
import { createLogger, type Logger } from '../lib/log';
import type { IamReader } from '../rules/access-key-age/iam';
import { DEFAULT_MAX_ACCESS_KEY_AGE_DAYS, type ExemptionTag, formatExemptionTag, parseExemptionTag, parseMaxAccessKeyAge } from '../rules/access-key-age/parameters';
import { parseGracePeriodDays } from '../remediation/parameters';
import { DEFAULT_GRACE_PERIOD_DAYS } from '../remediation/plan';
import { auditCredentialReport } from './audit-credential-report';
import { auditAccount } from './audit-live';
import { type AuditReport, hasFindings, onlyFindings } from './audit-report';
import { auditAsffChunks } from './format-asff';
import { type CsvOptions, formatAuditCsv } from './format-csv';
import { formatAuditHtml, formatOrganizationHtml, type HtmlContext } from './format-html';
import { auditJsonChunks } from './format-json';
import { type AuditTableOptions, formatAuditTable } from './format-table';
import { readInputFile, readProcessStdin, withFileName } from './input';
import { formatRemediationJson, formatRemediationTable } from './format-remediation';
import { AUDIT_FORMATS, type AuditFormat, checkOnlyFindings, ONLY_FINDINGS_FORMATS, parseNow, parseOneUser, REMEDIATE_FORMATS, type RemediateFormat } from './options';
import { DEFAULT_RECORD_KEY, resolveRecordKey } from './record-key';
import { type ParameterSources, leavesNonCompliantKeys, RemediateFailedError, type RemediateRequest, type RemediateResult, remediateUser } from './remediate';
import { bundledPackTemplate, registerPackCommand } from './pack';
import { createProgress } from './progress';
import { type AwsClientFactory, defaultClientFactory } from './aws-clients';
import { type AwsSettings, resolveAwsSettings } from './aws-settings';
import { auditOrganization, callerIdentity, DEFAULT_ACCOUNT_CONCURRENCY, DEFAULT_AUDIT_ROLE_NAME } from './audit-organization';
import { MEMBER_AUDIT_ACTIONS, ORGANIZATION_CALLER_ACTIONS, SECURITY_HUB_IMPORT_ACTIONS } from './permissions';
import { formatOrganizationCsv, formatOrganizationTable, organizationAsffChunks, organizationJsonChunks } from './format-organization';
import { writeChunked } from './json-chunks';
import { visible } from './text-table';
import { type OrganizationAuditReport, organizationHasFindings, organizationIncomplete, organizationOnlyFindings } from './organization-report';
import { type TableStyle, tableStyle } from './terminal';
import { parseAccountIds, parseConcurrency, parseOrganizationalUnitIds, parseRoleName } from './options';
import { describeImport, FindingsNotImportedError, type ImportResult, importAudit } from './security-hub';

/** Exit statuses. `internal`: keyage itself failed (a bug), apart from AWS failures so the two are never confused. */
export const EXIT = { ok: 0, findings: 1, usage: 2, failure: 3, internal: 4 } as const;

/** Everything the command line touches outside itself; all optional but the writers. */
export interface CliIo {
  /** Standard output (results only). */
  readonly stdout: (text: string) => void;
  /** Standard error (messages, progress, logs). */
  readonly stderr: (text: string) => void;
  /** Draw the progress indicator (standard error is a terminal). @default false */
  readonly stderrIsTTY?: boolean;
  /** Standard output is a terminal: tables fit its width, and verdicts may be coloured. @default false */
  readonly stdoutIsTTY?: boolean;
  /** The terminal's width in columns (`process.stdout.columns`), when standard output is one. */
  readonly stdoutColumns?: number;
  /**
   * Environment read for defaults (`AWS_REGION`, `AWS_DEFAULT_REGION`). @default process.env
   * (which the AWS SDK reads too; `--profile` sets its `AWS_PROFILE` only when this is absent).
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The real clock, used when `--now` is absent. @default () => new Date() */
  readonly clock?: () => Date;
  /** Where relative file names are resolved. @default process.cwd() */
  readonly cwd?: string;
  /** Standard input, for `--credential-report -`. */
  readonly readStdin?: () => Promise<Buffer>;
  /** Write `--output FILE` (an absolute path). @default fs.promises.writeFile */
  readonly writeFile?: (path: string, text: string) => Promise<void>;
  /** An IAM client to use instead of building one from the default credential chain. */
  readonly iam?: IAMClient;
  /**
   * Clients to use instead of the ones built from the profile and Region (tests and the
   * benchmark point them at moto_server); `iam` above wins for the caller's own IAM client.
   */
  readonly clients?: Partial<AwsClientFactory>;
  /**
   * Clients for the deployed rule (Config), the deployed runbook (SSM) and the record key (KMS)
   * of the caller's own account, instead of building them from the profile and Region.
   */
  readonly config?: ConfigServiceClient;
  readonly ssm?: SSMClient;
  readonly kms?: KMSClient;
  /** Retry policy and sleep for AWS calls (tests shorten them). */
  readonly retry?: Partial<RetryPolicy>;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface SharedOptions {
  maxAge?: string;
  exemptionTag?: string;
  graceDays?: string;
  recordKey?: string;
  now?: string;
  region?: string;
  profile?: string;
  verbose?: boolean;
}

interface AuditOptions extends SharedOptions {
  credentialReport?: string;
  format: AuditFormat;
  output?: string;
  organization?: boolean;
  ou?: string;
  accounts?: string;
  exclude?: string;
  roleName?: string;
  concurrency?: string;
  securityHub?: boolean;
  onlyFindings?: boolean;
  csvRaw?: boolean;
}

interface RemediateOptions extends SharedOptions {
  user: string;
  apply?: boolean;
  delete?: boolean;
  replay?: boolean;
  format: RemediateFormat;
}

/**
 * Run the command line with `argv` (the arguments after the program name).
 * @returns the exit status.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let status: number = EXIT.ok;
  const program = buildProgram(io, (s) => {
    status = s;
  });
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT.usage;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (err) {
    return reportError(err, io);
  }
}

/** The entry point of the `keyage` bin: real process streams, exit status set on the process. */
export async function run(): Promise<void> {
  // `keyage audit | head`: the reader went away. Drop the rest of the output quietly, and still
  // finish with the real exit status (a CI gate under `set -o pipefail` must see it).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const code = await main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stderrIsTTY: process.stderr.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    ...(process.stdout.isTTY && process.stdout.columns ? { stdoutColumns: process.stdout.columns } : {}),
  });
  process.exitCode = code;
}

function buildProgram(io: CliIo, setStatus: (s: number) => void): Command {
  const program = new Command('keyage')
    .description(
      'Keep IAM access keys younger than the limit (CIS AWS Foundations 1.14, Security Hub IAM.3): audit a credential report or a live account, and plan or run the remediation for one user.',
    )
    .version(version, '-V, --version')
    .exitOverride()
    // Every message of the command line starts "keyage: ", commander's own usage errors too.
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => write(`keyage: ${text.replace(/^error: /, '')}`) })
    .showHelpAfterError("keyage: run 'keyage --help' for usage")
    .addHelpText(
      'after',
      `
Exit status: 0 all compliant, 1 something is not compliant, 2 usage or input error,
3 an AWS call was refused or failed, 4 an internal error in keyage (please report it).

Examples:
  keyage audit --credential-report examples/credential-report.csv --now 2026-11-25T12:00:00Z
  aws iam get-credential-report --output json | keyage audit --credential-report - --format json
  keyage audit --credential-report report.json --format html --output report.html
  keyage audit --profile security-audit --format asff > findings.json
  keyage audit --organization --profile org-management --security-hub
  keyage remediate --user bob              # dry run: prints the plan, changes nothing
  keyage remediate --user bob --apply`,
    );

  const audit = program
    .command('audit')
    .summary('report every IAM user\'s keys, verdicts and planned actions (offline or live, read-only)')
    .description(
      'Report every IAM user\'s access keys: age, last use, verdict and the action the remediation would take. ' +
        'With --credential-report, offline from the file "aws iam get-credential-report" gives; without it, live with read-only IAM calls.',
    )
    .option('--credential-report <file>', 'the credential report: raw CSV, its base64 Content, or the JSON output of "aws iam get-credential-report"; "-" reads standard input')
    .addOption(new Option('--format <format>', 'output format (html: one self-contained page, best with --output)').choices(AUDIT_FORMATS).default('table'))
    .option('--output <file>', 'write the report to this file instead of standard output (any format)')
    .option(
      '--csv-raw',
      "with --format csv: write every cell exactly as it is; by default a text cell beginning with = + - @, a tab or CR is written as '… (quoted), so a spreadsheet shows it as text instead of running it as a formula",
    )
    .option('--organization', 'audit every ACTIVE account of the organization (from the management or a delegated administrator account), assuming --role-name in each')
    .option('--ou <ids>', 'with --organization: only the accounts in these OUs (or root) and the OUs under them, comma-separated')
    .option('--accounts <ids>', 'with --organization: only these account IDs, comma-separated')
    .option('--exclude <ids>', 'with --organization: leave these account IDs out, comma-separated')
    .option('--role-name <name>', `with --organization: the read-only role to assume in each account (default ${DEFAULT_AUDIT_ROLE_NAME}, the member stack's)`)
    .option('--concurrency <n>', `with --organization: accounts audited at once (default ${DEFAULT_ACCOUNT_CONCURRENCY})`)
    .option('--security-hub', 'also import the findings into Security Hub (the Region of --region or the profile): PASSED and FAILED, and close findings of keys and users that are gone')
    .option(
      '--only-findings',
      `with --format ${ONLY_FINDINGS_FORMATS.join(' or ')}: only the keys that are findings (NON_COMPLIANT, or that a runbook would change); the summary still counts every user`,
    );
  addSharedOptions(audit, 'audit');
  audit.addHelpText(
    'after',
    `
Live audits need ${LIVE_AUDIT_ACTIONS_TEXT}; they change nothing.
Their defaults are the deployed rule's MaxAccessKeyAge and ExemptionTag and the deployed delete
runbook's GracePeriodDays (in each account, with --organization); flags override.
--organization needs ${ORGANIZATION_CALLER_ACTIONS.join(', ')} where it runs, and in each other account
a role (--role-name) allowing ${MEMBER_AUDIT_ACTIONS.join(', ')}.
--security-hub needs ${SECURITY_HUB_IMPORT_ACTIONS.join(' and ')} in each account whose findings it imports.
Exit status 3 when an account could not be audited or Security Hub refused findings; every result is still printed.
Warnings about the credential report (the same user on several rows, a report older than the rule
uses, --now before the report was made) go to standard error and do not change the exit status.`,
  );
  audit.action(async (opts: AuditOptions) => {
    setStatus(await runAudit(opts, io));
  });

  const remediate = program
    .command('remediate')
    .summary('plan (dry run, the default) or apply the runbooks\' remediation for one user')
    .description(
      'Run the remediation the runbooks run, for one IAM user, against the live account: stage 1 deactivates active keys older than --max-age ' +
        '(recording each as the user tag keyage:deactivated:<AccessKeyId> = --now); with --delete, stage 2 deletes keys keyage deactivated ' +
        'at least --grace-days ago that show no use since. DRY RUN unless --apply: the exact plan is printed and nothing changes.',
    )
    .requiredOption('--user <name>', 'one IAM user name or user ID (AIDA…); not "*": one user at a time')
    .option('--apply', 'make the changes (default: dry run, change nothing)')
    .option('--delete', 'include stage 2: delete keys keyage deactivated once the grace period has passed')
    .option(
      '--replay',
      `with --apply, allow a --now more than ${CLOCK_TOLERANCE_MINUTES} minutes from the current time, to replay a key's life in a test account (records are dated --now)`,
    )
    .addOption(new Option('--format <format>', 'output format').choices(REMEDIATE_FORMATS).default('table'));
  addSharedOptions(remediate, 'remediate');
  remediate.addHelpText(
    'after',
    `
Defaults: the deployed rule's MaxAccessKeyAge and ExemptionTag (config:DescribeConfigRules) and the
deployed delete runbook's GracePeriodDays (ssm:DescribeDocument) in --region; a flag overrides them.
With --apply, when the deployed rule cannot be read, give --max-age and --exemption-tag yourself
(--exemption-tag '' for none). Records are signed with the record key (--record-key, default
alias/keyage-deactivation-records; kms:DescribeKey, kms:GenerateMac); without it they are
unsigned, and keyage will never delete those keys later.
A dry run needs iam:GetUser, iam:ListAccessKeys, iam:GetAccessKeyLastUsed and iam:ListUserTags
(and iam:ListUsers for a user ID), config:DescribeConfigRules, ssm:DescribeDocument, kms:DescribeKey
and kms:VerifyMac; --apply adds kms:GenerateMac, iam:TagUser and iam:UpdateAccessKey, and with
--delete iam:DeleteAccessKey and iam:UntagUser.
Exit status: 0 nothing left to deactivate, 1 a stale key stays active (always so in a dry run that
plans a deactivation), 2 usage error or no such user, 3 an AWS call was refused or failed,
4 an internal error in keyage.`,
  );
  remediate.action(async (opts: RemediateOptions) => {
    setStatus(await runRemediate(opts, io));
  });

  registerPackCommand(program, io, bundledPackTemplate);
  for (const command of program.commands) command.showHelpAfterError(`keyage: run 'keyage ${command.name()} --help' for usage`);

  return program;
}

const LIVE_AUDIT_ACTIONS_TEXT =
  'iam:GetAccountAuthorizationDetails (users with their tags, 1,000 a call), iam:ListAccessKeys and iam:GetAccessKeyLastUsed; config:DescribeConfigRules and ssm:DescribeDocument (the deployed defaults); kms:DescribeKey and kms:VerifyMac (to verify deactivation records)';

/**
 * The options `audit` and `remediate` share, each described as it works in that command: the
 * audit reads (offline or live) and plans; remediate always reads the live account, and writes
 * with --apply.
 */
function addSharedOptions(cmd: Command, command: 'audit' | 'remediate'): void {
  const audit = command === 'audit';
  cmd
    .option(
      '--max-age <days>',
      `a key older than this many whole days is stale; a key exactly this old is not (the rule's MaxAccessKeyAge; default: the deployed rule's${audit ? ' when live' : ''}, else ${DEFAULT_MAX_ACCESS_KEY_AGE_DAYS})`,
    )
    .option(
      '--exemption-tag <key[=value]>',
      audit
        ? 'users carrying this tag are exempt (the rule\'s ExemptionTag; default: the deployed rule\'s; \'\' for none); live only: the credential report has no tags'
        : 'a user carrying this tag is left alone (the rule\'s ExemptionTag; default: the deployed rule\'s; \'\' for none)',
    )
    .option(
      '--grace-days <days>',
      audit
        ? `days a key keyage deactivated stays Inactive before the delete runbook may delete it, for the delete plan (default: the deployed delete runbook's when live, else ${DEFAULT_GRACE_PERIOD_DAYS})`
        : `days a key keyage deactivated stays Inactive before --delete may delete it (default: the deployed delete runbook's, else ${DEFAULT_GRACE_PERIOD_DAYS})`,
    )
    .option(
      '--record-key <key>',
      audit
        ? `live only: the KMS key that verifies keyage's deactivation records, by alias, ID or ARN, or "none" (default ${DEFAULT_RECORD_KEY})`
        : `the KMS key that signs the deactivation records --apply writes and verifies the ones --delete relies on, by alias, ID or ARN, or "none" (default ${DEFAULT_RECORD_KEY})`,
    )
    .option(
      '--now <time>',
      audit
        ? 'the clock of every decision, ISO 8601 (e.g. 2026-11-25T12:00:00Z); default: the current time'
        : `the clock of every decision and of the records --apply writes, ISO 8601 (e.g. 2026-11-25T12:00:00Z); default: the current time (with --apply, within ${CLOCK_TOLERANCE_MINUTES} minutes of it unless --replay)`,
    )
    .option(
      '--region <region>',
      audit
        ? 'AWS region for the SDK and for findings (default: AWS_REGION, AWS_DEFAULT_REGION, the profile\'s region, else us-east-1)'
        : 'AWS region of the SDK clients and of the deployed rule and runbook whose defaults are read (default: AWS_REGION, AWS_DEFAULT_REGION, the profile\'s region, else us-east-1)',
    )
    .option('--profile <name>', 'named profile from the shared AWS config files, with its region (default: AWS_PROFILE, else the default credential chain)')
    .option('--verbose', audit ? 'log AWS retries and call counts as JSON lines on standard error' : 'log each action and AWS retry as JSON lines on standard error');
}

interface Shared {
  now: Date;
  /** The decision parameters the flags give; absent when the flag was not given. `exemptionTag: null` is "none", given explicitly. */
  flags: { maxAccessKeyAgeDays?: number; exemptionTag?: ExemptionTag | null; graceDays?: number };
  region: string;
  profile: string | null;
  aws: AwsSettings;
  log: Logger;
  verbose: boolean;
}

function parseShared(opts: SharedOptions, io: CliIo): Shared {
  const env = io.env ?? process.env;
  const clock = io.clock ?? (() => new Date());
  const exemptionTag = parseExemptionTag(opts.exemptionTag, '--exemption-tag');
  const now = parseNow(opts.now, clock);
  const flags = {
    ...(opts.maxAge !== undefined ? { maxAccessKeyAgeDays: parseMaxAccessKeyAge(opts.maxAge, '--max-age') } : {}),
    ...(opts.exemptionTag !== undefined ? { exemptionTag: exemptionTag ?? null } : {}),
    ...(opts.graceDays !== undefined ? { graceDays: parseGracePeriodDays(opts.graceDays, '--grace-days') } : {}),
  };
  const aws = resolveAwsSettings({ ...(opts.profile !== undefined ? { profile: opts.profile } : {}), ...(opts.region !== undefined ? { region: opts.region } : {}) }, env);
  return {
    now,
    flags,
    region: aws.region,
    profile: aws.profile,
    aws,
    verbose: opts.verbose === true,
    log: createLogger({ level: opts.verbose ? 'debug' : 'warn', sink: (line) => io.stderr(`${line}\n`), clock }),
  };
}

/** The decision parameters in force, and where each came from. */
interface Decided {
  maxAccessKeyAgeDays: number;
  exemptionTag?: ExemptionTag;
  graceDays: number;
  sources: ParameterSources;
}

/** Flags first, then the deployment (when live), then keyage's defaults. */
function decide(shared: Shared, deployed: DeployedSettings | null): Decided {
  const { flags } = shared;
  const rule = deployed?.rule ?? null;
  const fromRule = rule ? `deployed rule ${rule.name}` : 'default';
  const exemption = flags.exemptionTag !== undefined ? (flags.exemptionTag ?? undefined) : rule?.exemptionTag;
  return {
    maxAccessKeyAgeDays: flags.maxAccessKeyAgeDays ?? rule?.maxAccessKeyAgeDays ?? DEFAULT_MAX_ACCESS_KEY_AGE_DAYS,
    ...(exemption ? { exemptionTag: exemption } : {}),
    graceDays: flags.graceDays ?? deployed?.graceDays?.days ?? DEFAULT_GRACE_PERIOD_DAYS,
    sources: {
      maxAccessKeyAgeDays: flags.maxAccessKeyAgeDays !== undefined ? 'flag' : fromRule,
      exemptionTag: flags.exemptionTag !== undefined ? 'flag' : fromRule,
      graceDays: flags.graceDays !== undefined ? 'flag' : deployed?.graceDays ? `deployed runbook ${deployed.graceDays.document}` : 'default',
    },
  };
}

/** What the deployment said and what is in force, as lines for standard error (without the `keyage: ` prefix). */
function decidedLines(shared: Shared, deployed: DeployedSettings, decided: Decided): string[] {
  const exemption = decided.exemptionTag ? formatExemptionTag(decided.exemptionTag) : 'none';
  const where = deployed.rule
    ? `the deployed rule ${deployed.rule.name} in ${shared.region}`
    : deployed.problems.length
      ? `keyage's defaults (the deployed rule in ${shared.region} could not be read)`
      : `keyage's defaults (no keyage rule is deployed in ${shared.region})`;
  return [
    ...deployed.problems.map((problem) => `warning: ${problem}`),
    `using ${where}: MaxAccessKeyAge ${decided.maxAccessKeyAgeDays} (${decided.sources.maxAccessKeyAgeDays}), ExemptionTag ${exemption} (${decided.sources.exemptionTag}), GracePeriodDays ${decided.graceDays} (${decided.sources.graceDays}); flags override.`,
  ];
}

function sayDecided(io: CliIo, shared: Shared, deployed: DeployedSettings, decided: Decided): void {
  for (const line of decidedLines(shared, deployed, decided)) io.stderr(`keyage: ${line}\n`);
}

/** At most this many account IDs on one grouped line of an organization audit. */
const ACCOUNTS_NAMED_PER_LINE = 10;

/**
 * Per-account lines of an organization audit, grouped: one line per distinct message with the
 * accounts it applies to (sorted; at most ACCOUNTS_NAMED_PER_LINE named), so 500 accounts
 * that all use the defaults make one line, not 500, and the output does not depend on which
 * account finished first.
 */
class AccountLines {
  private readonly byLine = new Map<string, string[]>();

  add(account: string, line: string): void {
    const accounts = this.byLine.get(line) ?? [];
    accounts.push(account);
    this.byLine.set(line, accounts);
  }

  print(io: CliIo): void {
    for (const [line, accounts] of [...this.byLine].sort((a, b) => a[0].localeCompare(b[0]))) {
      const sorted = [...accounts].sort();
      const named = sorted.slice(0, ACCOUNTS_NAMED_PER_LINE).join(', ');
      const more = sorted.length > ACCOUNTS_NAMED_PER_LINE ? ` and ${sorted.length - ACCOUNTS_NAMED_PER_LINE} more` : '';
      io.stderr(`keyage: ${sorted.length === 1 ? 'account' : `${sorted.length} accounts`} ${named}${more}: ${line}\n`);
    }
  }
}

/** Config, SSM and KMS clients of the caller's own account: injected, or built as the IAM client is. */
function ownAccountClients(shared: Shared, io: CliIo): { config: ConfigServiceClient; ssm: SSMClient; kms: () => KMSClient } {
  let factory: AwsClientFactory | undefined;
  const built = (): AwsClientFactory => (factory ??= clientFactory(shared, io));
  let kms = io.kms;
  return { config: io.config ?? built().config(), ssm: io.ssm ?? built().ssm(), kms: () => (kms ??= built().kms()) };
}

/** The clients of this run: the injected ones, else built from the profile and Region. */
function clientFactory(shared: Shared, io: CliIo): AwsClientFactory {
  if (io.env === undefined && !shared.verbose) quietNodeVersionWarning(process.env);
  if (shared.profile && !io.iam && !io.clients && io.env === undefined) {
    // The SDK reads a profile's endpoint_url only from the AWS_PROFILE profile, not from the
    // client's `profile` option: so --profile works exactly like AWS_PROFILE, as in the AWS CLI.
    process.env.AWS_PROFILE = shared.profile;
  }
  const built = defaultClientFactory(shared.region, shared.profile);
  const factory: AwsClientFactory = { ...built, ...io.clients };
  const injectedIam = io.iam;
  return injectedIam ? { ...factory, iam: (credentials) => (credentials ? factory.iam(credentials) : injectedIam) } : factory;
}

/**
 * The variable the AWS SDK for JavaScript v3 reads before it prints its Node version warning
 * (`@aws-sdk/core`, `emitWarningIfUnsupportedVersion`; the maintainers give it as the way to
 * silence the warning in aws/aws-sdk-js-v3 issue #7983). Under Node 20 the warning is eight
 * lines on standard error in the middle of every live command's output.
 */
export const SDK_NODE_WARNING_VARIABLE = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * Keep the SDK's Node version warning out of a live command's output, before the first client
 * is built (the SDK warns when a client is made): the supported Node versions are in the README
 * and docs/cli.md, and `--verbose` leaves the warning on. A value the user set is left as it is.
 */
export function quietNodeVersionWarning(env: Record<string, string | undefined>): void {
  env[SDK_NODE_WARNING_VARIABLE] ??= 'true';
}

function newCaller(shared: Shared, io: CliIo): AwsCaller {
  return new AwsCaller({
    ...(io.retry ? { retry: io.retry } : {}),
    ...(io.sleep ? { sleep: io.sleep } : {}),
    pacing: true,
    onRetry: (info) => shared.log.debug('retrying AWS call', { ...info }),
  });
}

function iamReader(shared: Shared, io: CliIo): IamReader {
  const iam = io.iam ?? clientFactory(shared, io).iam();
  return { iam, caller: newCaller(shared, io), log: shared.log };
}

/** Options that make sense only with --organization. */
const ORGANIZATION_ONLY = [
  ['ou', '--ou'],
  ['accounts', '--accounts'],
  ['exclude', '--exclude'],
  ['roleName', '--role-name'],
  ['concurrency', '--concurrency'],
] as const;

async function runAudit(opts: AuditOptions, io: CliIo): Promise<number> {
  const shared = parseShared(opts, io);
  checkOnlyFindings(opts.onlyFindings, opts.format);
  if (opts.csvRaw && opts.format !== 'csv') throw new InvalidParameterError('--csv-raw', true, `only with --format csv (the format is ${opts.format})`);
  if (opts.organization) return runOrganizationAudit(opts, shared, io);
  for (const [key, flag] of ORGANIZATION_ONLY) {
    if (opts[key] !== undefined) throw new InvalidParameterError(flag, opts[key], 'only with --organization');
  }
  let report: AuditReport;
  let decidedSources: ParameterSources | undefined;
  if (opts.credentialReport !== undefined) {
    if (shared.flags.exemptionTag) {
      throw new InvalidParameterError('--exemption-tag', opts.exemptionTag, 'only in a live audit (without --credential-report): the credential report carries no user tags');
    }
    if (opts.recordKey !== undefined) throw new InvalidParameterError('--record-key', opts.recordKey, 'only in a live audit (without --credential-report): the credential report carries no records');
    const decided = decide(shared, null);
    decidedSources = decided.sources;
    const params = { maxAccessKeyAgeDays: decided.maxAccessKeyAgeDays };
    const file = opts.credentialReport;
    const bytes = await readInputFile(file, io.cwd ?? process.cwd(), io.readStdin ?? readProcessStdin);
    const name = file === '-' ? '<stdin>' : file;
    report = withFileName(name, () =>
      auditCredentialReport(bytes, {
        now: shared.now,
        params,
        graceDays: decided.graceDays,
        file: name,
        region: shared.region,
        nowSource: opts.now !== undefined ? '--now' : 'the current time',
        warn: (message) => io.stderr(`keyage: warning: ${visible(message)}\n`),
      }),
    );
  } else {
    const reader = iamReader(shared, io);
    const own = ownAccountClients(shared, io);
    const deployed = await readDeployedSettings({ config: own.config, ssm: own.ssm, caller: reader.caller });
    const decided = decide(shared, deployed);
    sayDecided(io, shared, deployed, decided);
    const key = await resolveRecordKey(own.kms, reader.caller, opts.recordKey ?? DEFAULT_RECORD_KEY, shared.region);
    if (!key.signer) io.stderr(`keyage: note: no record key (${key.why}): deactivation records cannot be verified, so no deletion is planned.\n`);
    const params = { maxAccessKeyAgeDays: decided.maxAccessKeyAgeDays, ...(decided.exemptionTag ? { exemptionTag: decided.exemptionTag } : {}) };
    const progress = createProgress({ write: io.stderr, isTTY: io.stderrIsTTY === true, label: 'keyage: reading access keys' });
    try {
      report = await auditAccount(reader, {
        now: shared.now,
        params,
        graceDays: decided.graceDays,
        region: shared.region,
        profile: shared.profile,
        ...(key.signer ? { signer: key.signer } : {}),
        parameterSources: decided.sources,
        onProgress: (done, total) => progress.update(done, total),
      });
    } finally {
      progress.finish();
    }
    shared.log.debug('live audit done', { calls: reader.caller.stats.attempts });
  }
  let importTo: { factory: AwsClientFactory; caller: AwsCaller; accountId: string } | undefined;
  if (opts.securityHub) {
    // Before anything is printed: an import that cannot work is a usage error, as early as possible.
    const factory = clientFactory(shared, io);
    const caller = newCaller(shared, io);
    const sts = factory.sts();
    try {
      const identity = await callerIdentity(sts, caller);
      if (report.accountId !== null && report.accountId !== identity.accountId) {
        throw new InvalidParameterError(
          '--security-hub',
          true,
          `credentials of the audited account ${report.accountId}: these are of account ${identity.accountId}, and Security Hub accepts an account's findings (default product ARN) only from that account itself`,
        );
      }
      importTo = { factory, caller, accountId: identity.accountId };
    } finally {
      sts.destroy();
    }
  }
  await emit(
    render(opts.onlyFindings ? onlyFindings(report) : report, opts.format, {
      html: htmlContext(io, report.parameters.sources ?? decidedSources),
      table: { ...styleOf(io, opts), onlyFindings: opts.onlyFindings === true },
      csv: { raw: opts.csvRaw === true },
    }),
    opts,
    io,
  );
  const status = hasFindings(report) ? EXIT.findings : EXIT.ok;
  if (!importTo) return status;
  const hub = importTo.factory.securityHub();
  try {
    const result = await importAudit({ securityHub: hub, caller: importTo.caller, ...(io.sleep ? { sleep: io.sleep } : {}) }, report, importTo.accountId, realNow(io));
    return reportImports([result], [], io) ? EXIT.failure : status;
  } catch (err) {
    io.stderr(`keyage: Security Hub import failed: ${messageOf(err)}\n`);
    return EXIT.failure;
  } finally {
    hub.destroy();
  }
}

function realNow(io: CliIo): string {
  return (io.clock ?? (() => new Date()))().toISOString();
}

/** What the HTML page says of its own making: keyage's version, the real clock, where the parameters came from. */
function htmlContext(io: CliIo, parameterSources: ParameterSources | undefined): HtmlContext {
  return { version, generatedAt: realNow(io), ...(parameterSources ? { parameterSources } : {}) };
}

/**
 * Print the report, or write it to `--output FILE` (resolved against the working directory) and
 * say where on standard error. A file that cannot be written is a usage error naming the option.
 */
async function emit(chunks: Iterable<string>, opts: Pick<AuditOptions, 'output'>, io: CliIo): Promise<void> {
  if (opts.output === undefined) {
    writeChunked(io.stdout, chunks);
    return;
  }
  if (opts.output.trim() === '' || opts.output === '-') {
    throw new InvalidParameterError('--output', opts.output, 'a file name (leave --output out to print to standard output)');
  }
  const path = resolvePath(io.cwd ?? process.cwd(), opts.output);
  let bytes = 0;
  try {
    if (io.writeFile) {
      const text = [...chunks].join('');
      bytes = Buffer.byteLength(text, 'utf8');
      await io.writeFile(path, text);
    } else {
      // In batches, as standard output is written: a report too large for one string still fits a file.
      const fd = openSync(path, 'w');
      try {
        writeChunked((batch) => {
          bytes += Buffer.byteLength(batch, 'utf8');
          writeSync(fd, batch, null, 'utf8');
        }, chunks);
      } finally {
        closeSync(fd);
      }
    }
  } catch (err) {
    const why = typeof (err as { message?: unknown } | null)?.message === 'string' ? (err as { message: string }).message : String(err);
    throw new InvalidParameterError('--output', opts.output, `a file keyage can write (${why})`);
  }
  io.stderr(`keyage: wrote the report to ${opts.output} (${bytes} bytes).\n`);
}

/** Tell each import on standard error; true when any failed. */
function reportImports(results: readonly ImportResult[], failures: readonly string[], io: CliIo): boolean {
  for (const r of results) {
    io.stderr(`keyage: ${describeImport(r)}\n`);
    if (r.refused.length > 0) io.stderr(`keyage: ${new FindingsNotImportedError(r).message}\n`);
  }
  for (const f of failures) io.stderr(`keyage: ${f}\n`);
  return failures.length > 0 || results.some((r) => r.refused.length > 0);
}

async function runOrganizationAudit(opts: AuditOptions, shared: Shared, io: CliIo): Promise<number> {
  if (opts.credentialReport !== undefined) {
    throw new InvalidParameterError('--credential-report', opts.credentialReport, 'not with --organization (the organization audit reads each account live)');
  }
  if (opts.ou !== undefined && opts.accounts !== undefined) {
    throw new InvalidParameterError('--accounts', opts.accounts, 'either --accounts or --ou, not both');
  }
  const selection = {
    organizationalUnits: opts.ou !== undefined ? parseOrganizationalUnitIds(opts.ou) : null,
    accounts: opts.accounts !== undefined ? parseAccountIds(opts.accounts, '--accounts') : null,
    exclude: opts.exclude !== undefined ? parseAccountIds(opts.exclude, '--exclude') : [],
  };
  const roleName = parseRoleName(opts.roleName ?? DEFAULT_AUDIT_ROLE_NAME);
  const concurrency = parseConcurrency(opts.concurrency, DEFAULT_ACCOUNT_CONCURRENCY);
  if (opts.recordKey !== undefined && opts.recordKey !== DEFAULT_RECORD_KEY && opts.recordKey !== 'none') {
    throw new InvalidParameterError('--record-key', opts.recordKey, `with --organization, ${DEFAULT_RECORD_KEY} (each account's own record key) or none`);
  }
  const factory = clientFactory(shared, io);
  const fallback = decide(shared, null);
  const params = { maxAccessKeyAgeDays: fallback.maxAccessKeyAgeDays, ...(fallback.exemptionTag ? { exemptionTag: fallback.exemptionTag } : {}) };
  const imports: ImportResult[] = [];
  const importFailures: string[] = [];
  const progress = createProgress({ write: io.stderr, isTTY: io.stderrIsTTY === true, label: 'keyage: auditing accounts', threshold: 1 });
  const accountLines = new AccountLines();
  let report: OrganizationAuditReport;
  try {
    report = await auditOrganization({
      clients: factory,
      now: shared.now,
      params,
      graceDays: fallback.graceDays,
      region: shared.region,
      profile: shared.profile,
      roleName,
      // Each account is judged as its own deployment judges: its rule, its runbook, its record key.
      settingsFor: async (ctx) => {
        const config = factory.config(ctx.credentials);
        const ssm = factory.ssm(ctx.credentials);
        try {
          const deployed = await readDeployedSettings({ config, ssm, caller: ctx.reader.caller });
          const decided = decide(shared, deployed);
          for (const line of decidedLines(shared, deployed, decided)) accountLines.add(ctx.account.accountId, line);
          const key = await resolveRecordKey(() => factory.kms(ctx.credentials), ctx.reader.caller, opts.recordKey ?? DEFAULT_RECORD_KEY, shared.region);
          if (!key.signer) accountLines.add(ctx.account.accountId, `note: no record key (${key.why}): no deletion is planned there.`);
          return {
            params: { maxAccessKeyAgeDays: decided.maxAccessKeyAgeDays, ...(decided.exemptionTag ? { exemptionTag: decided.exemptionTag } : {}) },
            graceDays: decided.graceDays,
            sources: decided.sources,
            ...(key.signer ? { signer: key.signer } : {}),
          };
        } finally {
          config.destroy();
          ssm.destroy();
        }
      },
      selection,
      concurrency,
      log: shared.log,
      caller: { ...(io.retry ? { retry: io.retry } : {}), ...(io.sleep ? { sleep: io.sleep } : {}) },
      onProgress: (done, total) => progress.update(done, total),
      ...(opts.securityHub
        ? {
            afterAccount: async (ctx, accountReport) => {
              const hub = factory.securityHub(ctx.credentials);
              try {
                imports.push(await importAudit({ securityHub: hub, caller: ctx.reader.caller, ...(io.sleep ? { sleep: io.sleep } : {}) }, accountReport, ctx.account.accountId, realNow(io)));
              } catch (err) {
                importFailures.push(`Security Hub import for account ${ctx.account.accountId} failed: ${messageOf(err)}`);
              } finally {
                hub.destroy();
              }
            },
          }
        : {}),
    });
  } finally {
    progress.finish();
    accountLines.print(io);
  }
  await emit(
    renderOrganization(opts.onlyFindings ? organizationOnlyFindings(report) : report, opts.format, {
      html: htmlContext(io, fallback.sources),
      table: { ...styleOf(io, opts), onlyFindings: opts.onlyFindings === true },
      csv: { raw: opts.csvRaw === true },
    }),
    opts,
    io,
  );
  const notAudited = report.accounts.filter((e) => !e.audited);
  if (notAudited.length > 0) {
    io.stderr(`keyage: ${notAudited.length} of ${report.accounts.length} account${report.accounts.length === 1 ? '' : 's'} not audited:\n`);
    for (const e of notAudited) io.stderr(`keyage:   ${visible(`${e.accountId}${e.name ? ` (${e.name})` : ''}: ${e.reason}`)}\n`);
  }
  const importFailed = opts.securityHub ? reportImports([...imports].sort((a, b) => a.accountId.localeCompare(b.accountId)), importFailures, io) : false;
  if (organizationIncomplete(report) || importFailed) return EXIT.failure;
  return organizationHasFindings(report) ? EXIT.findings : EXIT.ok;
}

/** How the output shows a table: its width and colour when it is standard output on a terminal (never in a file). */
function styleOf(io: CliIo, opts: { output?: string | undefined }): TableStyle {
  const terminal = io.stdoutIsTTY === true && opts.output === undefined;
  return tableStyle({ isTTY: terminal, ...(io.stdoutColumns !== undefined ? { columns: io.stdoutColumns } : {}), env: io.env ?? process.env });
}

/** What the formats need besides the report: the page's context (html), the table's style, the CSV cells' treatment. */
interface RenderOptions {
  readonly html: HtmlContext;
  readonly table: AuditTableOptions;
  readonly csv: CsvOptions;
}

/** The output in pieces (`emit` writes them): the JSON formats a user or finding at a time. */
function renderOrganization(report: OrganizationAuditReport, format: AuditFormat, { html, table, csv }: RenderOptions): Iterable<string> {
  switch (format) {
    case 'html':
      return [formatOrganizationHtml(report, html)];
    case 'json':
      return organizationJsonChunks(report);
    case 'csv':
      return [formatOrganizationCsv(report, csv)];
    case 'asff':
      return organizationAsffChunks(report);
    case 'table':
      return [formatOrganizationTable(report, table)];
  }
}

/** How far `--now` may be from the real clock when `--apply` writes to IAM without `--replay`. */
export const CLOCK_TOLERANCE_MINUTES = 5;

async function runRemediate(opts: RemediateOptions, io: CliIo): Promise<number> {
  const shared = parseShared(opts, io);
  // A deactivation record dated in the past would shorten the grace period of the real delete
  // runbook; one dated in the future would deactivate a key that is not stale yet. Applying
  // with a moved clock is for replays in a test account, and must be asked for.
  const real = (io.clock ?? (() => new Date()))();
  if (opts.apply && opts.now !== undefined && !opts.replay && Math.abs(shared.now.getTime() - real.getTime()) > CLOCK_TOLERANCE_MINUTES * 60_000) {
    throw new InvalidParameterError(
      '--now',
      opts.now,
      `a time within ${CLOCK_TOLERANCE_MINUTES} minutes of the current time (${real.toISOString()}) when --apply writes to IAM, because deactivation records are dated --now and the delete stage counts the grace period from them; add --replay to replay a key's life in a test account`,
    );
  }
  const target = parseOneUser(opts.user);
  const reader = iamReader(shared, io);
  const own = ownAccountClients(shared, io);
  const deployed = await readDeployedSettings({ config: own.config, ssm: own.ssm, caller: reader.caller });
  const decided = decide(shared, deployed);
  if (opts.apply && deployed.problems.length > 0 && (shared.flags.maxAccessKeyAgeDays === undefined || shared.flags.exemptionTag === undefined)) {
    throw new InvalidParameterError(
      '--apply',
      true,
      `--max-age and --exemption-tag given explicitly (--exemption-tag '' for none), because the deployed rule's parameters could not be read (${deployed.problems.join('; ')}) and keyage will not guess which users are exempt before changing IAM`,
    );
  }
  sayDecided(io, shared, deployed, decided);
  const key = await resolveRecordKey(own.kms, reader.caller, opts.recordKey ?? DEFAULT_RECORD_KEY, shared.region);
  if (!key.signer) {
    io.stderr(
      opts.apply
        ? `keyage: warning: no record key (${key.why}): the records this run writes are unsigned, and keyage will never delete these keys later. Name the key with --record-key, or let the deployed runbooks act.\n`
        : `keyage: note: no record key (${key.why}): records cannot be verified, so no deletion is planned.\n`,
    );
  }
  const request: RemediateRequest = {
    target,
    apply: opts.apply === true,
    deleteStage: opts.delete === true,
    now: shared.now,
    maxAccessKeyAgeDays: decided.maxAccessKeyAgeDays,
    graceDays: decided.graceDays,
    ...(decided.exemptionTag ? { exemptionTag: decided.exemptionTag } : {}),
    sources: decided.sources,
  };
  const print = (result: RemediateResult) => io.stdout(opts.format === 'json' ? formatRemediationJson(result) : formatRemediationTable(result, styleOf(io, {})));
  let result: RemediateResult;
  try {
    result = await remediateUser({ ...reader, ...(key.signer ? { signer: key.signer } : {}) }, request);
  } catch (err) {
    if (err instanceof RemediateFailedError) {
      print(err.result);
      io.stderr(`keyage: ${err.message}\n`);
      return EXIT.failure;
    }
    throw err;
  }
  print(result);
  return leavesNonCompliantKeys(result) ? EXIT.findings : EXIT.ok;
}

/** The output in pieces (`emit` writes them): the JSON formats a user or finding at a time. */
function render(report: AuditReport, format: AuditFormat, { html, table, csv }: RenderOptions): Iterable<string> {
  switch (format) {
    case 'html':
      return [formatAuditHtml(report, html)];
    case 'json':
      return auditJsonChunks(report);
    case 'csv':
      return [formatAuditCsv(report, csv)];
    case 'asff':
      return auditAsffChunks(report);
    case 'table':
      return [formatAuditTable(report, table)];
  }
}

const NETWORK_CODES = new Set(['ENOTFOUND', 'ECONNREFUSED', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'UND_ERR_SOCKET', 'TimeoutError']);

/** When a call could not reach its endpoint and an endpoint override is set, say which. */
function endpointHint(err: unknown, io: CliIo): string {
  const network = NETWORK_CODES.has(awsErrorCode(err) ?? '') || /\b(ENOTFOUND|ECONNREFUSED|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH)\b/.test(messageOf(err));
  if (!network) return '';
  let endpoints: Readonly<Record<string, string>>;
  try {
    endpoints = resolveAwsSettings({}, io.env ?? process.env).endpoints;
  } catch {
    return '';
  }
  const set = Object.entries(endpoints);
  if (set.length === 0) return '';
  return ` (the endpoint is set by ${set.map(([name, url]) => `${name}=${url}`).join(', ')}: is it right, and is the service listening there?)`;
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    // commander has already written its message (or the help) to stderr/stdout
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof AwsAccessDeniedError || err instanceof AwsCallError || err instanceof UnexpectedResponseError) {
    io.stderr(`keyage: ${visible(err.message)}${endpointHint(err, io)}\n`);
    return EXIT.failure;
  }
  if (err instanceof KeyageError) {
    io.stderr(`keyage: ${visible(err.message)}\n`);
    return EXIT.usage;
  }
  if (isSdkFailure(err)) {
    io.stderr(`keyage: AWS call failed: ${visible(messageOf(err))}${endpointHint(err, io)}\n`);
    return EXIT.failure;
  }
  io.stderr(`keyage: internal error (a fault in keyage, not in the input or in AWS; please report it with the command that caused it): ${visible(describeInternal(err))}\n`);
  return EXIT.internal;
}

/** An error the AWS SDK raised that did not pass through `AwsCaller` (which names every failure it sees). */
function isSdkFailure(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const name = (err as { name?: unknown }).name;
  return '$metadata' in err || '$fault' in err || name === 'CredentialsProviderError' || name === 'TokenProviderError' || NETWORK_CODES.has(awsErrorCode(err) ?? '');
}

/** `RangeError: Maximum call stack size exceeded`: the class tells a bug apart from its message. */
function describeInternal(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return messageOf(err);
}
