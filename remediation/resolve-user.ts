/**
 * From the user ID that AWS Config passes a remediation (`RESOURCE_ID`, "AIDA…") to the user
 * name IAM's key APIs need, confirmed live.
 *
 * 1. Ask Config's inventory (ListDiscoveredResources for AWS::IAM::User), the way AWS's own
 *    AWSConfigRemediation runbooks do, then confirm with iam:GetUser that the name still
 *    belongs to that ID (a user can be renamed, and a name reused by a new user).
 * 2. When Config does not know the user (not recorded, recorder off, no permission) or the
 *    name no longer matches, page through iam:ListUsers and match the ID.
 * No user with that ID → `NoSuchUserError`.
 */
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { ListDiscoveredResourcesCommand } from '@aws-sdk/client-config-service';
import { GetUserCommand, type IAMClient } from '@aws-sdk/client-iam';
import { type AwsCaller, isNoSuchEntity } from '../lib/aws-call';
import { AwsAccessDeniedError, messageOf, NoSuchUserError, UnexpectedResponseError } from '../lib/errors';
import type { Logger } from '../lib/log';
import { listAllUsers } from '../rules/access-key-age/iam';

export interface ResolverContext {
  readonly iam: IAMClient;
  readonly caller: AwsCaller;
  readonly log: Logger;
  /** When absent, the Config lookup is skipped and ListUsers is used. */
  readonly config?: ConfigServiceClient;
}

/** A user, identified both ways. */
export interface ResolvedUser {
  readonly userName: string;
  readonly userId: string;
  /** The user's ARN: its account is the account a deactivation record is bound to. */
  readonly arn: string;
  /** How the name was found: `GetUser` (by name), `Config` (inventory + GetUser), `ListUsers` (paged). */
  readonly resolvedBy: 'GetUser' | 'Config' | 'ListUsers';
}

/**
 * The user with this name or ID, confirmed live.
 * @throws NoSuchUserError when no such user exists.
 */
export async function resolveUser(ctx: ResolverContext, who: { userName?: string; userId?: string }): Promise<ResolvedUser> {
  if (who.userName !== undefined) {
    const user = await getUser(ctx, who.userName);
    if (!user) throw new NoSuchUserError(who.userName);
    if (who.userId !== undefined && user.userId !== who.userId) {
      throw new NoSuchUserError(`${who.userName} with ID ${who.userId} (that name now belongs to ${user.userId})`);
    }
    return { ...user, resolvedBy: 'GetUser' };
  }
  const userId = who.userId;
  if (userId === undefined) throw new TypeError('resolveUser: give a userName or a userId');

  if (ctx.config) {
    const name = await nameFromConfig(ctx, ctx.config, userId);
    if (name !== undefined) {
      const user = await getUser(ctx, name);
      if (user && user.userId === userId) return { ...user, resolvedBy: 'Config' };
      ctx.log.info('Config inventory name does not match the live user; paging ListUsers', { userId, configName: name, liveUserId: user?.userId ?? null });
    }
  }
  const users = await listAllUsers(ctx);
  const match = users.find((u) => u.userId === userId);
  if (!match) throw new NoSuchUserError(userId);
  return { userName: match.userName, userId: match.userId, arn: match.arn, resolvedBy: 'ListUsers' };
}

async function getUser(ctx: ResolverContext, userName: string): Promise<{ userName: string; userId: string; arn: string } | undefined> {
  try {
    const out = await ctx.caller.call('iam:GetUser', () => ctx.iam.send(new GetUserCommand({ UserName: userName })));
    if (!out.User?.UserName || !out.User.UserId) return undefined;
    if (!out.User.Arn) throw new UnexpectedResponseError('iam:GetUser', `user ${out.User.UserName} has no Arn`);
    return { userName: out.User.UserName, userId: out.User.UserId, arn: out.User.Arn };
  } catch (err) {
    if (isNoSuchEntity(err)) return undefined;
    throw err;
  }
}

/** The name Config's inventory holds for the user ID, or undefined (unknown, or Config unusable). */
async function nameFromConfig(ctx: ResolverContext, config: ConfigServiceClient, userId: string): Promise<string | undefined> {
  try {
    const out = await ctx.caller.call('config:ListDiscoveredResources', () =>
      config.send(new ListDiscoveredResourcesCommand({ resourceType: 'AWS::IAM::User', resourceIds: [userId] })),
    );
    const found = (out.resourceIdentifiers ?? []).find((r) => r.resourceId === userId && r.resourceName);
    return found?.resourceName;
  } catch (err) {
    // Only a lookup shortcut: ListUsers gives the same answer, so a Config failure is logged, not fatal.
    ctx.log.warn('Config ListDiscoveredResources failed; resolving the user with ListUsers', {
      userId,
      error: messageOf(err),
      accessDenied: err instanceof AwsAccessDeniedError,
    });
    return undefined;
  }
}
