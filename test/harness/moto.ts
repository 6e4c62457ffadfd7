/**
 * Integration tests against `moto_server`: the real SDK v3 clients over HTTP.
 *
 * Every test works in an AWS account of its own: `newMotoAccount()` assumes a role in a fresh
 * random account ID, and moto keeps each account's IAM and Config state apart. So test files
 * run in parallel against one server without seeing each other's users.
 */
import { ConfigServiceClient, PutConfigRuleCommand } from '@aws-sdk/client-config-service';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, type Tag } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { SSMClient } from '@aws-sdk/client-ssm';
import { RECORD_KEY_ALIAS } from '../../remediation/records';
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
  readonly kms: KMSClient;
  readonly ssm: SSMClient;
  /** The clients as the command line takes them (`CliIo`). */
  clients(): { iam: IAMClient; config: ConfigServiceClient; kms: KMSClient; ssm: SSMClient };
  /** Environment for a child process (the CLI) that should talk to this account. */
  env(): Record<string, string>;
}

/** A fresh, empty AWS account in moto, with SDK clients for it. */
export async function newMotoAccount(region = 'us-east-1'): Promise<MotoAccount> {
  const endpoint = motoEndpoint;
  if (!endpoint) throw new Error(`moto_server is not available: ${motoUnavailable ?? 'KEYAGE_MOTO_ENDPOINT is not set'}`);
  const { accountId, credentials } = await openFreshAccount(endpoint, region, 'keyage-test');
  const common = { endpoint, region, credentials, maxAttempts: 1 };
  const iam = new IAMClient(common);
  const config = new ConfigServiceClient(common);
  const kms = new KMSClient(common);
  const ssm = new SSMClient(common);
  return {
    accountId,
    endpoint,
    region,
    credentials,
    iam,
    config,
    kms,
    ssm,
    clients: () => ({ iam, config, kms, ssm }),
    env: () => ({
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    }),
  };
}

/**
 * The record key as the member stack creates it: a KMS HMAC_256 key for GENERATE_VERIFY_MAC with
 * the alias `alias/keyage-deactivation-records`. Returns its ARN.
 */
export async function createRecordKey(account: MotoAccount): Promise<string> {
  const key = await account.kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Description: 'keyage test record key' }));
  const arn = key.KeyMetadata?.Arn;
  if (!arn) throw new Error('moto CreateKey returned no ARN');
  await account.kms.send(new CreateAliasCommand({ AliasName: RECORD_KEY_ALIAS, TargetKeyId: key.KeyMetadata?.KeyId }));
  return arn;
}

const recordKeys = new Map<string, Promise<string>>();

/** The account's record key, created on first use (`createRecordKey`). */
export function recordKeyOf(account: MotoAccount): Promise<string> {
  let key = recordKeys.get(account.accountId);
  if (!key) {
    key = createRecordKey(account);
    recordKeys.set(account.accountId, key);
  }
  return key;
}

/**
 * keyage's Config rule as a conformance pack deploys it (CUSTOM_LAMBDA, `<name>-conformance-pack-<id>`),
 * with these InputParameters: a stub rule function (moto checks that it exists; nothing invokes it)
 * and the rule. Returns the rule's name.
 */
export async function deployKeyageRule(account: MotoAccount, inputParameters: Record<string, string>, name = 'keyage-access-key-age-conformance-pack-abcdefghi'): Promise<string> {
  const common = { endpoint: account.endpoint, region: account.region, credentials: account.credentials, maxAttempts: 1 };
  const lambda = new LambdaClient(common);
  try {
    const role = await account.iam.send(
      new CreateRoleCommand({ RoleName: `keyage-rule-${Math.random().toString(36).slice(2, 10)}`, AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }),
    );
    const fn = await lambda.send(
      new CreateFunctionCommand({ FunctionName: 'keyage-access-key-age', Runtime: 'nodejs20.x', Role: role.Role?.Arn, Handler: 'index.handler', Code: { ZipFile: Buffer.from('PK\x05\x06' + '\x00'.repeat(18), 'binary') } }),
    );
    await account.config.send(
      new PutConfigRuleCommand({
        ConfigRule: {
          ConfigRuleName: name,
          Source: { Owner: 'CUSTOM_LAMBDA', SourceIdentifier: fn.FunctionArn, SourceDetails: [{ EventSource: 'aws.config', MessageType: 'ScheduledNotification', MaximumExecutionFrequency: 'TwentyFour_Hours' }] },
          InputParameters: JSON.stringify(inputParameters),
          Scope: { ComplianceResourceTypes: ['AWS::IAM::User'] },
        },
      }),
    );
  } finally {
    lambda.destroy();
  }
  return name;
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
