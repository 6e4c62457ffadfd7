/**
 * The SDK clients the command line uses, built one way: retries off in the SDK (`AwsCaller`
 * retries, paces and counts instead), the Region keyage resolved, and either the profile's
 * credentials (the default chain) or credentials given — an assumed role's, for the accounts of
 * an organization audit. Tests and the benchmark replace the factory with one that points the
 * clients at moto_server.
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { SSMClient } from '@aws-sdk/client-ssm';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { STSClient } from '@aws-sdk/client-sts';

/** Temporary credentials, as a credentials provider returns them. Never logged. */
export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** A credentials provider, as every SDK client accepts one. */
export type CredentialsProvider = () => Promise<TemporaryCredentials>;

/** Credentials for a client: the default chain (`undefined`) or a provider. */
export type ClientCredentials = CredentialsProvider | undefined;

/** Builds the clients of one command run. */
export interface AwsClientFactory {
  iam(credentials?: ClientCredentials): IAMClient;
  sts(credentials?: ClientCredentials): STSClient;
  organizations(credentials?: ClientCredentials): OrganizationsClient;
  securityHub(credentials?: ClientCredentials): SecurityHubClient;
  /** The deployed rule (Config), the deployed runbook (SSM) and the record key (KMS) of an account. */
  config(credentials?: ClientCredentials): ConfigServiceClient;
  ssm(credentials?: ClientCredentials): SSMClient;
  kms(credentials?: ClientCredentials): KMSClient;
}

/** The clients of the real command: Region and profile as resolved, SDK retries off. */
export function defaultClientFactory(region: string, profile: string | null): AwsClientFactory {
  const config = (credentials: ClientCredentials) => ({
    region,
    maxAttempts: 1,
    ...(credentials ? { credentials } : profile ? { profile } : {}),
  });
  return {
    iam: (c) => new IAMClient(config(c)),
    sts: (c) => new STSClient(config(c)),
    organizations: (c) => new OrganizationsClient(config(c)),
    securityHub: (c) => new SecurityHubClient(config(c)),
    config: (c) => new ConfigServiceClient(config(c)),
    ssm: (c) => new SSMClient(config(c)),
    kms: (c) => new KMSClient(config(c)),
  };
}

/** Refresh assumed-role credentials this long before they expire. */
export const CREDENTIAL_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * A credentials provider that calls `fetch` once, and again when the credentials are within
 * `CREDENTIAL_REFRESH_MARGIN_MS` of their expiration, so an audit that outlasts a role session
 * keeps going. Concurrent callers share one refresh.
 */
export function refreshingCredentials(fetch: () => Promise<TemporaryCredentials>, clock: () => number = Date.now): CredentialsProvider {
  let current: TemporaryCredentials | undefined;
  let pending: Promise<TemporaryCredentials> | undefined;
  return async () => {
    const fresh = current && (!current.expiration || current.expiration.getTime() - clock() > CREDENTIAL_REFRESH_MARGIN_MS);
    if (fresh && current) return current;
    pending ??= fetch().then(
      (c) => {
        current = c;
        pending = undefined;
        return c;
      },
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
}
