/**
 * `keyage audit --organization`: the live audit of every account of an AWS Organization, from
 * the management account or a delegated administrator, read-only.
 *
 *   1. `sts:GetCallerIdentity` tells the caller's account and partition.
 *   2. Organizations lists the accounts: `ListAccounts` for the whole organization (and for
 *      `--accounts`, which must all be in it), or `ListOrganizationalUnitsForParent` and
 *      `ListAccountsForParent` walked down from each `--ou` (OUs and their children); then
 *      `--exclude`. Every list is paged until NextToken is empty (Organizations may answer an
 *      empty page with a NextToken). An account whose `State` (else `Status`) is not ACTIVE is
 *      reported as not audited.
 *   3. Up to `concurrency` accounts at once, each: `sts:AssumeRole` into
 *      `arn:<partition>:iam::<account>:role/<roleName>` (the caller's own account is audited with
 *      the caller's credentials), then the single-account live audit (`auditAccount`) with an
 *      `AwsCaller` of its own — so IAM's per-account throttling paces each account apart — and
 *      `iam:GetAccountSummary` for whether the root user has access keys. Credentials are
 *      refreshed before they expire, so an audit may outlast a role session.
 *   4. An account that cannot be audited (not ACTIVE, role missing or not trusting the caller,
 *      access denied, a call that kept failing) becomes an entry with its reason; every other
 *      account's results are kept. Nothing is ever guessed for an account that failed.
 *
 * Per-account parameters: `parametersFor` is asked for each account's MaxAccessKeyAge and
 * ExemptionTag (with that account's IAM reader, so it can read the account's own deployed
 * configuration); by default every account gets the command line's.
 */
import { GetAccountSummaryCommand, type IAMClient } from '@aws-sdk/client-iam';
import { type Account, ListAccountsCommand, ListAccountsForParentCommand, ListOrganizationalUnitsForParentCommand, type OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { AwsCaller, type AwsCallerOptions, awsErrorCode } from '../lib/aws-call';
import { AwsAccessDeniedError, AwsCallError, InvalidParameterError, KeyageError, messageOf, UnexpectedResponseError } from '../lib/errors';
import type { Logger } from '../lib/log';
import type { IamReader } from '../rules/access-key-age/iam';
import { formatExemptionTag } from '../rules/access-key-age/parameters';
import type { RecordSigner } from '../remediation/records';
import { type ClientCredentials, refreshingCredentials, type AwsClientFactory } from './aws-clients';
import { auditAccount } from './audit-live';
import { MEMBER_AUDIT_ACTIONS } from './permissions';
import { type AuditReport, type DecisionParameters, rootFromSummary, summarize } from './audit-report';
import {
  type AccountEntry,
  type AccountFailure,
  type AccountSelection,
  auditedEntry,
  notAuditedEntry,
  type OrganizationAccount,
  type OrganizationAuditReport,
  ORGANIZATION_SCHEMA_VERSION,
  summarizeOrganization,
} from './organization-report';
import { mapWithConcurrency } from './pool';

export { MEMBER_AUDIT_ACTIONS, ORGANIZATION_CALLER_ACTIONS } from './permissions';

/** The role the member stack creates for the organization audit. */
export const DEFAULT_AUDIT_ROLE_NAME = 'keyage-audit';

/** Accounts audited at once. */
export const DEFAULT_ACCOUNT_CONCURRENCY = 4;

/** The session name of every assumed role (CloudTrail shows it). */
export const AUDIT_SESSION_NAME = 'keyage-audit';

/** What an account's audit has to work with. */
export interface AccountContext {
  readonly account: OrganizationAccount;
  /** The account's IAM reader: its own client, caller (pacing) and logger. */
  readonly reader: IamReader;
  /** The credentials the account is read with: an assumed role's, or `undefined` for the caller's own. */
  readonly credentials: ClientCredentials;
  readonly roleArn: string | null;
}

/** What one account is audited with: its parameters, grace period, their sources and the record key that verifies its records. */
export interface AccountSettings {
  readonly params: DecisionParameters;
  readonly graceDays?: number;
  readonly sources?: { readonly maxAccessKeyAgeDays: string; readonly exemptionTag: string; readonly graceDays: string };
  readonly signer?: RecordSigner;
}

/** Resolves what one account is audited with (e.g. from its deployed Config rule). */
export type ParameterResolver = (ctx: AccountContext) => Promise<AccountSettings>;

/** How to audit the organization. */
export interface OrganizationAuditOptions {
  readonly clients: AwsClientFactory;
  readonly now: Date;
  /** The command line's parameters: every account's, unless `parametersFor` says otherwise. */
  readonly params: DecisionParameters;
  readonly graceDays: number;
  readonly region: string;
  readonly profile: string | null;
  readonly roleName: string;
  readonly selection: AccountSelection;
  /** Accounts at once. @default DEFAULT_ACCOUNT_CONCURRENCY */
  readonly concurrency?: number;
  /** Users read at once within one account. @default the live audit's (8) */
  readonly userConcurrency?: number;
  readonly log: Logger;
  /** Retry, pacing, sleep and clock for every AwsCaller (tests shorten them). */
  readonly caller?: AwsCallerOptions;
  /** Per-account settings. @default every account gets `params` and `graceDays`, and no record key */
  readonly settingsFor?: ParameterResolver;
  /**
   * Called with each account's complete report, in that account's worker, with its credentials
   * (the Security Hub import). Its failure is its own to report: the audit stands.
   */
  readonly afterAccount?: (ctx: AccountContext, report: AuditReport) => Promise<void>;
  /** Called when an account is done. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** The caller's account and partition. */
export interface CallerIdentity {
  readonly accountId: string;
  readonly partition: string;
  readonly arn: string;
}

const ACCOUNT_ID = /^\d{12}$/;
const CALLER_ARN = /^arn:(aws[a-z-]*):/;

/** `sts:GetCallerIdentity` (no permission needed). */
export async function callerIdentity(sts: STSClient, caller: AwsCaller): Promise<CallerIdentity> {
  const out = await caller.call('sts:GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})));
  const partition = CALLER_ARN.exec(out.Arn ?? '')?.[1];
  if (!out.Account || !ACCOUNT_ID.test(out.Account) || !partition) {
    throw new UnexpectedResponseError('sts:GetCallerIdentity', `no account ID or ARN keyage can read (${out.Account ?? '?'}, ${out.Arn ?? '?'})`);
  }
  return { accountId: out.Account, partition, arn: out.Arn as string };
}

function toAccount(a: Account, operation: string): OrganizationAccount {
  if (!a.Id || !ACCOUNT_ID.test(a.Id)) throw new UnexpectedResponseError(operation, `an account without a 12-digit Id (${a.Id ?? '?'})`);
  return { accountId: a.Id, name: a.Name ?? '', state: String(a.State ?? a.Status ?? 'UNKNOWN') };
}

async function pages<T>(operation: string, fetch: (token: string | undefined) => Promise<{ items: T[]; next: string | undefined }>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await fetch(token);
    all.push(...page.items);
    token = page.next || undefined;
    if (token !== undefined) {
      if (seen.has(token)) throw new UnexpectedResponseError(operation, 'the same NextToken came back twice');
      seen.add(token);
    }
  } while (token);
  return all;
}

/** Every account of the organization (`ListAccounts`), paged to the end. */
export async function listOrganizationAccounts(orgs: OrganizationsClient, caller: AwsCaller): Promise<OrganizationAccount[]> {
  const accounts = await pages('organizations:ListAccounts', async (token) => {
    const out = await caller.call('organizations:ListAccounts', () => orgs.send(new ListAccountsCommand({ ...(token ? { NextToken: token } : {}) })));
    return { items: (out.Accounts ?? []).map((a) => toAccount(a, 'organizations:ListAccounts')), next: out.NextToken };
  });
  return accounts;
}

/**
 * The accounts in the given OUs or roots and every OU beneath them (`ListOrganizationalUnitsForParent`,
 * `ListAccountsForParent`), each once.
 * @throws InvalidParameterError naming `--ou` for an OU the organization does not have.
 */
export async function listAccountsUnder(orgs: OrganizationsClient, caller: AwsCaller, parents: readonly string[]): Promise<OrganizationAccount[]> {
  const found = new Map<string, OrganizationAccount>();
  const visited = new Set<string>();
  const queue = [...parents];
  while (queue.length > 0) {
    const parent = queue.shift() as string;
    if (visited.has(parent)) continue;
    visited.add(parent);
    try {
      const children = await pages('organizations:ListOrganizationalUnitsForParent', async (token) => {
        const out = await caller.call('organizations:ListOrganizationalUnitsForParent', () =>
          orgs.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parent, ...(token ? { NextToken: token } : {}) })),
        );
        return { items: (out.OrganizationalUnits ?? []).map((ou) => ou.Id).filter((id): id is string => typeof id === 'string'), next: out.NextToken };
      });
      queue.push(...children);
      const accounts = await pages('organizations:ListAccountsForParent', async (token) => {
        const out = await caller.call('organizations:ListAccountsForParent', () =>
          orgs.send(new ListAccountsForParentCommand({ ParentId: parent, ...(token ? { NextToken: token } : {}) })),
        );
        return { items: (out.Accounts ?? []).map((a) => toAccount(a, 'organizations:ListAccountsForParent')), next: out.NextToken };
      });
      for (const a of accounts) found.set(a.accountId, a);
    } catch (err) {
      const code = awsErrorCode(err);
      if (parents.includes(parent) && (code === 'ParentNotFoundException' || code === 'InvalidInputException')) {
        throw new InvalidParameterError('--ou', parent, `the ID of an OU or root of the organization (Organizations answered ${code})`);
      }
      throw err;
    }
  }
  return [...found.values()];
}

/**
 * The accounts the selection names, by account ID.
 * @throws InvalidParameterError naming `--accounts` for an ID that is not in the organization.
 */
export async function selectAccounts(orgs: OrganizationsClient, caller: AwsCaller, selection: AccountSelection): Promise<OrganizationAccount[]> {
  let accounts: OrganizationAccount[];
  if (selection.organizationalUnits) {
    accounts = await listAccountsUnder(orgs, caller, selection.organizationalUnits);
  } else {
    accounts = await listOrganizationAccounts(orgs, caller);
    if (selection.accounts) {
      const known = new Map(accounts.map((a) => [a.accountId, a]));
      const missing = selection.accounts.filter((id) => !known.has(id));
      if (missing.length > 0) {
        throw new InvalidParameterError('--accounts', selection.accounts.join(','), `IDs of accounts of the organization; not in it: ${missing.join(', ')}`);
      }
      accounts = selection.accounts.map((id) => known.get(id) as OrganizationAccount);
    }
  }
  const excluded = new Set(selection.exclude);
  const unique = new Map(accounts.filter((a) => !excluded.has(a.accountId)).map((a) => [a.accountId, a]));
  return [...unique.values()].sort((a, b) => a.accountId.localeCompare(b.accountId));
}

/** Whether the root user has access keys (iam:GetAccountSummary `AccountAccessKeysPresent`). */
export async function readRootAccessKeysPresent(reader: IamReader): Promise<boolean> {
  const out = await reader.caller.call('iam:GetAccountSummary', () => reader.iam.send(new GetAccountSummaryCommand({})));
  const present = out.SummaryMap?.AccountAccessKeysPresent;
  if (present !== 0 && present !== 1) {
    throw new UnexpectedResponseError('iam:GetAccountSummary', `AccountAccessKeysPresent is ${present === undefined ? 'missing' : String(present)}; expected 0 or 1`);
  }
  return present === 1;
}

/** The kind and sentence of an account's failure. */
export function describeFailure(err: unknown, roleArn: string | null, stage: 'assume' | 'audit', callerAccountId: string): { failure: AccountFailure; reason: string } {
  if (stage === 'assume') {
    if (err instanceof AwsAccessDeniedError) {
      return {
        failure: 'assume-role',
        reason:
          `cannot assume ${roleArn}: access denied. The role is missing from the account, or its trust policy does not name account ${callerAccountId}, ` +
          `or the caller may not call sts:AssumeRole on it (deploy the member stack with auditAccountId ${callerAccountId}, or name another role with --role-name).`,
      };
    }
    return { failure: 'assume-role', reason: `cannot assume ${roleArn}: ${messageOf(err)}` };
  }
  if (err instanceof AwsAccessDeniedError) {
    return { failure: 'access-denied', reason: `${err.operation} was denied${roleArn ? ` to ${roleArn}` : ''}; the audit needs ${MEMBER_AUDIT_ACTIONS.join(', ')}. ${messageOf(err.cause)}` };
  }
  if (err instanceof AwsCallError) return { failure: 'aws-error', reason: err.message };
  if (err instanceof UnexpectedResponseError) return { failure: 'unexpected-response', reason: err.message };
  if (err instanceof KeyageError) return { failure: 'unexpected', reason: err.message };
  return { failure: 'unexpected', reason: `unexpected failure: ${messageOf(err)}` };
}

/** Audit every selected account of the organization. Never throws for one account's failure. */
export async function auditOrganization(options: OrganizationAuditOptions): Promise<OrganizationAuditReport> {
  const mgmtCaller = new AwsCaller({ pacing: true, ...options.caller });
  const sts = options.clients.sts();
  const orgs = options.clients.organizations();
  let identity: CallerIdentity;
  let accounts: OrganizationAccount[];
  try {
    identity = await callerIdentity(sts, mgmtCaller);
    accounts = await selectAccounts(orgs, mgmtCaller, options.selection);
  } catch (err) {
    sts.destroy();
    orgs.destroy();
    throw err;
  }
  let done = 0;
  let entries: AccountEntry[];
  try {
    entries = await mapWithConcurrency(accounts, options.concurrency ?? DEFAULT_ACCOUNT_CONCURRENCY, async (account) => {
      const entry = await auditOne(account, identity, sts, mgmtCaller, options);
      options.onProgress?.(++done, accounts.length);
      return entry;
    });
  } finally {
    sts.destroy();
    orgs.destroy();
  }
  const exemption = options.params.exemptionTag;
  return {
    schemaVersion: ORGANIZATION_SCHEMA_VERSION,
    command: 'audit',
    scope: 'organization',
    now: options.now.toISOString(),
    parameters: {
      maxAccessKeyAgeDays: options.params.maxAccessKeyAgeDays,
      exemptionTag: exemption ? formatExemptionTag(exemption) : null,
      graceDays: options.graceDays,
    },
    source: {
      kind: 'organization',
      region: options.region,
      profile: options.profile,
      roleName: options.roleName,
      callerAccountId: identity.accountId,
      selection: options.selection,
    },
    partition: identity.partition,
    region: options.region,
    summary: summarizeOrganization(entries),
    accounts: entries,
  };
}

async function auditOne(account: OrganizationAccount, identity: CallerIdentity, sts: STSClient, mgmtCaller: AwsCaller, options: OrganizationAuditOptions): Promise<AccountEntry> {
  const log = options.log.child({ accountId: account.accountId });
  if (account.state !== 'ACTIVE') {
    return notAuditedEntry(account, 'not-active', `the account is ${account.state} in Organizations; only ACTIVE accounts can be audited (--exclude ${account.accountId} to leave it out)`);
  }
  const own = account.accountId === identity.accountId;
  const roleArn = own ? null : `arn:${identity.partition}:iam::${account.accountId}:role/${options.roleName}`;
  let credentials: ClientCredentials;
  if (roleArn) {
    credentials = refreshingCredentials(async () => {
      const out = await mgmtCaller.call('sts:AssumeRole', () => sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: AUDIT_SESSION_NAME })));
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new UnexpectedResponseError('sts:AssumeRole', 'no credentials in the answer');
      return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, ...(c.Expiration ? { expiration: new Date(c.Expiration) } : {}) };
    });
    try {
      await credentials();
    } catch (err) {
      const { failure, reason } = describeFailure(err, roleArn, 'assume', identity.accountId);
      log.warn('account not audited', { failure });
      return notAuditedEntry(account, failure, reason);
    }
  }
  const iam: IAMClient = options.clients.iam(credentials);
  const reader: IamReader = {
    iam,
    caller: new AwsCaller({ pacing: true, ...options.caller, onRetry: (info) => log.debug('retrying AWS call', { ...info }) }),
    log,
  };
  const ctx: AccountContext = { account, reader, credentials, roleArn };
  try {
    const settings: AccountSettings = options.settingsFor ? await options.settingsFor(ctx) : { params: options.params };
    const audited = await auditAccount(reader, {
      now: options.now,
      params: settings.params,
      graceDays: settings.graceDays ?? options.graceDays,
      ...(settings.signer ? { signer: settings.signer } : {}),
      ...(settings.sources ? { parameterSources: settings.sources } : {}),
      region: options.region,
      profile: options.profile,
      ...(options.userConcurrency ? { concurrency: options.userConcurrency } : {}),
    });
    if (audited.accountId !== null && audited.accountId !== account.accountId) {
      throw new UnexpectedResponseError('iam:GetAccountAuthorizationDetails', `the users read are of account ${audited.accountId}, not of account ${account.accountId}`);
    }
    const root = rootFromSummary(`arn:${identity.partition}:iam::${account.accountId}:root`, await readRootAccessKeysPresent(reader));
    const report: AuditReport = {
      ...audited,
      source: { ...audited.source, ...(roleArn ? { roleArn } : {}) },
      accountId: account.accountId,
      partition: identity.partition,
      summary: summarize(audited.users, root),
      root,
    };
    log.debug('account audited', { calls: reader.caller.count() });
    if (options.afterAccount) {
      try {
        await options.afterAccount(ctx, report);
      } catch (err) {
        log.error('after-account step failed', { error: messageOf(err) }); // the hook reports its own failures; the audit stands
      }
    }
    return auditedEntry(account, report);
  } catch (err) {
    const { failure, reason } = describeFailure(err, roleArn, 'audit', identity.accountId);
    log.warn('account not audited', { failure });
    return notAuditedEntry(account, failure, reason);
  } finally {
    iam.destroy();
  }
}
