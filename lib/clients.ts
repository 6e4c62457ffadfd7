/**
 * SDK v3 clients as keyage builds them: retries off in the SDK (`AwsCaller` retries instead,
 * so that throttling is counted and tests see it), region from the environment.
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_IAM` are honoured by the SDK itself.
 *
 * Only the IAM and Config clients live here: the rule's bundle imports this file, and every SDK
 * client imported is loaded when the function starts (KMS and SSM together added 8 MB of RSS
 * to the rule's start, BENCHMARKS.md "Memory"). Build other clients where they are used.
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';

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
