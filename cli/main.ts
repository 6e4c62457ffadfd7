/**
 * The `keyage` command line.
 *
 *   keyage audit --credential-report FILE   offline, from `aws iam get-credential-report`
 *   keyage audit                            live, read-only, default AWS credential chain
 *   keyage remediate --user NAME            the runbooks' remediation for one user; dry run
 *                                           unless --apply
 *   keyage pack --account ID --region R     the conformance pack rendered with literal values
 *
 * `main()` runs in-process (argv, output writers, environment and clients injected), so the
 * tests drive it without spawning; `run()` is what the `keyage` bin calls.
 *
 * Exit status: 0 all compliant (or the remediation did what it planned), 1 something is not
 * compliant, 2 a usage or input error (the message names the option, or the file, line and
 * column), 3 AWS refused or failed a call, or answered something unreadable (or an
 * unexpected failure): never 0 or 1 then, so a failure can never pass for a verdict.
 */
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { Command, CommanderError, Option } from 'commander';
import { version } from '../package.json';
import { AwsCaller, type RetryPolicy } from '../lib/aws-call';
import { createConfigClient, createIamClient, createKmsClient, createSsmClient } from '../lib/clients';
import { type DeployedSettings, readDeployedSettings } from '../lib/deployed-rule';
import { AwsAccessDeniedError, AwsCallError, InvalidParameterError, KeyageError, messageOf, UnexpectedResponseError } from '../lib/errors';
import { createLogger, type Logger } from '../lib/log';
import type { IamReader } from '../rules/access-key-age/iam';
import { DEFAULT_MAX_ACCESS_KEY_AGE_DAYS, type ExemptionTag, formatExemptionTag, parseExemptionTag, parseMaxAccessKeyAge } from '../rules/access-key-age/parameters';
import { parseGracePeriodDays, parseUserTarget } from '../remediation/parameters';
import { DEFAULT_GRACE_PERIOD_DAYS } from '../remediation/plan';
import { auditCredentialReport } from './audit-credential-report';
import { auditAccount } from './audit-live';
import { type AuditReport, hasFindings } from './audit-report';
import { formatAuditAsff } from './format-asff';
import { formatAuditCsv } from './format-csv';
import { formatAuditJson } from './format-json';
import { formatAuditTable } from './format-table';
import { readInputFile, readProcessStdin, withFileName } from './input';
import { formatRemediationJson, formatRemediationTable } from './format-remediation';
import { AUDIT_FORMATS, type AuditFormat, parseNow, parseRegion, REMEDIATE_FORMATS, type RemediateFormat } from './options';
import { DEFAULT_RECORD_KEY, resolveRecordKey } from './record-key';
import { type ParameterSources, leavesNonCompliantKeys, RemediateFailedError, type RemediateRequest, type RemediateResult, remediateUser } from './remediate';
import { bundledPackTemplate, registerPackCommand } from './pack';
import { createProgress } from './progress';

/** Exit statuses. */
export const EXIT = { ok: 0, findings: 1, usage: 2, failure: 3 } as const;

/** Everything the command line touches outside itself; all optional but the writers. */
export interface CliIo {
  /** Standard output (results only). */
  readonly stdout: (text: string) => void;
  /** Standard error (messages, progress, logs). */
  readonly stderr: (text: string) => void;
  /** Draw the progress indicator (standard error is a terminal). @default false */
  readonly stderrIsTTY?: boolean;
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
  /** An IAM client to use instead of building one from the default credential chain. */
  readonly iam?: IAMClient;
  /** Clients for the deployed rule (Config), the deployed runbook (SSM) and the record key (KMS), likewise. */
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
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit status: 0 all compliant, 1 something is not compliant, 2 usage or input error,
3 an AWS call was refused or failed.

Examples:
  keyage audit --credential-report examples/credential-report.csv --now 2026-11-25T12:00:00Z
  aws iam get-credential-report --output json | keyage audit --credential-report - --format json
  keyage audit --profile security-audit --format asff > findings.json
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
    .addOption(new Option('--format <format>', 'output format').choices(AUDIT_FORMATS).default('table'));
  addSharedOptions(audit);
  audit.addHelpText(
    'after',
    `
Live audits need iam:GetAccountAuthorizationDetails (users with their tags, 1,000 a call),
iam:ListAccessKeys and iam:GetAccessKeyLastUsed; for their defaults config:DescribeConfigRules
(the deployed rule's MaxAccessKeyAge and ExemptionTag) and ssm:DescribeDocument (the deployed
delete runbook's GracePeriodDays); to verify deactivation records kms:DescribeKey and
kms:VerifyMac on the record key. They change nothing.`,
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
    .requiredOption('--user <name>', 'the IAM user name (or user ID, AIDA…)')
    .option('--apply', 'make the changes (default: dry run, change nothing)')
    .option('--delete', 'include stage 2: delete keys keyage deactivated once the grace period has passed')
    .option(
      '--replay',
      `with --apply, allow a --now more than ${CLOCK_TOLERANCE_MINUTES} minutes from the current time, to replay a key's life in a test account (records are dated --now)`,
    )
    .addOption(new Option('--format <format>', 'output format').choices(REMEDIATE_FORMATS).default('table'));
  addSharedOptions(remediate);
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
plans a deactivation), 2 usage error or no such user, 3 an AWS call was refused or failed.`,
  );
  remediate.action(async (opts: RemediateOptions) => {
    setStatus(await runRemediate(opts, io));
  });

  registerPackCommand(program, io, bundledPackTemplate);

  return program;
}

function addSharedOptions(cmd: Command): void {
  cmd
    .option(
      '--max-age <days>',
      `a key older than this many whole days is stale; a key exactly this old is not (the rule's MaxAccessKeyAge; default: the deployed rule's when live, else ${DEFAULT_MAX_ACCESS_KEY_AGE_DAYS})`,
    )
    .option('--exemption-tag <key[=value]>', 'users carrying this tag are exempt (the rule\'s ExemptionTag; default: the deployed rule\'s; \'\' for none); live only: the credential report has no tags')
    .option('--grace-days <days>', `days a deactivated key stays before the delete stage removes it (default: the deployed delete runbook's when live, else ${DEFAULT_GRACE_PERIOD_DAYS})`)
    .option('--record-key <key>', `live only: the KMS key that signs and verifies deactivation records, by alias, ID or ARN, or "none" (default ${DEFAULT_RECORD_KEY})`)
    .option('--now <time>', 'the clock for every decision and record, ISO 8601 (e.g. 2026-11-25T12:00:00Z); default: the current time')
    .option('--region <region>', 'AWS region for the SDK and for findings (default: AWS_REGION, else us-east-1)')
    .option('--profile <name>', 'named profile from the shared AWS config files (default: the default credential chain)')
    .option('--verbose', 'log each action and AWS retry as JSON lines on standard error');
}

interface Shared {
  now: Date;
  /** The decision parameters the flags give; absent when the flag was not given. `exemptionTag: null` is "none", given explicitly. */
  flags: { maxAccessKeyAgeDays?: number; exemptionTag?: ExemptionTag | null; graceDays?: number };
  region: string;
  profile: string | null;
  log: Logger;
}

/** The decision parameters in force, and where each came from. */
interface Decided {
  maxAccessKeyAgeDays: number;
  exemptionTag?: ExemptionTag;
  graceDays: number;
  sources: ParameterSources;
}

function parseShared(opts: SharedOptions, io: CliIo): Shared {
  const env = io.env ?? process.env;
  const clock = io.clock ?? (() => new Date());
  const exemptionTag = parseExemptionTag(opts.exemptionTag, '--exemption-tag');
  return {
    now: parseNow(opts.now, clock),
    flags: {
      ...(opts.maxAge !== undefined ? { maxAccessKeyAgeDays: parseMaxAccessKeyAge(opts.maxAge, '--max-age') } : {}),
      ...(opts.exemptionTag !== undefined ? { exemptionTag: exemptionTag ?? null } : {}),
      ...(opts.graceDays !== undefined ? { graceDays: parseGracePeriodDays(opts.graceDays, '--grace-days') } : {}),
    },
    region: parseRegion(opts.region, env.AWS_REGION ?? env.AWS_DEFAULT_REGION),
    profile: opts.profile ?? null,
    log: createLogger({ level: opts.verbose ? 'debug' : 'warn', sink: (line) => io.stderr(`${line}\n`), clock }),
  };
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

/** One line on standard error: what the deployment said and what is in force. */
function sayDecided(io: CliIo, shared: Shared, deployed: DeployedSettings, decided: Decided): void {
  for (const problem of deployed.problems) io.stderr(`keyage: warning: ${problem}\n`);
  const exemption = decided.exemptionTag ? formatExemptionTag(decided.exemptionTag) : 'none';
  const where = deployed.rule ? `the deployed rule ${deployed.rule.name} in ${shared.region}` : deployed.problems.length ? `keyage's defaults (the deployed rule in ${shared.region} could not be read)` : `keyage's defaults (no keyage rule is deployed in ${shared.region})`;
  io.stderr(
    `keyage: using ${where}: MaxAccessKeyAge ${decided.maxAccessKeyAgeDays} (${decided.sources.maxAccessKeyAgeDays}), ExemptionTag ${exemption} (${decided.sources.exemptionTag}), GracePeriodDays ${decided.graceDays} (${decided.sources.graceDays}); flags override.\n`,
  );
}

/** Config, SSM and KMS clients as the IAM client is built: injected, or from the credential chain. */
function otherClients(shared: Shared, io: CliIo): { config: ConfigServiceClient; ssm: SSMClient; kms: () => KMSClient } {
  const options = { region: shared.region, ...(shared.profile ? { profile: shared.profile } : {}) };
  let kms = io.kms;
  return { config: io.config ?? createConfigClient(options), ssm: io.ssm ?? createSsmClient(options), kms: () => (kms ??= createKmsClient(options)) };
}

function iamReader(shared: Shared, io: CliIo): IamReader {
  if (shared.profile && !io.iam && io.env === undefined) {
    // The SDK reads a profile's endpoint_url only from the AWS_PROFILE profile, not from the
    // client's `profile` option: so --profile works exactly like AWS_PROFILE, as in the AWS CLI.
    process.env.AWS_PROFILE = shared.profile;
  }
  const iam = io.iam ?? createIamClient({ region: shared.region, ...(shared.profile ? { profile: shared.profile } : {}) });
  const caller = new AwsCaller({
    ...(io.retry ? { retry: io.retry } : {}),
    ...(io.sleep ? { sleep: io.sleep } : {}),
    pacing: true,
    onRetry: (info) => shared.log.debug('retrying AWS call', { ...info }),
  });
  return { iam, caller, log: shared.log };
}

async function runAudit(opts: AuditOptions, io: CliIo): Promise<number> {
  const shared = parseShared(opts, io);
  let report: AuditReport;
  if (opts.credentialReport !== undefined) {
    if (shared.flags.exemptionTag) {
      throw new InvalidParameterError('--exemption-tag', opts.exemptionTag, 'only in a live audit (without --credential-report): the credential report carries no user tags');
    }
    if (opts.recordKey !== undefined) throw new InvalidParameterError('--record-key', opts.recordKey, 'only in a live audit (without --credential-report): the credential report carries no records');
    const decided = decide(shared, null);
    const params = { maxAccessKeyAgeDays: decided.maxAccessKeyAgeDays };
    const file = opts.credentialReport;
    const bytes = await readInputFile(file, io.cwd ?? process.cwd(), io.readStdin ?? readProcessStdin);
    const name = file === '-' ? '<stdin>' : file;
    report = withFileName(name, () => auditCredentialReport(bytes, { now: shared.now, params, graceDays: decided.graceDays, file: name, region: shared.region }));
  } else {
    const reader = iamReader(shared, io);
    const clients = otherClients(shared, io);
    const deployed = await readDeployedSettings({ config: clients.config, ssm: clients.ssm, caller: reader.caller });
    const decided = decide(shared, deployed);
    sayDecided(io, shared, deployed, decided);
    const key = await resolveRecordKey(clients.kms, reader.caller, opts.recordKey ?? DEFAULT_RECORD_KEY, shared.region);
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
  io.stdout(render(report, opts.format));
  return hasFindings(report) ? EXIT.findings : EXIT.ok;
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
  const target = parseUserTarget(opts.user, '--user');
  if ('allUsers' in target) {
    throw new InvalidParameterError('--user', opts.user, 'one IAM user name or user ID (AIDA…); keyage remediate acts on one user at a time');
  }
  const reader = iamReader(shared, io);
  const clients = otherClients(shared, io);
  const deployed = await readDeployedSettings({ config: clients.config, ssm: clients.ssm, caller: reader.caller });
  const decided = decide(shared, deployed);
  if (opts.apply && deployed.problems.length > 0 && (shared.flags.maxAccessKeyAgeDays === undefined || shared.flags.exemptionTag === undefined)) {
    throw new InvalidParameterError(
      '--apply',
      true,
      `--max-age and --exemption-tag given explicitly (--exemption-tag '' for none), because the deployed rule's parameters could not be read (${deployed.problems.join('; ')}) and keyage will not guess which users are exempt before changing IAM`,
    );
  }
  sayDecided(io, shared, deployed, decided);
  const key = await resolveRecordKey(clients.kms, reader.caller, opts.recordKey ?? DEFAULT_RECORD_KEY, shared.region);
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
  const print = (result: RemediateResult) => io.stdout(opts.format === 'json' ? formatRemediationJson(result) : formatRemediationTable(result));
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

function render(report: AuditReport, format: AuditFormat): string {
  switch (format) {
    case 'json':
      return formatAuditJson(report);
    case 'csv':
      return formatAuditCsv(report);
    case 'asff':
      return formatAuditAsff(report);
    case 'table':
      return formatAuditTable(report);
  }
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    // commander has already written its message (or the help) to stderr/stdout
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof AwsAccessDeniedError || err instanceof AwsCallError || err instanceof UnexpectedResponseError) {
    io.stderr(`keyage: ${err.message}\n`);
    return EXIT.failure;
  }
  if (err instanceof KeyageError) {
    io.stderr(`keyage: ${err.message}\n`);
    return EXIT.usage;
  }
  io.stderr(`keyage: unexpected failure: ${messageOf(err)}\n`);
  return EXIT.failure;
}
