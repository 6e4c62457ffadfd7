/**
 * An AWS Organization in moto_server: a fresh management account, CreateOrganization, member
 * accounts made with CreateAccount (moto gives each its own IAM and Security Hub state, reached
 * by assuming a role in it), OUs, and the audit role in the accounts that should have one.
 *
 * moto hands out credentials for any role ARN, existing or not ("the role does not need to
 * exist"). Real STS refuses AssumeRole with AccessDenied when the role is missing or its trust
 * policy does not name the caller, and the organization audit must cope with exactly that. So
 * `gatedSts` puts a gate under the STS client the code under test uses: before AssumeRole reaches
 * moto, it reads the role (iam:GetRole, as the target account's administrator) and answers the
 * way STS does — HTTP 403, `<Code>AccessDenied</Code>` — when the role is missing or does not
 * trust the caller's account. Everything else goes to moto unchanged.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsClientFactory, ClientCredentials } from '../../cli/aws-clients';
import { type MotoAccount, newMotoAccount } from './moto';
import type { MotoAccountCredentials } from './moto-server';

/** The role moto creates in every account CreateAccount makes (trusted by the management account). */
export const ORGANIZATION_ACCESS_ROLE = 'OrganizationAccountAccessRole';

/** A member account, with administrator clients for seeding it. */
export interface MotoMember {
  readonly accountId: string;
  readonly name: string;
  readonly credentials: MotoAccountCredentials;
  readonly iam: IAMClient;
  readonly securityHub: SecurityHubClient;
}

/** An organization in moto. */
export interface MotoOrganization {
  readonly management: MotoAccount;
  readonly rootId: string;
  readonly members: Record<string, MotoMember>;
  /** OU IDs by the names given. */
  readonly ous: Record<string, string>;
  organizations(): OrganizationsClient;
  /** Clients for the CLI: the management account's credentials unless others are given; STS gated (see above). */
  clients(): AwsClientFactory;
  destroy(): void;
}

/** What to build: OUs (a parent OU by name, or the root) and accounts (in an OU by name, or the root). */
export interface OrganizationSpec {
  readonly ous?: ReadonlyArray<{ readonly name: string; readonly parent?: string }>;
  readonly accounts: ReadonlyArray<{ readonly name: string; readonly ou?: string; readonly auditRole?: 'trusting' | 'missing' | 'untrusting' }>;
  /** The audit role's name. @default 'keyage-audit' */
  readonly roleName?: string;
}

/** Credentials of an account's administrator: AssumeRole into the role moto created there. */
export async function adminCredentials(endpoint: string, region: string, accountId: string): Promise<MotoAccountCredentials> {
  const sts = new STSClient({ endpoint, region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  try {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/${ORGANIZATION_ACCESS_ROLE}`, RoleSessionName: 'keyage-test-admin' }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('moto AssumeRole returned no credentials');
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
  } finally {
    sts.destroy();
  }
}

/** A trust policy allowing sts:AssumeRole to principals of `accountId`. */
export function trustPolicy(accountId: string): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }] });
}

/** Build an organization in a fresh moto management account. */
export async function newMotoOrganization(spec: OrganizationSpec): Promise<MotoOrganization> {
  const management = await newMotoAccount();
  const { endpoint, region } = management;
  const roleName = spec.roleName ?? 'keyage-audit';
  const orgsFor = () => new OrganizationsClient({ endpoint, region, credentials: management.credentials, maxAttempts: 1 });
  const orgs = orgsFor();
  const clients: Array<{ destroy(): void }> = [orgs];
  try {
    await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const rootId = (await orgs.send(new ListRootsCommand({}))).Roots?.[0]?.Id;
    if (!rootId) throw new Error('moto: no organization root');
    const ous: Record<string, string> = {};
    for (const ou of spec.ous ?? []) {
      const parent = ou.parent ? ous[ou.parent] : rootId;
      if (!parent) throw new Error(`OU ${ou.name}: unknown parent ${ou.parent}`);
      const made = await orgs.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: ou.name }));
      ous[ou.name] = made.OrganizationalUnit?.Id as string;
    }
    const members: Record<string, MotoMember> = {};
    for (const a of spec.accounts) {
      const made = await orgs.send(new CreateAccountCommand({ AccountName: a.name, Email: `${a.name}@example.com` }));
      const accountId = made.CreateAccountStatus?.AccountId as string;
      if (a.ou) {
        const ou = ous[a.ou];
        if (!ou) throw new Error(`account ${a.name}: unknown OU ${a.ou}`);
        await orgs.send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: rootId, DestinationParentId: ou }));
      }
      const credentials = await adminCredentials(endpoint, region, accountId);
      const iam = new IAMClient({ endpoint, region, credentials, maxAttempts: 1 });
      const securityHub = new SecurityHubClient({ endpoint, region, credentials, maxAttempts: 1 });
      clients.push(iam, securityHub);
      const role = a.auditRole ?? 'trusting';
      if (role !== 'missing') {
        await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: trustPolicy(role === 'trusting' ? management.accountId : '999999999999') }));
      }
      members[a.name] = { accountId, name: a.name, credentials, iam, securityHub };
    }
    const factory = (): AwsClientFactory => {
      const config = (c: ClientCredentials) => ({ endpoint, region, maxAttempts: 1, credentials: c ?? management.credentials });
      return {
        iam: (c) => new IAMClient(config(c)),
        organizations: (c) => new OrganizationsClient(config(c)),
        securityHub: (c) => new SecurityHubClient(config(c)),
        sts: (c) => gatedSts(new STSClient(config(c)), management.accountId, endpoint, region),
        config: (c) => new ConfigServiceClient(config(c)),
        ssm: (c) => new SSMClient(config(c)),
        kms: (c) => new KMSClient(config(c)),
      };
    };
    return {
      management,
      rootId,
      members,
      ous,
      organizations: orgsFor,
      clients: factory,
      destroy: () => {
        for (const c of clients) c.destroy();
        management.iam.destroy();
        management.config.destroy();
      },
    };
  } catch (err) {
    for (const c of clients) c.destroy();
    throw err;
  }
}

/** Close an account (moto makes it SUSPENDED at once). */
export async function closeAccount(org: MotoOrganization, accountId: string): Promise<void> {
  const orgs = org.organizations();
  try {
    await orgs.send(new CloseAccountCommand({ AccountId: accountId }));
  } finally {
    orgs.destroy();
  }
}

type Next = (args: { input: unknown }) => Promise<{ response?: unknown; output?: unknown }>;
interface StackClient {
  middlewareStack: {
    add: (mw: (next: Next, context: { commandName?: string }) => (args: { input: unknown }) => Promise<{ response?: unknown; output?: unknown }>, options: Record<string, unknown>) => void;
  };
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(.+)$/;

/** Does this trust policy let principals of `callerAccount` call sts:AssumeRole? */
export function trusts(policyDocument: string, callerAccount: string): boolean {
  let policy: { Statement?: unknown };
  try {
    policy = JSON.parse(decodeURIComponent(policyDocument)) as { Statement?: unknown };
  } catch {
    return false;
  }
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  return statements.some((st) => {
    const s = st as { Effect?: string; Action?: string | string[]; Principal?: { AWS?: string | string[] } };
    const actions = ([] as string[]).concat(s.Action ?? []);
    const principals = ([] as string[]).concat(s.Principal?.AWS ?? []);
    return s.Effect === 'Allow' && actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*') && principals.some((p) => p === callerAccount || p === `arn:aws:iam::${callerAccount}:root`);
  });
}

/** Put the AssumeRole gate (see the module comment) under `sts`, a client of `callerAccount`. */
export function gatedSts(sts: STSClient, callerAccount: string, endpoint: string, region: string): STSClient {
  (sts as unknown as StackClient).middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'AssumeRoleCommand') return next(args);
      const roleArn = (args.input as { RoleArn?: string }).RoleArn ?? '';
      const m = ROLE_ARN.exec(roleArn);
      let allowed = false;
      if (m) {
        const iam = new IAMClient({ endpoint, region, credentials: await adminCredentials(endpoint, region, m[1] as string), maxAttempts: 1 });
        try {
          const role = await iam.send(new GetRoleCommand({ RoleName: m[2] as string }));
          allowed = trusts(role.Role?.AssumeRolePolicyDocument ?? '', callerAccount);
        } catch (err) {
          if ((err as { name?: string }).name !== 'NoSuchEntityException' && (err as { name?: string }).name !== 'NoSuchEntity') throw err;
        } finally {
          iam.destroy();
        }
      }
      if (allowed) return next(args);
      const requestId = randomUUID();
      const message = `User: arn:aws:sts::${callerAccount}:assumed-role/keyage-test/keyage-test is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`;
      return {
        response: {
          statusCode: 403,
          headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
          body: Readable.from([
            Buffer.from(
              `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
            ),
          ]),
        },
      };
    },
    { step: 'deserialize', priority: 'low', name: `keyageStsGate${Math.random().toString(36).slice(2)}` },
  );
  return sts;
}
