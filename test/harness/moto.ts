/**
 * Integration tests against `moto_server`: the real SDK v3 clients over HTTP.
 *
 * Every test works in an AWS account of its own: `newMotoAccount()` assumes a role in a fresh
 * random account ID, and moto keeps each account's IAM and Config state apart. So test files
 * run in parallel against one server without seeing each other's users.
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, type Tag } from '@aws-sdk/client-iam';
import { type MotoAccountCredentials, openFreshAccount } from './moto-server';

export const motoEndpoint: string | undefined = process.env.KEYAGE_MOTO_ENDPOINT;
export const motoUnavailable: string | undefined = process.env.KEYAGE_MOTO_UNAVAILABLE;

/** `describe` when moto_server is running; otherwise a skipped block whose title says why. */
export const describeWithMoto: (name: string, fn: () => void) => void = motoEndpoint
  ? describe
  : (name, fn) => describe.skip(`${name} [SKIPPED: moto_server is not available: ${motoUnavailable ?? 'unknown'}]`, fn);

export type MotoCredentials = MotoAccountCredentials;

export interface MotoAccount {
  readonly accountId: string;
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: MotoCredentials;
  readonly iam: IAMClient;
  readonly config: ConfigServiceClient;
  /** Environment for a child process (the CLI) that should talk to this account. */
  env(): Record<string, string>;
}

/** A fresh, empty AWS account in moto, with SDK clients for it. */
export async function newMotoAccount(region = 'us-east-1'): Promise<MotoAccount> {
  const endpoint = motoEndpoint;
  if (!endpoint) throw new Error(`moto_server is not available: ${motoUnavailable ?? 'KEYAGE_MOTO_ENDPOINT is not set'}`);
  const { accountId, credentials } = await openFreshAccount(endpoint, region, 'keyage-test');
  const common = { endpoint, region, credentials, maxAttempts: 1 };
  return {
    accountId,
    endpoint,
    region,
    credentials,
    iam: new IAMClient(common),
    config: new ConfigServiceClient(common),
    env: () => ({
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    }),
  };
}

/** Create a user with `keyCount` access keys; returns the user ID and the key IDs (never the secrets). */
export async function createUserWithKeys(
  iam: IAMClient,
  userName: string,
  keyCount = 1,
  tags: Tag[] = [],
): Promise<{ userName: string; userId: string; accessKeyIds: string[] }> {
  const created = await iam.send(new CreateUserCommand({ UserName: userName, ...(tags.length ? { Tags: tags } : {}) }));
  const accessKeyIds: string[] = [];
  for (let i = 0; i < keyCount; i++) {
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    accessKeyIds.push(key.AccessKey?.AccessKeyId ?? '');
  }
  return { userName, userId: created.User?.UserId ?? '', accessKeyIds };
}
