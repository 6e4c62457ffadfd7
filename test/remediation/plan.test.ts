import fc from 'fast-check';
import { DAY_MS } from '../../rules/access-key-age/policy';
import {
  countActions,
  DEACTIVATION_TAG_PREFIX,
  deactivationTagKey,
  decideDeletion,
  type LiveKey,
  type PlannedAction,
  planDeactivation,
  planDeletion,
  RECORD_SETTLE_MS,
  readDeactivationRecords,
  type DeactivationRecord,
  type UserTag,
} from '../../remediation/plan';

const NOW = new Date('2026-11-25T12:00:00.000Z');
const MAX = { maxAccessKeyAgeDays: 90 };
const GRACE = { graceDays: 14 };

function daysAgo(days: number, extraMs = 0): Date {
  return new Date(NOW.getTime() - days * DAY_MS - extraMs);
}

/** A live key `ageDays` old at NOW. */
function key(id: string, ageDays: number, overrides: Partial<LiveKey> = {}): LiveKey {
  return { accessKeyId: id, slot: 1, status: 'Active', createdAt: daysAgo(ageDays), lastUsedAt: null, ...overrides };
}

function record(id: string, at: Date | string): UserTag {
  return { Key: deactivationTagKey(id), Value: typeof at === 'string' ? at : at.toISOString() };
}

/**
 * The user's records as core.ts hands them to the plan: each one with a well-formed time
 * verified (its MAC checked out), the others as they read.
 */
function verified(tags: readonly UserTag[]): DeactivationRecord[] {
  return readDeactivationRecords(tags).map((r) => (r.form === 'exact' && r.deactivatedAt ? { ...r, verdict: { status: 'verified', recordedAt: r.deactivatedAt } } : r));
}

function only(actions: PlannedAction[]): PlannedAction {
  expect(actions).toHaveLength(1);
  return actions[0] as PlannedAction;
}

describe('readDeactivationRecords', () => {
  it('reads keyage:deactivated:<AccessKeyId> tags with their ISO time and ignores other tags', () => {
    const records = readDeactivationRecords([{ Key: 'team', Value: 'x' }, record('AKIAONE0000000000001', NOW)]);
    expect(records).toEqual([{ accessKeyId: 'AKIAONE0000000000001', tagKey: `${DEACTIVATION_TAG_PREFIX}AKIAONE0000000000001`, form: 'exact', value: NOW.toISOString(), deactivatedAt: NOW }]);
  });

  it('reads a tag key in another case as a record of that key, marked as a case variant (IAM compares tag keys case-insensitively)', () => {
    expect(readDeactivationRecords([{ Key: 'Keyage:Deactivated:AKIAONE0000000000001', Value: NOW.toISOString() }])[0]).toMatchObject({ accessKeyId: 'AKIAONE0000000000001', form: 'case-variant' });
  });

  it('reads a Unicode look-alike of the prefix (U+212A KELVIN SIGN for k) as a look-alike, not as keyage\'s record', () => {
    expect(readDeactivationRecords([{ Key: '\u212Aeyage:deactivated:AKIAONE0000000000001', Value: NOW.toISOString() }])[0]).toMatchObject({ accessKeyId: 'AKIAONE0000000000001', form: 'look-alike' });
  });

  it('keeps a record whose value is not an ISO time, without a time', () => {
    const [r] = readDeactivationRecords([record('AKIAONE0000000000001', 'yesterday')]);
    expect(r?.deactivatedAt).toBeUndefined();
    expect(r?.value).toBe('yesterday');
  });
});

describe('planDeactivation', () => {
  it('an active key 91 days old is deactivated, with its age and the limit in the reason', () => {
    const a = only(planDeactivation({ userName: 'alice', keys: [key('AKIAOLD0000000000001', 91)], tags: [] }, NOW, MAX));
    expect(a).toMatchObject({ userName: 'alice', accessKeyId: 'AKIAOLD0000000000001', slot: 1, status: 'Active', ageDays: 91, action: 'deactivate', deactivatedAt: null });
    expect(a.reason).toBe('Active key AKIAOLD0000000000001 (key 1) is 91 days old; limit 90. Deactivating it.');
  });

  it('a plan shown without acting (an audit, a dry run) names the deactivation in the conditional', () => {
    const a = only(planDeactivation({ userName: 'alice', keys: [key('AKIAOLD0000000000001', 91)], tags: [] }, NOW, { ...MAX, voice: 'conditional' }));
    expect(a.action).toBe('deactivate');
    expect(a.reason).toBe('Active key AKIAOLD0000000000001 (key 1) is 91 days old; limit 90. keyage would deactivate it.');
    const again = only(
      planDeactivation({ userName: 'alice', keys: [key('AKIAOLD0000000000001', 120)], tags: [record('AKIAOLD0000000000001', daysAgo(20))] }, NOW, { ...MAX, voice: 'conditional' }),
    );
    expect(again.reason).toMatch(/It is Active again although keyage deactivated it on \d{4}-\d{2}-\d{2}\. keyage would deactivate it again\.$/);
  });

  it('an active key exactly 90 days old is kept: the limit is inclusive, as in the rule', () => {
    const a = only(planDeactivation({ userName: 'alice', keys: [{ ...key('AKIA9000000000000001', 90), createdAt: daysAgo(90, -1) }], tags: [] }, NOW, MAX));
    expect(a.action).toBe('keep');
    expect(a.ageDays).toBe(89);
    const b = only(planDeactivation({ userName: 'alice', keys: [{ ...key('AKIA9000000000000001', 90), createdAt: daysAgo(90, DAY_MS - 1) }], tags: [] }, NOW, MAX));
    expect(b).toMatchObject({ ageDays: 90, action: 'keep' });
  });

  it('a never-used new key is not stale: it is kept', () => {
    expect(only(planDeactivation({ userName: 'alice', keys: [key('AKIANEW0000000000002', 3)], tags: [] }, NOW, MAX)).action).toBe('keep');
  });

  it('every key is planned: a stale key is deactivated whatever the other key is', () => {
    const actions = planDeactivation(
      { userName: 'alice', keys: [key('AKIANEW0000000000002', 10, { slot: 2 }), key('AKIAOLD0000000000001', 200, { slot: 1 })], tags: [] },
      NOW,
      MAX,
    );
    expect(actions.map((a) => [a.accessKeyId, a.action])).toEqual([
      ['AKIAOLD0000000000001', 'deactivate'],
      ['AKIANEW0000000000002', 'keep'],
    ]);
  });

  it('an exempt user keeps its stale key and the reason names the tag', () => {
    const a = only(
      planDeactivation({ userName: 'svc', keys: [key('AKIAOLD0000000000001', 300)], tags: [{ Key: 'keyage-exempt', Value: 'yes' }], exemptionTag: { key: 'keyage-exempt' } }, NOW, MAX),
    );
    expect(a.action).toBe('keep');
    expect(a.reason).toContain('exemption tag keyage-exempt');
  });

  it('the exemption tag with a value exempts only that value', () => {
    const facts = { userName: 'svc', keys: [key('AKIAOLD0000000000001', 300)], tags: [{ Key: 'keyage-exempt', Value: 'no' }], exemptionTag: { key: 'keyage-exempt', value: 'yes' } };
    expect(only(planDeactivation(facts, NOW, MAX)).action).toBe('deactivate');
  });

  it('an inactive old key is kept, and said never to be deleted when keyage did not deactivate it', () => {
    const a = only(planDeactivation({ userName: 'alice', keys: [key('AKIAOFF0000000000001', 400, { status: 'Inactive' })], tags: [] }, NOW, MAX));
    expect(a.action).toBe('keep');
    expect(a.reason).toContain('keyage will never delete it');
  });

  it('an inactive key keyage deactivated is kept with the record time', () => {
    const at = daysAgo(3);
    const a = only(planDeactivation({ userName: 'alice', keys: [key('AKIAOFF0000000000001', 400, { status: 'Inactive' })], tags: [record('AKIAOFF0000000000001', at)] }, NOW, MAX));
    expect(a).toMatchObject({ action: 'keep', deactivatedAt: at.toISOString() });
  });

  it('a stale key that is Active again despite a record is deactivated again', () => {
    const a = only(planDeactivation({ userName: 'alice', keys: [key('AKIAOLD0000000000001', 120)], tags: [record('AKIAOLD0000000000001', daysAgo(20))] }, NOW, MAX));
    expect(a.action).toBe('deactivate');
    expect(a.reason).toContain('Active again');
  });

  it('an Expired key is never deactivated', () => {
    expect(only(planDeactivation({ userName: 'alice', keys: [key('AKIAEXP0000000000001', 400, { status: 'Expired' })], tags: [] }, NOW, MAX)).action).toBe('keep');
  });
});

describe('decideDeletion', () => {
  const inactive = (overrides: Partial<LiveKey> = {}) => key('AKIAOFF0000000000001', 120, { status: 'Inactive', ...overrides });
  const rec = (at: Date) => verified([record('AKIAOFF0000000000001', at)])[0]!;

  it('an Inactive key deactivated 14 days ago and never used since is deleted (grace 14)', () => {
    const d = decideDeletion(inactive(), rec(daysAgo(14)), NOW, GRACE);
    expect(d.action).toBe('delete');
    expect(d.reason).toContain('14 days ago (grace period 14 days)');
  });

  it('the runbook says "Deleting it."; a plan shown without acting says keyage would', () => {
    expect(decideDeletion(inactive(), rec(daysAgo(14)), NOW, GRACE).reason).toMatch(/\(never used\)\. Deleting it\.$/);
    expect(decideDeletion(inactive(), rec(daysAgo(14)), NOW, { ...GRACE, voice: 'conditional' }).reason).toMatch(/\(never used\)\. keyage would delete it\.$/);
    const reactivated = decideDeletion(key('AKIAOFF0000000000001', 120), rec(daysAgo(30)), NOW, { ...GRACE, voice: 'conditional' });
    expect(reactivated).toEqual({ action: 'clear-record', reason: expect.stringMatching(/; keyage would leave it alone and clear its record\.$/) });
  });

  it('a record stage 1 would write in a dry run is described as a plan, never as a deactivation that happened', () => {
    const d = decideDeletion(inactive(), { ...rec(NOW), assumed: true }, NOW, { ...GRACE, voice: 'conditional' });
    expect(d).toEqual({
      action: 'keep',
      reason: 'Key AKIAOFF0000000000001 (key 1) would be deactivated by stage 1 on 2026-11-25; its grace period of 14 days would end on 2026-12-09T12:00:00.000Z.',
    });
  });

  it('one millisecond short of the grace period, the key is kept and the reason says when grace ends', () => {
    const d = decideDeletion(inactive(), rec(daysAgo(14, -1)), NOW, GRACE);
    expect(d.action).toBe('keep');
    expect(d.reason).toContain('grace period of 14 days ends on');
  });

  it('a key used after its deactivation is kept Inactive and not deleted, however old the record', () => {
    const at = daysAgo(30);
    const d = decideDeletion(inactive({ lastUsedAt: daysAgo(20) }), rec(at), NOW, GRACE);
    expect(d.action).toBe('keep');
    expect(d.reason).toContain('after keyage deactivated it');
  });

  it('a use at the very instant of deactivation counts as use after it', () => {
    const at = daysAgo(30);
    expect(decideDeletion(inactive({ lastUsedAt: at }), rec(at), NOW, GRACE).action).toBe('keep');
  });

  it('a use before the deactivation does not prevent deletion', () => {
    const d = decideDeletion(inactive({ lastUsedAt: daysAgo(31) }), rec(daysAgo(30)), NOW, GRACE);
    expect(d.action).toBe('delete');
    expect(d.reason).toContain('last used');
  });

  it('an Active key is never deleted: re-activated by a person, its record is cleared', () => {
    expect(decideDeletion(key('AKIAOFF0000000000001', 120), rec(daysAgo(30)), NOW, GRACE).action).toBe('clear-record');
  });

  it('an Active key with a record younger than the settle time is left alone (deactivation in progress)', () => {
    const d = decideDeletion(key('AKIAOFF0000000000001', 120), rec(new Date(NOW.getTime() - RECORD_SETTLE_MS + 1)), NOW, GRACE);
    expect(d.action).toBe('keep');
    expect(d.reason).toContain('in progress');
  });

  it('an Expired key is not deleted', () => {
    expect(decideDeletion(inactive({ status: 'Expired' }), rec(daysAgo(30)), NOW, GRACE).action).toBe('keep');
  });

  it('a record without a readable time never leads to deletion, and is reported as a suspected forgery', () => {
    const bad = readDeactivationRecords([record('AKIAOFF0000000000001', 'not-a-date')])[0]!;
    const d = decideDeletion(inactive(), bad, NOW, GRACE);
    expect(d.action).toBe('keep');
    expect(d.reason).toMatch(/^SUSPECTED FORGERY: .*its value is not one keyage writes/);
  });

  it.each([
    ['unchecked (never assessed)', undefined],
    ['unsigned', { status: 'unsigned', recordedAt: daysAgo(30), reason: 'it carries no MAC' }],
    ['unverifiable', { status: 'unverifiable', recordedAt: daysAgo(30), reason: 'no record key is available to verify it' }],
  ] as const)('a record that is %s never leads to deletion, however old', (_name, verdict) => {
    const r = { ...readDeactivationRecords([record('AKIAOFF0000000000001', daysAgo(30))])[0]!, ...(verdict ? { verdict } : {}) };
    const d = decideDeletion(inactive(), r, NOW, GRACE);
    expect(d.action).toBe('keep');
    expect(d.reason).toContain('keyage cannot verify');
  });

  it('a suspect record (its MAC does not verify) never leads to deletion, and the reason says so', () => {
    const r = { ...readDeactivationRecords([record('AKIAOFF0000000000001', daysAgo(30))])[0]!, verdict: { status: 'suspect', reason: 'its MAC does not verify' } as const };
    const d = decideDeletion(inactive(), r, NOW, GRACE);
    expect(d.action).toBe('keep');
    expect(d.reason).toMatch(/^SUSPECTED FORGERY: Inactive key AKIAOFF0000000000001 .*its MAC does not verify/);
  });

  it('a record time in the future (clock skew) keeps the key in its grace period', () => {
    expect(decideDeletion(inactive(), rec(new Date(NOW.getTime() + DAY_MS)), NOW, GRACE).action).toBe('keep');
  });

  it('rejects a grace period below one day', () => {
    expect(() => decideDeletion(inactive(), rec(daysAgo(30)), NOW, { graceDays: 0 })).toThrow('graceDays must be a whole number ≥ 1');
  });
});

describe('planDeletion', () => {
  it('a key without a keyage record is never deleted, however old and inactive', () => {
    const a = only(planDeletion({ userName: 'alice', keys: [key('AKIAOFF0000000000001', 900, { status: 'Inactive' })], tags: [] }, NOW, GRACE));
    expect(a.action).toBe('keep');
    expect(a.reason).toContain('no keyage deactivation record');
  });

  it('plans deletion of a recorded key past its grace period and reports its age, last use and record', () => {
    const at = daysAgo(15);
    const a = only(
      planDeletion(
        { userName: 'alice', keys: [key('AKIAOFF0000000000001', 106, { status: 'Inactive', lastUsedAt: daysAgo(100) })], tags: [], records: verified([record('AKIAOFF0000000000001', at)]) },
        NOW,
        GRACE,
      ),
    );
    expect(a).toMatchObject({
      accessKeyId: 'AKIAOFF0000000000001',
      status: 'Inactive',
      ageDays: 106,
      lastUsed: daysAgo(100).toISOString(),
      deactivatedAt: at.toISOString(),
      record: 'verified',
      action: 'delete',
    });
  });

  it('an exempt user keeps even a deletable key', () => {
    const a = only(
      planDeletion(
        {
          userName: 'svc',
          keys: [key('AKIAOFF0000000000001', 200, { status: 'Inactive' })],
          tags: [record('AKIAOFF0000000000001', daysAgo(30)), { Key: 'keyage-exempt', Value: '' }],
          records: verified([record('AKIAOFF0000000000001', daysAgo(30))]),
          exemptionTag: { key: 'keyage-exempt' },
        },
        NOW,
        GRACE,
      ),
    );
    expect(a.action).toBe('keep');
    expect(a.reason).toContain('exemption tag');
  });

  it('a record whose key no longer exists is cleared', () => {
    const a = only(planDeletion({ userName: 'alice', keys: [], tags: [record('AKIAGONE000000000001', daysAgo(30))] }, NOW, GRACE));
    expect(a).toMatchObject({ accessKeyId: 'AKIAGONE000000000001', status: 'Missing', slot: null, ageDays: null, action: 'clear-record' });
  });

  it('records that keyage did not write (upper case, look-alike) are reported as suspected forgeries and never cleared or acted on', () => {
    const tags = [
      { Key: 'KEYAGE:DEACTIVATED:AKIAOFF0000000000001', Value: daysAgo(300).toISOString() },
      { Key: '\u212Aeyage:deactivated:AKIAGONE000000000001', Value: daysAgo(300).toISOString() },
    ];
    const actions = planDeletion({ userName: 'alice', keys: [key('AKIAOFF0000000000001', 400, { status: 'Inactive' })], tags }, NOW, GRACE);
    expect(actions.map((a) => [a.accessKeyId, a.record, a.action])).toEqual([
      ['AKIAOFF0000000000001', 'suspect', 'keep'],
      ['AKIAGONE000000000001', 'suspect', 'keep'],
    ]);
    expect(actions[1]?.reason).toContain('\\u212a');
  });

  it('a look-alike beside keyage\'s own verified record is reported apart, and the verified record still decides', () => {
    const own = record('AKIAOFF0000000000001', daysAgo(30));
    const fake = { Key: '\u212Aeyage:deactivated:AKIAOFF0000000000001', Value: daysAgo(300).toISOString() };
    const actions = planDeletion({ userName: 'alice', keys: [key('AKIAOFF0000000000001', 400, { status: 'Inactive' })], tags: [own, fake], records: verified([fake, own]) }, NOW, GRACE);
    expect(actions.map((a) => [a.accessKeyId, a.record, a.action])).toEqual([
      ['AKIAOFF0000000000001', 'verified', 'delete'],
      ['AKIAOFF0000000000001', 'suspect', 'keep'],
    ]);
  });

  it('plans every key and record of the user, in slot order', () => {
    const actions = planDeletion(
      {
        userName: 'alice',
        keys: [key('AKIATWO0000000000002', 5, { slot: 2 }), key('AKIAONE0000000000001', 120, { slot: 1, status: 'Inactive' })],
        tags: [],
        records: verified([record('AKIAONE0000000000001', daysAgo(20)), record('AKIAGONE000000000001', daysAgo(20))]),
      },
      NOW,
      GRACE,
    );
    expect(actions.map((a) => [a.accessKeyId, a.action])).toEqual([
      ['AKIAONE0000000000001', 'delete'],
      ['AKIATWO0000000000002', 'keep'],
      ['AKIAGONE000000000001', 'clear-record'],
    ]);
    expect(countActions(actions)).toEqual({ deactivate: 0, delete: 1, keep: 1, 'clear-record': 1 });
  });
});

describe('deletion safety (property)', () => {
  const statuses = ['Active', 'Inactive', 'Expired'] as const;
  const anyDate = fc.integer({ min: -400, max: 400 }).map((d) => new Date(NOW.getTime() + d * DAY_MS / 4));
  const facts = fc.record({
    status: fc.constantFrom(...statuses),
    ageDays: fc.integer({ min: 0, max: 1000 }),
    lastUsedAt: fc.option(anyDate, { nil: null }),
    recordAt: fc.option(fc.oneof(anyDate.map((d) => d.toISOString()), fc.constantFrom('garbage', '')), { nil: undefined }),
    exempt: fc.boolean(),
    graceDays: fc.integer({ min: 1, max: 60 }),
  });

  it('never plans to delete an Active or Expired key, an unrecorded key, a key used at or after its record, an exempt user\'s key, or a key within its grace period', () => {
    fc.assert(
      fc.property(facts, (f) => {
        const k = key('AKIAPROP000000000001', f.ageDays, { status: f.status, lastUsedAt: f.lastUsedAt });
        const tags: UserTag[] = [...(f.recordAt !== undefined ? [record('AKIAPROP000000000001', f.recordAt)] : []), ...(f.exempt ? [{ Key: 'hold', Value: '' }] : [])];
        const [a] = planDeletion({ userName: 'u', keys: [k], tags, records: verified(tags), exemptionTag: { key: 'hold' } }, NOW, { graceDays: f.graceDays });
        if (a?.action !== 'delete') return;
        const at = Date.parse(f.recordAt ?? '');
        expect(f.status).toBe('Inactive');
        expect(Number.isNaN(at)).toBe(false);
        expect(f.exempt).toBe(false);
        expect(NOW.getTime() - at).toBeGreaterThanOrEqual(f.graceDays * DAY_MS);
        if (f.lastUsedAt) expect(f.lastUsedAt.getTime()).toBeLessThan(at);
      }),
      { numRuns: 2000 },
    );
  });

  it('deactivates exactly the active keys older than the limit, unless the user is exempt', () => {
    fc.assert(
      fc.property(facts, fc.integer({ min: 1, max: 400 }), (f, max) => {
        const k = key('AKIAPROP000000000001', f.ageDays, { status: f.status });
        const [a] = planDeactivation({ userName: 'u', keys: [k], tags: f.exempt ? [{ Key: 'hold', Value: '' }] : [], exemptionTag: { key: 'hold' } }, NOW, { maxAccessKeyAgeDays: max });
        expect(a?.action === 'deactivate').toBe(f.status === 'Active' && f.ageDays > max && !f.exempt);
      }),
      { numRuns: 2000 },
    );
  });
});
