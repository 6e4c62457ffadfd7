/**
 * The remediation (runbook 1: deactivate, runbook 2: delete) against moto_server, with faults
 * injected into the real IAM client at every step, concurrent runs for one user, and a person
 * changing keys between keyage's read and its write.
 *
 * What must hold, whatever happens:
 *   - no key is deleted unless keyage's own rule, on the world as it is at that moment, says
 *     delete: Inactive, a record that VERIFIES with the record key, past its grace period, unused
 *     since (checked by a guard that reads IAM and KMS before every DeleteAccessKey attempt,
 *     with keyage's production functions `assessRecord` and `decideDeletion`);
 *   - no key keyage deactivated is ever left without its record (it would never be deleted);
 *   - a failed run fails with a named error, and the next run converges to the state one
 *     fault-free run reaches;
 *   - a person's change is reported and never undone.
 *
 * moto cannot backdate keys: the decision clock moves instead (day 91: stale; day 106: the
 * 14-day grace period after a deactivation on day 91 is over).
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUserTagsCommand,
  NoSuchEntityException,
  TagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { AwsCaller } from '../../lib/aws-call';
import { KeyageError } from '../../lib/errors';
import { createLogger } from '../../lib/log';
import { DEACTIVATION_TAG_PREFIX, type DeactivationReport, deactivateStaleKeys, deleteDeactivatedKeys, type DeletionReport, type RemediationContext } from '../../remediation/core';
import { DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME } from '../../remediation/documents';
import { createHandler as createRemediationHandler } from '../../remediation/handler';
import { decideDeletion, readDeactivationRecords } from '../../remediation/plan';
import { accountOfArn, assessRecord, kmsRecordSigner, type RecordSigner, readRecordTag } from '../../remediation/records';
import { AutomationFake } from '../harness/automation';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { type FaultKind, FaultInjector, type FaultRule, type FaultTiming, type InterceptedCall } from '../harness/faults';
import { describeWithMoto, type MotoAccount, newMotoAccount, recordKeyOf } from '../harness/moto';
import { inPool } from './population';

const GRACE_DAYS = 14;
const MAX_AGE = 90;

/** The IAM writes keyage sends; the deletion guard serializes them (see `faultyContext`). */
const WRITES = new Set(['TagUserCommand', 'UntagUserCommand', 'UpdateAccessKeyCommand', 'DeleteAccessKeyCommand']);

/** A signed record reads "<time> (signed)" in snapshots: the MAC differs per key, the format does not. */
const SIGNED = (at: Date) => `${at.toISOString()} (signed)`;

/** One at a time: `exclusive(fn)` runs `fn` once every earlier holder has finished. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

/** Every write sent by the clients under test, across runs. */
const writes = new Mutex();

interface Snapshot {
  keys: string[];
  tags: string[];
}

type Report = DeactivationReport | DeletionReport;

/** How a fault strikes the chosen step. */
interface FaultMode {
  readonly name: string;
  readonly kind: FaultKind;
  readonly timing: FaultTiming;
  /** Every retry of the step fails too (past the retry budget), or only the first attempt. */
  readonly permanent: boolean;
}

const MODES: readonly FaultMode[] = [
  { name: 'throttled once before it reached IAM', kind: 'throttle', timing: 'before', permanent: false },
  { name: 'answer lost once after IAM acted', kind: 'connection-reset', timing: 'after', permanent: false },
  { name: 'failing past the retry budget before reaching IAM', kind: 'server-error', timing: 'before', permanent: true },
  { name: 'failing past the retry budget, every attempt taking effect', kind: 'server-error', timing: 'after', permanent: true },
];

describeWithMoto('remediation under faults, races and people acting meanwhile', () => {
  let account: MotoAccount;
  /** An IAM client without faults: the world as it is, and the hands of "a person". */
  let clean: IAMClient;
  /** The account's record key, and a fault-free signer over it (the guard's, and the setup's). */
  let recordKeyArn: string;
  let cleanSigner: RecordSigner;
  /** Guard findings: deletions that must never have been attempted. */
  let violations: string[];
  const clients: { destroy(): void }[] = [];
  const figures: Record<string, unknown> = {};

  async function useAccount(a: MotoAccount): Promise<void> {
    account = a;
    clean = a.iam;
    recordKeyArn = await recordKeyOf(a);
    cleanSigner = kmsRecordSigner(a.kms, recordKeyArn, new AwsCaller({ sleep: async () => undefined }));
  }

  /** The remediation as the Lambda runs it, without faults: for setting the scene. */
  const setupContext = (): RemediationContext => ({ iam: clean, caller: new AwsCaller({ sleep: async () => undefined }), log: createLogger({ level: 'error', sink: () => undefined }), signer: cleanSigner });

  beforeAll(async () => {
    await useAccount(await newMotoAccount());
  }, 60_000);

  beforeEach(() => {
    violations = [];
  });

  afterAll(() => {
    for (const c of clients) c.destroy();
    account?.iam.destroy();
    account?.config.destroy();
    process.stdout.write(`[keyage reliability] remediation figures ${JSON.stringify(figures)}\n`);
  });

  /** A user with `keyCount` keys created now; `day(n)` is n days after their creation. */
  async function givenUser(userName: string, keyCount: number): Promise<{ ids: string[]; userId: string; day: (n: number) => Date }> {
    const user = await clean.send(new CreateUserCommand({ UserName: userName }));
    const ids: string[] = [];
    let created = 0;
    for (let i = 0; i < keyCount; i++) {
      const key = (await clean.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
      ids.push(key?.AccessKeyId as string);
      created = Math.max(created, (key?.CreateDate as Date).getTime());
    }
    return { ids, userId: user.User?.UserId as string, day: (n) => new Date(created + n * DAY_MS) };
  }

  async function snapshot(userName: string): Promise<Snapshot> {
    const keys = (await clean.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
    const tags = (await clean.send(new ListUserTagsCommand({ UserName: userName }))).Tags ?? [];
    return {
      keys: keys.map((k) => `${k.AccessKeyId}:${k.Status}`).sort(),
      tags: tags.map((t) => `${t.Key}=${(t.Value ?? '').replace(/^(\S+) v1 [A-Za-z0-9+/]{43}=$/, '$1 (signed)')}`).sort(),
    };
  }

  const deactivatedState = (ids: readonly string[], at: Date): Snapshot => ({
    keys: ids.map((id) => `${id}:Inactive`).sort(),
    tags: ids.map((id) => `${DEACTIVATION_TAG_PREFIX}${id}=${SIGNED(at)}`).sort(),
  });

  /**
   * IAM, Config and KMS clients with the fault injector, and a guard that reads IAM and KMS
   * before every DeleteAccessKey attempt and asks keyage's own rule whether that key may be
   * deleted at `now`.
   */
  function faultyContext(
    rules: readonly FaultRule[],
    seed: number,
    now: () => Date,
    delay?: (ms: number) => Promise<void>,
  ): { ctx: RemediationContext; injector: FaultInjector; iam: IAMClient; config: ConfigServiceClient; kms: KMSClient } {
    const common = { endpoint: account.endpoint, region: account.region, credentials: account.credentials, maxAttempts: 1 };
    const iam = new IAMClient(common);
    const config = new ConfigServiceClient(common);
    const kms = new KMSClient(common);
    clients.push(iam, config, kms);
    iam.middlewareStack.add(
      (next, context) => async (args) => {
        if (!WRITES.has(context.commandName ?? '')) return next(args);
        // The guard's reads and the delete form one step: no other run's write may land between
        // them, or the guard would judge a state the delete never met (a key deleted, then its
        // record cleared, by another run after the guard listed the keys but before it read the
        // tags). Reads are not serialized, so the runs still race where keyage itself can.
        return writes.exclusive(async () => {
          if (context.commandName === 'DeleteAccessKeyCommand') {
            const { UserName, AccessKeyId } = args.input as { UserName: string; AccessKeyId: string };
            const problem = await deletionProblem(UserName, AccessKeyId, now());
            if (problem) violations.push(`DeleteAccessKey ${UserName}/${AccessKeyId}: ${problem}`);
          }
          return next(args);
        });
      },
      { step: 'initialize', name: 'keyageDeletionGuard' },
    );
    const injector = new FaultInjector({ seed, rules, ...(delay ? { delay } : {}) });
    injector.attach(iam, 'iam');
    injector.attach(config, 'config');
    injector.attach(kms, 'kms');
    const caller = new AwsCaller({ sleep: async () => undefined });
    const ctx: RemediationContext = { iam, config, caller, log: createLogger({ level: 'error', sink: () => undefined }), signer: kmsRecordSigner(kms, recordKeyArn, caller) };
    return { ctx, injector, iam, config, kms };
  }

  /**
   * Why keyage's own rule would NOT delete this key now, or undefined when it would (or the key
   * is gone: IAM answers NoSuchEntity and nothing is deleted). The production criterion: the
   * record must verify with the record key (`assessRecord`), and `decideDeletion` must say delete.
   */
  async function deletionProblem(userName: string, accessKeyId: string, now: Date): Promise<string | undefined> {
    let keys;
    let user;
    try {
      keys = (await clean.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
      user = (await clean.send(new GetUserCommand({ UserName: userName }))).User;
    } catch (err) {
      if (err instanceof NoSuchEntityException) return undefined;
      throw err;
    }
    const key = keys.find((k) => k.AccessKeyId === accessKeyId);
    if (!key) return undefined;
    if (key.Status !== 'Inactive') return `the key is ${key.Status}`;
    const tags = (await clean.send(new ListUserTagsCommand({ UserName: userName }))).Tags ?? [];
    const record = readDeactivationRecords(tags).find((r) => r.form === 'exact' && r.accessKeyId === accessKeyId);
    if (!record) return 'keyage has no deactivation record for it';
    const tag = readRecordTag(record.tagKey);
    const subject = { accountId: accountOfArn(user?.Arn ?? '') ?? '', userId: user?.UserId ?? '', accessKeyId, keyCreatedAt: key.CreateDate as Date };
    const verdict = tag ? await assessRecord(tag, record.value, subject, now, cleanSigner) : undefined;
    if (verdict?.status !== 'verified') return `its record does not verify (${verdict?.status ?? 'unreadable'}${verdict && 'reason' in verdict ? `: ${verdict.reason}` : ''})`;
    const used = (await clean.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }))).AccessKeyLastUsed?.LastUsedDate;
    const live = { accessKeyId, slot: 1 as const, status: 'Inactive' as const, createdAt: key.CreateDate as Date, lastUsedAt: used ? new Date(used) : null };
    const decision = decideDeletion(live, { ...record, verdict }, now, { graceDays: GRACE_DAYS });
    if (decision.action !== 'delete') return `keyage's rule says ${decision.action}: ${decision.reason}`;
    return undefined;
  }

  /** Keys keyage switched off must keep their record until deleted: an Inactive key without one would never be deleted. */
  async function forgottenKeys(userName: string): Promise<string[]> {
    const s = await snapshot(userName);
    return s.keys
      .filter((k) => k.endsWith(':Inactive'))
      .map((k) => k.split(':')[0] as string)
      .filter((id) => !s.tags.some((t) => t.startsWith(`${DEACTIVATION_TAG_PREFIX}${id}=`)));
  }

  /** A rule that hits exactly the `step`-th call (and, when permanent, every retry of that same call). */
  function faultAtStep(step: number, mode: FaultMode): FaultRule {
    let target: string | undefined;
    const identity = (c: InterceptedCall) => `${c.operation}:${JSON.stringify(c.input)}`;
    return {
      kinds: { [mode.kind]: 1 },
      timing: mode.timing,
      match: (c) => {
        if (c.sequence === step) {
          target = identity(c);
          return true;
        }
        return mode.permanent && target !== undefined && c.sequence > step && identity(c) === target;
      },
    };
  }

  interface Flow {
    readonly name: string;
    /** Creates the user (and, for deletion, deactivates its keys on day 91); returns the state one fault-free run must reach. */
    prepare(userName: string): Promise<{ now: Date; expected: Snapshot }>;
    run(ctx: RemediationContext, userName: string, now: Date): Promise<Report>;
  }

  const deactivateFlow: Flow = {
    name: 'deactivate',
    async prepare(userName) {
      const { ids, day } = await givenUser(userName, 2);
      return { now: day(91), expected: deactivatedState(ids, day(91)) };
    },
    run: (ctx, userName, now) => deactivateStaleKeys(ctx, { userName, maxAccessKeyAgeDays: MAX_AGE, dryRun: false, now }),
  };

  const deleteFlow: Flow = {
    name: 'delete',
    async prepare(userName) {
      const { day } = await givenUser(userName, 2);
      await deactivateStaleKeys(setupContext(), { userName, maxAccessKeyAgeDays: MAX_AGE, dryRun: false, now: day(91) });
      return { now: day(91 + GRACE_DAYS + 1), expected: { keys: [], tags: [] } };
    },
    run: (ctx, userName, now) => deleteDeactivatedKeys(ctx, { userName, graceDays: GRACE_DAYS, dryRun: false, now }),
  };

  async function exploreEveryStep(flow: Flow): Promise<{ steps: string[]; problems: string[]; cases: number; outcomes: Record<string, number> }> {
    // The fault-free run, to learn its steps.
    const base = `${flow.name}-base`;
    const { now: baseNow, expected: baseExpected } = await flow.prepare(base);
    const probe = faultyContext([], 1, () => baseNow);
    await flow.run(probe.ctx, base, baseNow);
    expect(await snapshot(base)).toEqual(baseExpected);
    const steps = probe.injector.calls.map((c) => c.operation);

    const problems: string[] = [];
    const outcomes: Record<string, number> = {};
    const cases = MODES.flatMap((mode, m) => steps.map((operation, i) => ({ mode, m, step: i + 1, operation })));
    await inPool(cases, 4, async ({ mode, m, step, operation }) => {
      const userName = `${flow.name}-m${m}-s${step}`;
      const label = `${flow.name}: step ${step} (${operation}) ${mode.name}`;
      const { now, expected } = await flow.prepare(userName);
      const faulty = faultyContext([faultAtStep(step, mode)], step, () => now);
      const error = await flow.run(faulty.ctx, userName, now).then(
        () => undefined,
        (e: unknown) => e,
      );
      const outcome = error === undefined ? 'run succeeded' : `failed with ${(error as Error).name}`;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (faulty.injector.injected.length === 0) problems.push(`${label}: the fault was never injected`);
      if (error !== undefined && !(error instanceof KeyageError)) problems.push(`${label}: failed with ${String(error)}, not a named error`);
      if (!mode.permanent && error !== undefined) problems.push(`${label}: a fault the retry absorbs still failed the run: ${(error as Error).message}`);
      const forgotten = await forgottenKeys(userName);
      if (forgotten.length > 0) problems.push(`${label}: Inactive key(s) without keyage's record after the failure: ${forgotten.join(', ')}`);
      // The next run, without faults, converges.
      const next = faultyContext([], 1, () => now);
      const again = await flow.run(next.ctx, userName, now).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (again !== undefined) problems.push(`${label}: the next run failed: ${(again as Error).message}`);
      const final = await snapshot(userName);
      if (JSON.stringify(final) !== JSON.stringify(expected)) problems.push(`${label}: ended as ${JSON.stringify(final)}, expected ${JSON.stringify(expected)}`);
    });
    return { steps, problems, cases: cases.length, outcomes };
  }

  it('the deletion guard itself reports a DeleteAccessKey sent for an Active key', async () => {
    const { ids, day } = await givenUser('guard-check', 1);
    const { iam } = faultyContext([], 1, () => day(200));
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'guard-check', AccessKeyId: ids[0] as string }));
    expect(violations).toEqual([`DeleteAccessKey guard-check/${ids[0]}: the key is Active`]);
  });

  it('the deletion guard itself reports a DeleteAccessKey sent on a forged record, however old its date', async () => {
    const { ids, day } = await givenUser('guard-forged', 1);
    const id = ids[0] as string;
    await clean.send(new UpdateAccessKeyCommand({ UserName: 'guard-forged', AccessKeyId: id, Status: 'Inactive' }));
    await clean.send(new TagUserCommand({ UserName: 'guard-forged', Tags: [{ Key: `${DEACTIVATION_TAG_PREFIX}${id}`, Value: day(1).toISOString() }] }));
    const { iam } = faultyContext([], 1, () => day(200));
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'guard-forged', AccessKeyId: id }));
    expect(violations).toEqual([expect.stringMatching(new RegExp(`^DeleteAccessKey guard-forged/${id}: its record does not verify \\(unsigned`))]);
  });

  it('runbook 1 (deactivate) with a fault at every step, in every mode: never an Inactive key without its record, and the next run converges', async () => {
    const started = Date.now();
    const { steps, problems, cases, outcomes } = await exploreEveryStep(deactivateFlow);
    expect(steps).toEqual(expect.arrayContaining(['ListAccessKeys', 'ListUserTags', 'TagUser', 'UpdateAccessKey']));
    // The record is written before the key is switched off, for each key.
    expect(steps.filter((s) => s === 'TagUser' || s === 'UpdateAccessKey')).toEqual(['TagUser', 'UpdateAccessKey', 'TagUser', 'UpdateAccessKey']);
    expect(problems).toEqual([]);
    expect(violations).toEqual([]);
    expect(outcomes['run succeeded']).toBeGreaterThanOrEqual(2 * steps.length);
    figures.deactivateEveryStep = { steps, cases, outcomes, ms: Date.now() - started };
  }, 300_000);

  // This exploration and the one before it run the runbook once per (step, fault) pair against moto: about
  // 40 s each on a quiet 2-core machine, 90-200 s when other processes load it. Their timeout
  // only guards against a hang; it is not a speed target (those are in BENCHMARKS.md).
  it('runbook 2 (delete) with a fault at every step, in every mode: nothing deleted while Active or early, nothing forgotten, and the next run converges', async () => {
    const started = Date.now();
    const { steps, problems, cases, outcomes } = await exploreEveryStep(deleteFlow);
    expect(steps).toEqual(expect.arrayContaining(['ListAccessKeys', 'GetAccessKeyLastUsed', 'ListUserTags', 'DeleteAccessKey', 'UntagUser']));
    expect(problems).toEqual([]);
    expect(violations).toEqual([]);
    figures.deleteEveryStep = { steps, cases, outcomes, ms: Date.now() - started };
  }, 300_000);

  it('runbook 2 inside the grace period, under 30% faults of every kind: no key is deleted', async () => {
    const runs: string[] = [];
    for (let seed = 1; seed <= 5; seed++) {
      const userName = `grace-${seed}`;
      const { ids, day } = await givenUser(userName, 2);
      await deactivateStaleKeys(setupContext(), { userName, maxAccessKeyAgeDays: MAX_AGE, dryRun: false, now: day(91) });
      const now = day(91 + GRACE_DAYS - 1);
      const faulty = faultyContext([{ service: 'iam', rate: 0.3, kinds: { throttle: 2, 'server-error': 2, 'connection-reset': 1 }, timing: 'mixed', maxConsecutive: 4 }], seed, () => now);
      const report = await deleteDeactivatedKeys(faulty.ctx, { userName, graceDays: GRACE_DAYS, dryRun: false, now });
      expect(report.actions.map((a) => [a.accessKeyId, a.action, a.applied])).toEqual(ids.map((id) => [id, 'keep', false]));
      expect(await snapshot(userName)).toEqual(deactivatedState(ids, day(91)));
      runs.push(`${seed}:${faulty.injector.injected.length}`);
    }
    expect(faultyInjected(runs)).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  }, 60_000);

  it('three deactivate runs and then three delete runs at once for one user, under faults: all succeed, and the end state is that of one run', async () => {
    // An account of its own: the every-user run ('*') must see only this test's users.
    const shared = account;
    await useAccount(await newMotoAccount());
    clients.push(account.iam, account.config, account.kms);
    const summary: unknown[] = [];
    try {
      await races(summary);
    } finally {
      await useAccount(shared);
    }
    expect(violations).toEqual([]);
    figures.races = summary;
  }, 60_000);

  async function races(summary: unknown[]): Promise<void> {
    for (let seed = 1; seed <= 4; seed++) {
      const userName = `race-${seed}`;
      const { ids, userId, day } = await givenUser(userName, 2);
      let now = day(91);
      const rules: FaultRule[] = [{ service: 'iam', rate: 0.2, kinds: { throttle: 3, 'server-error': 2, 'connection-reset': 2, slow: 3 }, timing: 'mixed', slowMs: [1, 15], maxConsecutive: 4 }];
      // Each run is its own Lambda invocation with its own clients, for its own Automation
      // execution of keyage's documents, as when SSM starts them.
      const automation = new AutomationFake();
      const invoke = async (document: string, supplied: Record<string, string>, i: number) => {
        const { iam, config, kms, injector } = faultyContext(rules, seed * 100 + i, () => now);
        const lambda = createRemediationHandler({ iam, config, kms, ssm: automation.client, recordKeyArn, now: () => now, sleep: async () => undefined, log: createLogger({ level: 'error', sink: () => undefined }) });
        const result = await lambda(automation.start(document, supplied).payload);
        return { result, injected: injector.injected.length };
      };
      const deactivations = await Promise.all([0, 1, 2].map((i) => invoke(DEACTIVATE_RUNBOOK_NAME, { IAMResourceId: userId, MaxAccessKeyAge: '90', ExemptionTag: '', DryRun: 'false' }, i)));
      expect(deactivations.map((d) => d.result.status)).toEqual(['Success', 'Success', 'Success']);
      expect(await snapshot(userName)).toEqual(deactivatedState(ids, day(91)));

      now = day(91 + GRACE_DAYS + 1);
      const deletions = await Promise.all(
        [userName, userName, '*'].map((target, i) => invoke(DELETE_RUNBOOK_NAME, { IAMUser: target, GracePeriodDays: String(GRACE_DAYS), ExemptionTag: '', DryRun: 'false' }, 10 + i)),
      );
      expect(deletions.map((d) => d.result.status)).toEqual(['Success', 'Success', 'Success']);
      expect(await snapshot(userName)).toEqual({ keys: [], tags: [] });
      // Each key was deleted by one run: at most one was told so by IAM; a run whose answer was
      // lost and then found the key gone says so in its outcome (it cannot tell its own delete
      // from another run's); the others found it gone.
      for (const id of ids) {
        const applied = deletions.flatMap((d) => d.result.actions).filter((a) => a.accessKeyId === id && a.action === 'delete' && a.applied);
        const lost = applied.filter((a) => a.outcome?.startsWith("Deleted by this run: IAM's answer to DeleteAccessKey was lost"));
        expect(applied.length).toBeGreaterThanOrEqual(1);
        expect(applied.length - lost.length).toBeLessThanOrEqual(1);
      }
      summary.push({ seed, injected: [...deactivations, ...deletions].map((d) => d.injected) });
    }
  }

  describe('a person changes the keys between keyage’s read and its write', () => {
    /** A rule that runs `act` once, just before the `occurrence`-th call to `operation` reaches IAM. */
    const person = (operation: string, act: () => Promise<unknown>, occurrence = 1, timing: FaultTiming = 'before'): FaultRule => {
      let done = false;
      return {
        operation,
        timing,
        match: (c) => !done && c.occurrence === occurrence,
        action: async () => {
          done = true;
          await act();
        },
      };
    };

    async function deactivatedUser(userName: string) {
      const u = await givenUser(userName, 1);
      await deactivateStaleKeys(setupContext(), { userName, maxAccessKeyAgeDays: MAX_AGE, dryRun: false, now: u.day(91) });
      return { ...u, id: u.ids[0] as string };
    }

    it('runbook 1: the key deleted by a person after keyage read it is reported as gone, with no record left behind', async () => {
      const { ids, day } = await givenUser('p-deleted', 1);
      const id = ids[0] as string;
      const { ctx, injector } = faultyContext([person('TagUser', () => clean.send(new DeleteAccessKeyCommand({ UserName: 'p-deleted', AccessKeyId: id })))], 1, () => day(91));
      const report = await deactivateStaleKeys(ctx, { userName: 'p-deleted', maxAccessKeyAgeDays: MAX_AGE, dryRun: false, now: day(91) });
      expect(injector.stats.actions).toBe(1);
      expect(report.actions).toEqual([expect.objectContaining({ accessKeyId: id, action: 'deactivate', applied: false, outcome: 'The key or its user no longer exists; nothing to deactivate.' })]);
      expect(await snapshot('p-deleted')).toEqual({ keys: [], tags: [] });
    });

    it('runbook 1: a person rotating (new key, old one switched off) just before keyage’s UpdateAccessKey: the new key is untouched, the old one recorded', async () => {
      const { ids, day } = await givenUser('p-rotated', 1);
      const old = ids[0] as string;
      let fresh = '';
      const rotate = async () => {
        fresh = (await clean.send(new CreateAccessKeyCommand({ UserName: 'p-rotated' }))).AccessKey?.AccessKeyId as string;
        await clean.send(new UpdateAccessKeyCommand({ UserName: 'p-rotated', AccessKeyId: old, Status: 'Inactive' }));
      };
      const { ctx } = faultyContext([person('UpdateAccessKey', rotate)], 1, () => day(91));
      const report = await deactivateStaleKeys(ctx, { userName: 'p-rotated', maxAccessKeyAgeDays: MAX_AGE, dryRun: false, now: day(91) });
      expect(report.actions.map((a) => [a.accessKeyId, a.action, a.applied])).toEqual([[old, 'deactivate', true]]);
      expect(await snapshot('p-rotated')).toEqual({ keys: [`${fresh}:Active`, `${old}:Inactive`].sort(), tags: [`${DEACTIVATION_TAG_PREFIX}${old}=${SIGNED(day(91))}`] });
    });

    it('runbook 1 then 2: a key re-activated by a person right after keyage switched it off is left Active, and its record is cleared', async () => {
      const { ids, day } = await givenUser('p-reactivated', 1);
      const id = ids[0] as string;
      const { ctx } = faultyContext([person('UpdateAccessKey', () => clean.send(new UpdateAccessKeyCommand({ UserName: 'p-reactivated', AccessKeyId: id, Status: 'Active' })), 1, 'after')], 1, () => day(91));
      await deactivateStaleKeys(ctx, { userName: 'p-reactivated', maxAccessKeyAgeDays: MAX_AGE, dryRun: false, now: day(91) });
      expect((await snapshot('p-reactivated')).keys).toEqual([`${id}:Active`]);
      const later = faultyContext([], 1, () => day(120));
      const report = await deleteDeactivatedKeys(later.ctx, { userName: 'p-reactivated', graceDays: GRACE_DAYS, dryRun: false, now: day(120) });
      expect(report.actions).toEqual([expect.objectContaining({ accessKeyId: id, status: 'Active', action: 'clear-record', applied: true })]);
      expect(await snapshot('p-reactivated')).toEqual({ keys: [`${id}:Active`], tags: [] });
      expect(violations).toEqual([]);
    });

    it('runbook 2: a key re-activated by a person after keyage planned to delete it is kept, the re-check is reported, and the next run clears the record', async () => {
      const { id, day } = await deactivatedUser('p-react2');
      const now = day(106);
      // The plan reads the keys (1st ListAccessKeys); the person acts before the re-check (2nd).
      const { ctx } = faultyContext([person('ListAccessKeys', () => clean.send(new UpdateAccessKeyCommand({ UserName: 'p-react2', AccessKeyId: id, Status: 'Active' })), 2)], 1, () => now);
      const report = await deleteDeactivatedKeys(ctx, { userName: 'p-react2', graceDays: GRACE_DAYS, dryRun: false, now });
      expect(report.actions).toEqual([expect.objectContaining({ accessKeyId: id, action: 'delete', applied: false, outcome: expect.stringMatching(/^Re-checked before deleting: Active key .* was re-activated/) })]);
      expect((await snapshot('p-react2')).keys).toEqual([`${id}:Active`]);
      expect(violations).toEqual([]);
      const next = faultyContext([], 1, () => day(107));
      await deleteDeactivatedKeys(next.ctx, { userName: 'p-react2', graceDays: GRACE_DAYS, dryRun: false, now: day(107) });
      expect(await snapshot('p-react2')).toEqual({ keys: [`${id}:Active`], tags: [] });
    });

    it('runbook 2: a key deleted by a person just before keyage deletes it is reported as already deleted and its record cleared, without error', async () => {
      const { id, day } = await deactivatedUser('p-gone');
      const now = day(106);
      const { ctx } = faultyContext([person('DeleteAccessKey', () => clean.send(new DeleteAccessKeyCommand({ UserName: 'p-gone', AccessKeyId: id })))], 1, () => now);
      const report = await deleteDeactivatedKeys(ctx, { userName: 'p-gone', graceDays: GRACE_DAYS, dryRun: false, now });
      expect(report.actions).toEqual([expect.objectContaining({ accessKeyId: id, action: 'delete', applied: false, outcome: 'Already deleted (by another run or a person); its record is cleared.' })]);
      expect(await snapshot('p-gone')).toEqual({ keys: [], tags: [] });
    });

    it('runbook 2: a new key a person created meanwhile is never touched', async () => {
      const { id, day } = await deactivatedUser('p-newkey');
      const now = day(106);
      let fresh = '';
      const { ctx } = faultyContext(
        [person('DeleteAccessKey', async () => void (fresh = (await clean.send(new CreateAccessKeyCommand({ UserName: 'p-newkey' }))).AccessKey?.AccessKeyId as string))],
        1,
        () => now,
      );
      const report = await deleteDeactivatedKeys(ctx, { userName: 'p-newkey', graceDays: GRACE_DAYS, dryRun: false, now });
      expect(report.actions.map((a) => [a.accessKeyId, a.action, a.applied])).toEqual([[id, 'delete', true]]);
      expect(await snapshot('p-newkey')).toEqual({ keys: [`${fresh}:Active`], tags: [] });
    });

    // The re-check before DeleteAccessKey reads the key's status LAST, after its tags and last
    // use: a person who re-activates the key while those reads (and their retries) are answered
    // is seen, and the key is kept. (IAM has no conditional delete; one round trip remains.)
    it('runbook 2: a key re-activated by a person while the re-check reads its record and last use is not deleted', async () => {
      const { id, day } = await deactivatedUser('p-window');
      const now = day(106);
      const { ctx } = faultyContext([person('GetAccessKeyLastUsed', () => clean.send(new UpdateAccessKeyCommand({ UserName: 'p-window', AccessKeyId: id, Status: 'Active' })), 2)], 1, () => now);
      await deleteDeactivatedKeys(ctx, { userName: 'p-window', graceDays: GRACE_DAYS, dryRun: false, now });
      expect((await snapshot('p-window')).keys).toEqual([`${id}:Active`]);
    });
  });

  function faultyInjected(runs: readonly string[]): number {
    return runs.reduce((s, r) => s + Number(r.split(':')[1]), 0);
  }
});
