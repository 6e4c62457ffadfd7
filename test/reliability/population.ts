/**
 * A population of IAM users for the reliability tests: created in a moto account with bounded
 * parallelism, each user with a known key profile, so that the right verdict for every user
 * is known before the rule runs.
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import type { MotoAccount } from '../harness/moto';

/** The key situations a user of the population can be in. */
export type KeyProfile = 'no-keys' | 'one-active' | 'active-and-inactive' | 'inactive-only' | 'exempt-active';

export const KEY_PROFILES: readonly KeyProfile[] = ['no-keys', 'one-active', 'active-and-inactive', 'inactive-only', 'exempt-active'];

/** The exemption tag the population's exempt users carry, as the rule parameter writes it. */
export const EXEMPTION_TAG = 'keyage-exempt=true';

export interface SeededUser {
  readonly userName: string;
  readonly userId: string;
  readonly profile: KeyProfile;
  readonly accessKeyIds: readonly string[];
}

export interface Population {
  readonly users: readonly SeededUser[];
  /** Wall-clock ms the seeding took. */
  readonly seedMs: number;
  /** IAM calls made to seed. */
  readonly seedCalls: number;
}

/** Run `fn` over `items` with at most `concurrency` in flight. */
export async function inPool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/** The user name of the `i`-th user: sortable, so ListUsers order is predictable. */
export function populationUserName(i: number): string {
  return `user-${String(i).padStart(4, '0')}`;
}

/** Profiles cycle through `KEY_PROFILES`, so every fifth user has the same situation. */
export function profileOf(i: number): KeyProfile {
  return KEY_PROFILES[i % KEY_PROFILES.length] as KeyProfile;
}

/**
 * Create `count` users in the account, `concurrency` at a time, through a client of its own
 * (no fault injection, no recorder).
 */
export async function seedPopulation(account: MotoAccount, count: number, concurrency = 16): Promise<Population> {
  const iam = new IAMClient({ endpoint: account.endpoint, region: account.region, credentials: account.credentials, maxAttempts: 5 });
  const users: SeededUser[] = new Array(count);
  let calls = 0;
  const started = Date.now();
  try {
    await inPool(
      Array.from({ length: count }, (_, i) => i),
      concurrency,
      async (i) => {
        const userName = populationUserName(i);
        const profile = profileOf(i);
        const tags = profile === 'exempt-active' ? [{ Key: 'keyage-exempt', Value: 'true' }] : [];
        const created = await iam.send(new CreateUserCommand({ UserName: userName, ...(tags.length ? { Tags: tags } : {}) }));
        calls++;
        const keyCount = profile === 'no-keys' ? 0 : profile === 'active-and-inactive' ? 2 : 1;
        const accessKeyIds: string[] = [];
        for (let k = 0; k < keyCount; k++) {
          const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
          calls++;
          accessKeyIds.push(key.AccessKey?.AccessKeyId ?? '');
        }
        const toDeactivate = profile === 'inactive-only' ? accessKeyIds[0] : profile === 'active-and-inactive' ? accessKeyIds[1] : undefined;
        if (toDeactivate) {
          await iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: toDeactivate, Status: 'Inactive' }));
          calls++;
        }
        users[i] = { userName, userId: created.User?.UserId ?? '', profile, accessKeyIds };
      },
    );
  } finally {
    iam.destroy();
  }
  return { users, seedMs: Date.now() - started, seedCalls: calls };
}

/**
 * The verdict each profile must get when every key is more than 90 days old and the rule runs
 * with `ExemptionTag: keyage-exempt=true`.
 */
export function expectedCompliance(profile: KeyProfile): 'COMPLIANT' | 'NON_COMPLIANT' | 'NOT_APPLICABLE' {
  switch (profile) {
    case 'no-keys':
    case 'inactive-only':
      return 'COMPLIANT';
    case 'one-active':
    case 'active-and-inactive':
      return 'NON_COMPLIANT';
    case 'exempt-active':
      return 'NOT_APPLICABLE';
  }
}

/** Fresh IAM and Config clients for the account (to carry a fault injector of their own). */
export function freshClients(account: MotoAccount): { iam: IAMClient; config: ConfigServiceClient } {
  const common = { endpoint: account.endpoint, region: account.region, credentials: account.credentials, maxAttempts: 1 };
  return { iam: new IAMClient(common), config: new ConfigServiceClient(common) };
}
