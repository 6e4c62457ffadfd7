/**
 * SDK v3 clients as keyage builds them: retries off in the SDK (`AwsCaller` retries instead,
 * so that throttling is counted and tests see it), region from the environment.
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_IAM` are honoured by the SDK itself.
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { SSMClient } from '@aws-sdk/client-ssm';

export interface ClientOptions {
  region?: string;
  /** A named profile from the shared config files (CLI only). */
  profile?: string;
}

/** IAM is global; its endpoint signs in us-east-1 whatever region the caller runs in. */
export function createIamClient(options: ClientOptions = {}): IAMClient {
  return new IAMClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: 1,
    ...(options.profile ? { profile: options.profile } : {}),
  });
}

export function createConfigClient(options: ClientOptions = {}): ConfigServiceClient {
  return new ConfigServiceClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: 1,
    ...(options.profile ? { profile: options.profile } : {}),
  });
}

export function createKmsClient(options: ClientOptions = {}): KMSClient {
  return new KMSClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: 1,
    ...(options.profile ? { profile: options.profile } : {}),
  });
}

export function createSsmClient(options: ClientOptions = {}): SSMClient {
  return new SSMClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: 1,
    ...(options.profile ? { profile: options.profile } : {}),
  });
}
