/**
 * How keyage builds its Lambda functions: the current Node.js LTS runtime on arm64, bundled by
 * the local esbuild (never Docker), the AWS SDK v3 left to the runtime, a log group of its own,
 * and a deliberate asynchronous-invocation configuration (AWS::Lambda::EventInvokeConfig):
 * Lambda's default of two silent retries is never left to chance.
 */
import { Duration } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { LOCK_FILE, PROJECT_ROOT } from './project';

/**
 * The Lambda runtime of keyage's functions: the current Node.js LTS runtime. The SDK v3
 * clients the code uses are part of it, so the bundles leave them out.
 */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

/** Options of {@link keyageFunction}. */
export interface KeyageFunctionOptions {
  readonly functionName: string;
  readonly entry: string;
  readonly description: string;
  readonly role: IRole;
  readonly logGroup: ILogGroup;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** Lambda's own retries of an asynchronous invocation (0-2). */
  readonly retryAttempts: number;
  /** How long Lambda keeps an asynchronous invocation it could not run yet. */
  readonly maxEventAge: Duration;
  /** esbuild loaders by file extension, e.g. `{ '.yaml': 'text' }`. @default esbuild's defaults */
  readonly loader?: Record<string, string>;
  /** @default 512 */
  readonly memorySize?: number;
}

/** A keyage Lambda function. */
export function keyageFunction(scope: Construct, id: string, options: KeyageFunctionOptions): NodejsFunction {
  return new NodejsFunction(scope, id, {
    functionName: options.functionName,
    entry: options.entry,
    description: options.description,
    role: options.role,
    logGroup: options.logGroup,
    timeout: options.timeout,
    handler: 'handler',
    runtime: LAMBDA_RUNTIME,
    architecture: Architecture.ARM_64,
    memorySize: options.memorySize ?? 512,
    environment: options.environment,
    retryAttempts: options.retryAttempts,
    maxEventAge: options.maxEventAge,
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: LOCK_FILE,
    bundling: {
      forceDockerBundling: false,
      format: OutputFormat.CJS,
      target: 'node22',
      minify: true,
      logLevel: LogLevel.WARNING,
      externalModules: ['@aws-sdk/*'],
      ...(options.loader ? { loader: options.loader } : {}),
    },
  });
}

/** Default async-invocation event age: an hour (Config and EventBridge invoke asynchronously). */
export const DEFAULT_MAX_EVENT_AGE = Duration.hours(1);
