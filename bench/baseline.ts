/**
 * The naive strategy keyage is measured against, written the way public community rules
 * check key age: page ListUsers (IAM's default page), call ListAccessKeys for every user, put
 * one evaluation per PutEvaluations call, and leave retries to the SDK's default (standard
 * mode, 3 attempts). No credential report, no batching, one user at a time.
 *
 * It is a yardstick, not a rule: it decides with keyage's pure policy so that both strategies
 * must reach the same verdicts and only the way they ask AWS differs.
 */
import { type ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { type IAMClient, ListAccessKeysCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { ACCESS_KEY_STATUSES, type AccessKey, type AccessKeyStatus, evaluateAccessKeys, shortenAnnotation } from '../rules/access-key-age/policy';

/** What the baseline needs: clients, the decision clock, the limit and the result token. */
export interface BaselineOptions {
  readonly iam: IAMClient;
  readonly config: ConfigServiceClient;
  /** The decision clock. */
  readonly now: Date;
  readonly maxAccessKeyAgeDays: number;
  readonly resultToken: string;
  /** OrderingTimestamp of every evaluation (the trigger time). */
  readonly orderingTimestamp: Date;
}

/** What the baseline did, as it can tell from the SDK's `$metadata` (attempts per call). */
export interface BaselineResult {
  readonly users: number;
  readonly evaluations: number;
  /** SDK attempts per service, retries included. */
  readonly iamAttempts: number;
  readonly configAttempts: number;
  /** Attempts beyond the first (the SDK retried; here only throttling makes it retry). */
  readonly retries: number;
}

/** A failure of the baseline, with what it had done until then. */
export class BaselineFailedError extends Error {
  constructor(
    public readonly partial: BaselineResult,
    cause: unknown,
  ) {
    super(`the baseline stopped after ${partial.users} user(s): ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`, { cause });
    this.name = 'BaselineFailedError';
  }
}

/** Evaluate every user of the account, one by one. */
export async function runBaseline(options: BaselineOptions): Promise<BaselineResult> {
  const { iam, config, now } = options;
  const tally = { users: 0, evaluations: 0, iamAttempts: 0, configAttempts: 0, retries: 0 };
  const attempts = (service: 'iam' | 'config', metadata: { attempts?: number } | undefined) => {
    const n = metadata?.attempts ?? 1;
    if (service === 'iam') tally.iamAttempts += n;
    else tally.configAttempts += n;
    tally.retries += n - 1;
  };
  const counted = async <T extends { $metadata?: { attempts?: number } }>(service: 'iam' | 'config', send: () => Promise<T>): Promise<T> => {
    try {
      const out = await send();
      attempts(service, out.$metadata);
      return out;
    } catch (err) {
      attempts(service, (err as { $metadata?: { attempts?: number } }).$metadata);
      throw err;
    }
  };

  try {
    let marker: string | undefined;
    do {
      // no MaxItems: IAM's default page of 100, as a paginator without a page size sends
      const page = await counted('iam', () => iam.send(new ListUsersCommand(marker ? { Marker: marker } : {})));
      marker = page.IsTruncated ? page.Marker : undefined;
      for (const user of page.Users ?? []) {
        const userName = user.UserName as string;
        const listed = await counted('iam', () => iam.send(new ListAccessKeysCommand({ UserName: userName })));
        const keys: AccessKey[] = (listed.AccessKeyMetadata ?? [])
          .filter((k) => ACCESS_KEY_STATUSES.includes(k.Status as AccessKeyStatus))
          .map((k) => ({ accessKeyId: k.AccessKeyId as string, status: k.Status as AccessKeyStatus, createdAt: new Date(k.CreateDate as Date) }))
          .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
          .map((k, i) => ({ ...k, slot: (i === 0 ? 1 : 2) as 1 | 2 }));
        const verdict = evaluateAccessKeys(keys, now, { maxAccessKeyAgeDays: options.maxAccessKeyAgeDays });
        await counted('config', () =>
          config.send(
            new PutEvaluationsCommand({
              Evaluations: [
                {
                  ComplianceResourceType: 'AWS::IAM::User',
                  ComplianceResourceId: user.UserId,
                  ComplianceType: verdict.compliance,
                  Annotation: shortenAnnotation(verdict.annotation),
                  OrderingTimestamp: options.orderingTimestamp,
                },
              ],
              ResultToken: options.resultToken,
              ...(options.resultToken === 'TESTMODE' ? { TestMode: true } : {}),
            }),
          ),
        );
        tally.users++;
        tally.evaluations++;
      }
    } while (marker);
  } catch (err) {
    throw new BaselineFailedError({ ...tally }, err);
  }
  return { ...tally };
}
