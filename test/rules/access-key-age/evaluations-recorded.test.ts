/**
 * Recording only what changed, never at the cost of truth.
 *
 * Two copies of the rule sweep the same IAM account (in memory: keys of any age, users added,
 * deleted, re-created, exempted, keys rotated and deactivated, days passing), each into its own
 * AWS Config store (test/harness/config-store.ts, which records what PutEvaluations sends and
 * pages it back): one with the default refresh window, which puts only what changed, and one
 * with `EvaluationRefreshDays: 0`, which puts every verdict every time — the full put. After any
 * sequence, the two stores hold the same verdict and annotation for every user, and those
 * verdicts are the policy's for the account as it is; a user whose verdict changed was put in
 * the sweep that saw it change; a sweep run again with nothing changed puts nothing; and a read
 * of Config that fails part-way makes the sweep put everything.
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import fc from 'fast-check';
import { AwsCallError } from '../../../lib/errors';
import { createLogger } from '../../../lib/log';
import { createHandler, type RuleInvocationResult } from '../../../rules/access-key-age/handler';
import { DAY_MS, evaluateAccessKeys } from '../../../rules/access-key-age/policy';
import { ConfigEvaluationStore, configError, type StoredEvaluation } from '../../harness/config-store';
import { changeEvent, RULE_NAME, scheduledEvent, userConfigurationItem } from '../../harness/events';
import { FakeIamAccount, type FakeUser } from '../../harness/fake-iam';

const SEED = 0x16c;
const START = new Date('2026-01-01T12:00:00.000Z');
const EXEMPT_TAG = 'keyage-exempt';

type Action =
  | { kind: 'sweep' }
  | { kind: 'wait'; days: number; hours: number }
  | { kind: 'addUser'; keyAges: number[]; exempt: boolean }
  | { kind: 'removeUser'; pick: number }
  | { kind: 'recreateUser'; pick: number }
  | { kind: 'rotate'; pick: number }
  | { kind: 'deactivate'; pick: number }
  | { kind: 'reactivate'; pick: number }
  | { kind: 'exempt'; pick: number; on: boolean }
  | { kind: 'setMaxAge'; days: number }
  | { kind: 'readFails'; page: number }
  | { kind: 'changeEvent'; pick: number };

const pick = fc.nat({ max: 1000 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'sweep' as const }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('wait' as const), days: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 4, max: 70 })), hours: fc.integer({ min: 0, max: 23 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('addUser' as const), keyAges: fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 2 }), exempt: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('removeUser' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('recreateUser' as const), pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('rotate' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deactivate' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reactivate' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('exempt' as const), pick, on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('setMaxAge' as const), days: fc.constantFrom(30, 60, 90) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('readFails' as const), page: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('changeEvent' as const), pick }) },
);

const silent = createLogger({ level: 'error', sink: () => undefined });

/** One account, the two rules and their stores. */
class World {
  now = START;
  maxAge = 90;
  readonly iam = new FakeIamAccount(() => this.now);
  readonly iamClient = new IAMClient({ region: 'us-east-1' });
  readonly changed = new ConfigEvaluationStore(RULE_NAME, () => this.now);
  readonly full = new ConfigEvaluationStore(RULE_NAME, () => this.now);
  readonly changedClient = new ConfigServiceClient({ region: 'us-east-1' });
  readonly fullClient = new ConfigServiceClient({ region: 'us-east-1' });
  private names = 0;
  /** Users any evaluation was ever put for. */
  readonly seen = new Set<string>();
  failNextRead?: number;

  constructor(readonly refreshDays: number) {
    this.iam.attach(this.iamClient);
    this.changed.attach(this.changedClient);
    this.full.attach(this.fullClient);
  }

  close(): void {
    this.iam.detach();
    this.changed.detach();
    this.full.detach();
  }

  users(): FakeUser[] {
    return [...this.iam.users.values()];
  }

  chosen(n: number): FakeUser | undefined {
    const all = this.users();
    return all.length ? all[n % all.length] : undefined;
  }

  handler(config: ConfigServiceClient) {
    return createHandler({ iam: this.iamClient, config, now: () => this.now, wallClock: () => this.now, sleep: async () => undefined, pacing: false, retry: { maxAttempts: 2 }, log: silent });
  }

  params(refreshDays: number) {
    return { MaxAccessKeyAge: String(this.maxAge), ExemptionTag: EXEMPT_TAG, EvaluationRefreshDays: String(refreshDays) };
  }

  async sweep(config: ConfigServiceClient, refreshDays: number, at = this.now): Promise<RuleInvocationResult> {
    return this.handler(config)(scheduledEvent(this.params(refreshDays), { resultToken: 'token', notificationCreationTime: at.toISOString() }));
  }

  /** The verdict the policy gives each user of the account now. */
  oracle(): Map<string, string> {
    return new Map(
      this.users().map((u) => {
        if (u.tags.some((t) => t.Key === EXEMPT_TAG)) return [u.userId, 'NOT_APPLICABLE'];
        const keys = [...u.keys].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((k, i) => ({ ...k, slot: (i + 1) as 1 | 2 }));
        return [u.userId, evaluateAccessKeys(keys, this.now, { maxAccessKeyAgeDays: this.maxAge }).compliance];
      }),
    );
  }

  apply(a: Exclude<Action, { kind: 'sweep' | 'changeEvent' }>): void {
    switch (a.kind) {
      case 'wait':
        this.now = new Date(this.now.getTime() + a.days * DAY_MS + a.hours * 3_600_000);
        return;
      case 'addUser': {
        const u = this.iam.createUser(`user${++this.names}`, a.exempt ? { tags: [{ Key: EXEMPT_TAG, Value: 'true' }] } : {});
        for (const age of a.keyAges) this.iam.createKey(u.userName, new Date(this.now.getTime() - age * DAY_MS - 60_000));
        return;
      }
      case 'removeUser': {
        const u = this.chosen(a.pick);
        if (u) this.iam.deleteUser(u.userName);
        return;
      }
      case 'recreateUser': {
        const u = this.chosen(a.pick);
        if (!u) return;
        this.iam.deleteUser(u.userName);
        this.iam.createKey(this.iam.createUser(u.userName).userName);
        return;
      }
      case 'rotate': {
        const u = this.chosen(a.pick);
        if (!u) return;
        // the usual rotation: make room if both slots are taken, create the new key, retire the old one
        const oldest = [...u.keys].sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime())[0];
        if (oldest && u.keys.length === 2) this.iam.deleteKey(u.userName, oldest.accessKeyId);
        this.iam.createKey(u.userName);
        if (oldest) this.iam.deleteKey(u.userName, oldest.accessKeyId);
        return;
      }
      case 'deactivate':
      case 'reactivate': {
        const key = this.chosen(a.pick)?.keys[0];
        if (key) key.status = a.kind === 'deactivate' ? 'Inactive' : 'Active';
        return;
      }
      case 'exempt': {
        const u = this.chosen(a.pick);
        if (u) u.tags = a.on ? [{ Key: EXEMPT_TAG, Value: 'yes' }] : [];
        return;
      }
      case 'setMaxAge':
        this.maxAge = a.days;
        return;
      case 'readFails':
        this.failNextRead = a.page;
        return;
    }
  }
}

const view = (m: Map<string, StoredEvaluation>) => new Map([...m].map(([id, e]) => [id, { compliance: e.compliance, annotation: e.annotation }]));

describe('a sweep that puts only what changed', () => {
  it('after any sequence of sweeps holds exactly what a full put holds, the policy’s verdicts, and puts nothing when nothing changed', async () => {
    let sweeps = 0;
    let quiet = 0;
    let failedReads = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 8, maxLength: 40 }), fc.constantFrom(30, 30, 1, 7, 60), async (actions, refreshDays) => {
        const w = new World(refreshDays);
        let pendingCleanup = false;

        const sweep = async () => {
          sweeps++;
          const before = view(w.changed.snapshot());
          const recordedBefore = w.changed.recorded;
          const failPage = w.failNextRead;
          w.failNextRead = undefined;
          w.changed.readFault = failPage === undefined ? undefined : ({ page }) => (page >= failPage ? configError('ThrottlingException', 'Rate exceeded') : undefined);
          const fullResult = await w.sweep(w.fullClient, 0);
          const changedRun = await w.sweep(w.changedClient, refreshDays).then(
            (r) => ({ ok: true as const, r }),
            (err: unknown) => ({ ok: false as const, err }),
          );
          w.changed.readFault = undefined;
          for (const u of w.users()) w.seen.add(u.userId);
          const put = w.changed.recorded - recordedBefore;
          const full = view(w.full.snapshot());
          const changed = view(w.changed.snapshot());
          const oracle = w.oracle();

          // The full put holds the policy's verdict for every user, NOT_APPLICABLE for every user gone.
          for (const [id, compliance] of oracle) expect(full.get(id)?.compliance).toBe(compliance);
          for (const id of w.seen) if (!oracle.has(id)) expect(full.get(id)?.compliance).toBe('NOT_APPLICABLE');
          expect(fullResult.unchanged).toBe(0);
          // Every current user: the same verdict and annotation as the full put.
          for (const id of oracle.keys()) expect(changed.get(id)).toEqual(full.get(id));

          if (!changedRun.ok) {
            // A read of Config that fails part-way: every verdict is put all the same, then the
            // invocation fails; users gone since are cleared by the next sweep that reads.
            failedReads++;
            expect(changedRun.err).toBeInstanceOf(AwsCallError);
            expect(put).toBe(oracle.size);
            pendingCleanup = true;
            return;
          }
          pendingCleanup = false;
          // Every user at all, gone ones included.
          expect(changed).toEqual(full);
          // Each user whose record changed in this sweep was put in it.
          const differed = [...full].filter(([id, e]) => before.get(id)?.compliance !== e.compliance || before.get(id)?.annotation !== e.annotation);
          expect(put).toBeGreaterThanOrEqual(differed.length);
          expect(changedRun.r.evaluations).toBe(put);
          // The same sweep again, a minute later, with nothing changed: nothing is put.
          const again = await w.sweep(w.changedClient, refreshDays, new Date(w.now.getTime() + 60_000));
          expect(again.evaluations).toBe(0);
          expect(again.unchanged).toBe(oracle.size);
          expect(view(w.changed.snapshot())).toEqual(full);
          quiet++;
        };

        try {
          for (const a of actions) {
            if (a.kind === 'sweep') {
              await sweep();
            } else if (a.kind === 'changeEvent') {
              const u = w.chosen(a.pick);
              if (!u) continue;
              // A change event is evaluated and put by both rules, as Config invokes a rule on a change.
              const event = () => changeEvent(userConfigurationItem({ resourceId: u.userId, resourceName: u.userName, configurationItemCaptureTime: w.now.toISOString() }), w.params(0), { resultToken: 'token' });
              await w.handler(w.changedClient)(event());
              await w.handler(w.fullClient)(event());
              w.seen.add(u.userId);
            } else {
              w.apply(a);
            }
          }
          w.failNextRead = undefined;
          await sweep();
          expect(pendingCleanup).toBe(false);
        } finally {
          w.close();
        }
      }),
      { seed: SEED, numRuns: 80 },
    );
    // The runs exercised what they claim to.
    expect(sweeps).toBeGreaterThan(300);
    expect(quiet).toBeGreaterThan(200);
    expect(failedReads).toBeGreaterThan(5);
  });
});
