/**
 * The read side of IAM, as the rule, the remediation and the CLI need it. Every call goes
 * through `AwsCaller` (retry, backoff, counting); every list is paged to the end.
 */
import {
  GenerateCredentialReportCommand,
  GetAccountAuthorizationDetailsCommand,
  type IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  type Tag,
} from '@aws-sdk/client-iam';
import { type AwsCaller, awsErrorCode, isNoSuchEntity } from '../../lib/aws-call';
import { CredentialReportError, messageOf, NoSuchUserError, UnexpectedResponseError } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import { type CredentialReport, parseCredentialReport } from './credential-report';
import { getCredentialReportCommand } from './credential-report-answer';
import { ACCESS_KEY_STATUSES, type AccessKey, type AccessKeyStatus } from './policy';

export interface IamReader {
  readonly iam: IAMClient;
  readonly caller: AwsCaller;
  readonly log: Logger;
}

/** An IAM user as ListUsers (or GetAccountAuthorizationDetails) describes it. */
export interface IamUser {
  readonly userName: string;
  /** The stable user ID (AIDA…), the resource ID Config uses. */
  readonly userId: string;
  readonly arn: string;
  readonly createdAt: Date;
  /** Present only when read with tags (GetAccountAuthorizationDetails). */
  readonly tags?: readonly Tag[];
}

/** Page size for IAM list calls; IAM's maximum. */
const PAGE = 1000;

/** Every IAM user of the account, paged to the end. */
export async function listAllUsers(r: IamReader): Promise<IamUser[]> {
  const users: IamUser[] = [];
  let marker: string | undefined;
  do {
    const page = await r.caller.call('iam:ListUsers', () => r.iam.send(new ListUsersCommand({ MaxItems: PAGE, ...(marker ? { Marker: marker } : {}) })));
    for (const u of page.Users ?? []) users.push(toUser(u, 'ListUsers'));
    marker = page.IsTruncated ? page.Marker : undefined;
    if (page.IsTruncated && !page.Marker) throw new UnexpectedResponseError('iam:ListUsers', 'the page is truncated but has no Marker');
  } while (marker);
  return users;
}

/**
 * Every IAM user with its tags, paged to the end: GetAccountAuthorizationDetails returns up
 * to 1,000 users with tags per call, where ListUserTags would need one call per user.
 */
export async function listAllUsersWithTags(r: IamReader): Promise<IamUser[]> {
  const users: IamUser[] = [];
  let marker: string | undefined;
  do {
    const page = await r.caller.call('iam:GetAccountAuthorizationDetails', () =>
      r.iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User'], MaxItems: PAGE, ...(marker ? { Marker: marker } : {}) })),
    );
    for (const u of page.UserDetailList ?? []) users.push({ ...toUser(u, 'GetAccountAuthorizationDetails'), tags: u.Tags ?? [] });
    marker = page.IsTruncated ? page.Marker : undefined;
    if (page.IsTruncated && !page.Marker) throw new UnexpectedResponseError('iam:GetAccountAuthorizationDetails', 'the page is truncated but has no Marker');
  } while (marker);
  return users;
}

/**
 * A user's access keys, live, numbered 1 and 2 by creation date.
 * @throws NoSuchUserError when the user does not exist (any more).
 */
export async function readUserKeys(r: IamReader, userName: string): Promise<AccessKey[]> {
  const metadata: { AccessKeyId?: string; Status?: string; CreateDate?: Date }[] = [];
  let marker: string | undefined;
  try {
    do {
      const page = await r.caller.call('iam:ListAccessKeys', () =>
        r.iam.send(new ListAccessKeysCommand({ UserName: userName, ...(marker ? { Marker: marker } : {}) })),
      );
      metadata.push(...(page.AccessKeyMetadata ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
  } catch (err) {
    if (isNoSuchEntity(err)) throw new NoSuchUserError(userName);
    throw err;
  }
  const keys = metadata.map((m) => {
    if (!m.AccessKeyId || !m.CreateDate || !ACCESS_KEY_STATUSES.includes(m.Status as AccessKeyStatus)) {
      throw new UnexpectedResponseError('iam:ListAccessKeys', `a key of ${userName} has no AccessKeyId, CreateDate or known Status (${m.AccessKeyId ?? '?'}, ${m.Status ?? '?'})`);
    }
    return { accessKeyId: m.AccessKeyId, status: m.Status as AccessKeyStatus, createdAt: new Date(m.CreateDate) };
  });
  keys.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.accessKeyId.localeCompare(b.accessKeyId));
  return keys.map((k, i) => ({ ...k, slot: (i === 0 ? 1 : 2) as 1 | 2 }));
}

/**
 * A user's tags, paged to the end.
 * @throws NoSuchUserError when the user does not exist.
 */
export async function readUserTags(r: IamReader, userName: string): Promise<Tag[]> {
  const tags: Tag[] = [];
  let marker: string | undefined;
  try {
    do {
      const page = await r.caller.call('iam:ListUserTags', () =>
        r.iam.send(new ListUserTagsCommand({ UserName: userName, ...(marker ? { Marker: marker } : {}) })),
      );
      tags.push(...(page.Tags ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
  } catch (err) {
    if (isNoSuchEntity(err)) throw new NoSuchUserError(userName);
    throw err;
  }
  return tags;
}

export interface ReportOptions {
  /** The real clock, for the report's freshness (not the evaluation's `now`). */
  wallClock: () => Date;
  /** A report generated longer ago than this is not used. @default 4 hours (IAM's own regeneration window) */
  maxReportAgeMs?: number;
  /** How long to wait for IAM to finish generating a report. @default 20 s */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export type ReportResult =
  | { readonly kind: 'report'; readonly report: CredentialReport; readonly generatedAt: Date }
  | { readonly kind: 'unavailable'; readonly reason: string };

export const DEFAULT_MAX_REPORT_AGE_MS = 4 * 3_600_000;

/**
 * Get a fresh credential report: ask IAM to generate one (it returns at once when a report
 * under 4 hours old exists), wait for it, download and parse it. Any failure — permission,
 * timeout, a report too old, a report that does not parse — is `unavailable` with a reason:
 * the caller then reads keys user by user, so a missing report costs calls, never verdicts.
 */
export async function readCredentialReport(r: IamReader, options: ReportOptions): Promise<ReportResult> {
  const maxAge = options.maxReportAgeMs ?? DEFAULT_MAX_REPORT_AGE_MS;
  const maxWait = options.maxWaitMs ?? 20_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise((res) => setTimeout(res, ms)));
  try {
    // Waiting is counted in the delays slept, not by a clock, so it is bounded whatever the clocks do.
    for (let delay = 500, waited = 0; ; waited += delay, delay = Math.min(delay * 2, 4000)) {
      const gen = await r.caller.call('iam:GenerateCredentialReport', () => r.iam.send(new GenerateCredentialReportCommand({})));
      if (gen.State === 'COMPLETE') break;
      if (waited + delay > maxWait) {
        return { kind: 'unavailable', reason: `the report was still ${gen.State ?? 'generating'} after ${Math.round(waited / 1000)} s` };
      }
      await sleep(delay);
    }
    // Content is read without the SDK's XML parser, which would hold ~60 MB for 5,000 users.
    const got = await r.caller.call('iam:GetCredentialReport', () => r.iam.send(getCredentialReportCommand()));
    if (!got.Content || !got.GeneratedTime) return { kind: 'unavailable', reason: 'GetCredentialReport returned no content' };
    const generatedAt = new Date(got.GeneratedTime);
    const age = options.wallClock().getTime() - generatedAt.getTime();
    if (age > maxAge) {
      return { kind: 'unavailable', reason: `the report was generated at ${generatedAt.toISOString()}, more than ${Math.round(maxAge / 60_000)} minutes ago` };
    }
    const report = parseCredentialReport(Buffer.from(got.Content).toString('utf8'), generatedAt);
    return { kind: 'report', report, generatedAt };
  } catch (err) {
    if (err instanceof CredentialReportError) return { kind: 'unavailable', reason: err.message };
    const code = awsErrorCode(err);
    if (code && /AccessDenied|CredentialReport|ReportNotPresent|ReportExpired|ReportInProgress|LimitExceeded/.test(code)) {
      return { kind: 'unavailable', reason: `${code}: ${messageOf(err)}` };
    }
    throw err;
  }
}

function toUser(u: { UserName?: string; UserId?: string; Arn?: string; CreateDate?: Date }, source: string): IamUser {
  if (!u.UserName || !u.UserId || !u.Arn || !u.CreateDate) {
    throw new UnexpectedResponseError(`iam:${source}`, `a user has no UserName, UserId, Arn or CreateDate (${u.UserName ?? u.UserId ?? '?'})`);
  }
  return { userName: u.UserName, userId: u.UserId, arn: u.Arn, createdAt: new Date(u.CreateDate) };
}
