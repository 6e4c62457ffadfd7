import {
  type AccessKey,
  ageInDays,
  DAY_MS,
  evaluateAccessKeys,
  MAX_ANNOTATION_LENGTH,
  shortenAnnotation,
} from '../../../rules/access-key-age/policy';

const NOW = new Date('2026-11-25T12:00:00Z');
const PARAMS = { maxAccessKeyAgeDays: 90 };

/** A key created `days` days (and `extraMs`) before NOW. */
function key(days: number, overrides: Partial<AccessKey> = {}, extraMs = 0): AccessKey {
  return {
    accessKeyId: `AKIAEXAMPLE${String(days).padStart(9, '0')}`,
    slot: 1,
    status: 'Active',
    createdAt: new Date(NOW.getTime() - days * DAY_MS - extraMs),
    ...overrides,
  };
}

describe('ageInDays', () => {
  it('counts whole days, rounding down', () => {
    expect(ageInDays(new Date(NOW.getTime() - 90 * DAY_MS - (DAY_MS - 1)), NOW)).toBe(90);
    expect(ageInDays(new Date(NOW.getTime() - 91 * DAY_MS), NOW)).toBe(91);
  });

  it('is 0 for a creation date in the future (clock skew), never negative', () => {
    expect(ageInDays(new Date(NOW.getTime() + DAY_MS), NOW)).toBe(0);
  });
});

describe('evaluateAccessKeys', () => {
  it('an active key 91 days old makes the user NON_COMPLIANT and names the key, its creation day and the day it went over the limit', () => {
    const v = evaluateAccessKeys([key(91)], NOW, PARAMS);
    expect(v.compliance).toBe('NON_COMPLIANT');
    expect(v.staleKeys.map((k) => k.key.accessKeyId)).toEqual(['AKIAEXAMPLE000000091']);
    expect(v.annotation).toBe('Active key AKIAEXAMPLE000000091 (key 1) created 2026-08-26, over the 90-day limit since 2026-11-25.');
  });

  it('an active key exactly 90 days old is COMPLIANT: the limit is inclusive', () => {
    const v = evaluateAccessKeys([key(90, {}, DAY_MS - 1)], NOW, PARAMS);
    expect(v.compliance).toBe('COMPLIANT');
    expect(v.keys[0]?.ageDays).toBe(90);
    expect(v.keys[0]?.daysUntilDue).toBe(1);
  });

  it('an active key 89 days old is COMPLIANT and the annotation says on which day it falls due', () => {
    const v = evaluateAccessKeys([key(89)], NOW, PARAMS);
    expect(v.compliance).toBe('COMPLIANT');
    expect(v.annotation).toBe('Oldest active key created 2026-08-28; due for rotation on 2026-11-27; limit 90.');
  });

  it('the annotation of a user whose keys do not change is the same every day its verdict stays the same', () => {
    const later = (days: number) => new Date(NOW.getTime() + days * DAY_MS);
    const young = [key(10), key(40, { slot: 2, accessKeyId: 'AKIAEXAMPLE000000040' })];
    const stale = [key(200), key(5, { slot: 2, accessKeyId: 'AKIAEXAMPLE000000005' })];
    const inactive = [key(300, { status: 'Inactive' })];
    for (const keys of [young, stale, inactive, []]) {
      const first = evaluateAccessKeys(keys, NOW, PARAMS);
      for (const days of [1, 2, 7, 30, 49]) {
        const next = evaluateAccessKeys(keys, later(days), PARAMS);
        expect(next.compliance).toBe(first.compliance);
        expect(next.annotation).toBe(first.annotation);
      }
    }
  });

  it('a compliant user reads the same whether its keys came from a credential report (no key IDs) or from ListAccessKeys', () => {
    const live = [key(30, { slot: 1, accessKeyId: 'AKIAOLDER00000000001' }), key(20, { slot: 2, accessKeyId: 'AKIAYOUNGER000000002' })];
    // the report numbers keys by its columns, which need not follow creation order
    const report: AccessKey[] = [
      { slot: 1, status: 'Active', createdAt: live[1]!.createdAt },
      { slot: 2, status: 'Active', createdAt: new Date(Math.floor(live[0]!.createdAt.getTime() / 1000) * 1000) },
    ];
    expect(evaluateAccessKeys(report, NOW, PARAMS).annotation).toBe(evaluateAccessKeys(live, NOW, PARAMS).annotation);
    const inactiveLive = [key(30, { status: 'Inactive', accessKeyId: 'AKIAINACTIVE00000001' })];
    const inactiveReport: AccessKey[] = [{ slot: 2, status: 'Inactive', createdAt: inactiveLive[0]!.createdAt }];
    expect(evaluateAccessKeys(inactiveReport, NOW, PARAMS).annotation).toBe(evaluateAccessKeys(inactiveLive, NOW, PARAMS).annotation);
  });

  it.each(['Inactive', 'Expired'] as const)('an %s key 400 days old never makes the user NON_COMPLIANT', (status) => {
    const v = evaluateAccessKeys([key(400, { status })], NOW, PARAMS);
    expect(v.compliance).toBe('COMPLIANT');
    expect(v.staleKeys).toEqual([]);
    expect(v.keys[0]?.overLimit).toBe(true);
    expect(v.annotation).toBe(`No active access keys (1 ${status.toLowerCase()}); limit 90.`);
  });

  it('a user with no keys is COMPLIANT with a non-empty annotation', () => {
    const v = evaluateAccessKeys([], NOW, PARAMS);
    expect(v.compliance).toBe('COMPLIANT');
    expect(v.annotation).toBe('No access keys.');
  });

  it('a never-used key is judged by its age like any other', () => {
    expect(evaluateAccessKeys([key(120, { lastUsedAt: null })], NOW, PARAMS).compliance).toBe('NON_COMPLIANT');
    expect(evaluateAccessKeys([key(10, { lastUsedAt: null })], NOW, PARAMS).compliance).toBe('COMPLIANT');
  });

  it('any stale active key decides the user, whichever slot it is in and whatever the order', () => {
    const young = key(5, { slot: 2, accessKeyId: 'AKIAYOUNG00000000002' });
    const old = key(200, { slot: 1, accessKeyId: 'AKIAOLD0000000000001' });
    for (const keys of [[young, old], [old, young]]) {
      const v = evaluateAccessKeys(keys, NOW, PARAMS);
      expect(v.compliance).toBe('NON_COMPLIANT');
      expect(v.staleKeys.map((k) => k.key.accessKeyId)).toEqual(['AKIAOLD0000000000001']);
      expect(v.keys.map((k) => k.key.slot)).toEqual([1, 2]);
    }
  });

  it('names both keys when both are stale', () => {
    const v = evaluateAccessKeys(
      [key(100, { slot: 1, accessKeyId: 'AKIAFIRST00000000001' }), key(95, { slot: 2, accessKeyId: 'AKIASECOND0000000002' })],
      NOW,
      PARAMS,
    );
    expect(v.annotation).toBe(
      'Active key AKIAFIRST00000000001 (key 1) created 2026-08-17, over the 90-day limit since 2026-11-16. ' +
        'Active key AKIASECOND0000000002 (key 2) created 2026-08-22, over the 90-day limit since 2026-11-21.',
    );
  });

  it('a key read from a credential report (no key ID) is named by its slot', () => {
    const v = evaluateAccessKeys([{ slot: 2, status: 'Active', createdAt: new Date(NOW.getTime() - 100 * DAY_MS) }], NOW, PARAMS);
    expect(v.annotation).toBe('Active key 2 created 2026-08-17, over the 90-day limit since 2026-11-16.');
  });

  it('honours a custom limit', () => {
    expect(evaluateAccessKeys([key(31)], NOW, { maxAccessKeyAgeDays: 30 }).compliance).toBe('NON_COMPLIANT');
    expect(evaluateAccessKeys([key(31)], NOW, { maxAccessKeyAgeDays: 31 }).compliance).toBe('COMPLIANT');
  });

  it('oldestActive is the active key created first, and activeKeys lists only active keys', () => {
    const v = evaluateAccessKeys([key(10, { slot: 2 }), key(50, { slot: 1 }), key(300, { slot: 1, status: 'Inactive' })], NOW, PARAMS);
    expect(v.oldestActive?.ageDays).toBe(50);
    expect(v.activeKeys.map((k) => k.ageDays).sort()).toEqual([10, 50]);
  });

  it('refuses a key without a valid creation date instead of guessing', () => {
    expect(() => evaluateAccessKeys([key(1, { createdAt: new Date('nope') })], NOW, PARAMS)).toThrow(/no valid creation date/);
  });

  it('refuses an unknown key status instead of guessing', () => {
    expect(() => evaluateAccessKeys([key(1, { status: 'Paused' as never })], NOW, PARAMS)).toThrow(/unknown status "Paused"/);
  });
});

describe('shortenAnnotation', () => {
  it('keeps text that fits', () => {
    expect(shortenAnnotation('short text')).toBe('short text');
  });

  it('cuts long text at a word boundary and ends it with an ellipsis, within 256 characters', () => {
    const long = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    const out = shortenAnnotation(long);
    expect(out.length).toBeLessThanOrEqual(MAX_ANNOTATION_LENGTH);
    expect(out.endsWith('…')).toBe(true);
    expect(long.startsWith(out.slice(0, -1))).toBe(true);
    expect(long.charAt(out.length - 1)).toBe(' '); // the cut fell between words
  });

  it('never returns an empty annotation', () => {
    expect(shortenAnnotation('   ')).toBe('-');
  });
});
