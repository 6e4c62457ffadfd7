/**
 * Property-based tests of the compliance decision (rules/access-key-age/policy.ts) with
 * fast-check: for any keys, any clock and any limit, the verdict obeys the control. The
 * oracle here counts in milliseconds, not with the policy's own `ageInDays`, so a mistake in
 * the policy's day arithmetic cannot hide behind itself.
 *
 * Seeded and bounded: a failure prints the seed and the shrunk counterexample to replay.
 */
import fc from 'fast-check';
import { ACCESS_KEY_STATUSES, type AccessKey, type AccessKeyStatus, DAY_MS, evaluateAccessKeys, MAX_ANNOTATION_LENGTH } from '../../rules/access-key-age/policy';

const SEED = 0x6b6579;
const RUNS = 1000;
const settings = { seed: SEED, numRuns: RUNS };

/** Instants between 2015 and 2035. */
const instant = fc.integer({ min: Date.UTC(2015, 0, 1), max: Date.UTC(2035, 0, 1) });
const limit = fc.oneof(fc.integer({ min: 1, max: 3650 }), fc.constantFrom(1, 30, 45, 89, 90, 91, 365, 3650));
const status = fc.constantFrom<AccessKeyStatus>(...ACCESS_KEY_STATUSES);
const accessKeyId = fc.array(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'), { minLength: 16, maxLength: 16 }).map((c) => `AKIA${c.join('')}`);

/** How long before `now` a key was created: anywhere, or within a few ms of a day boundary near the limit. */
const ageMs = (max: number) =>
  fc.oneof(
    fc.integer({ min: -2 * DAY_MS, max: 4000 * DAY_MS }),
    fc.tuple(fc.integer({ min: -2, max: 2 }), fc.integer({ min: -3, max: 3 })).map(([d, ms]) => (max + d) * DAY_MS + ms),
  );

/** A case: a limit, a clock, and the user's keys (IAM allows two; up to four probe robustness) as ages in ms. */
const scenario = limit.chain((max) =>
  fc.record({
    max: fc.constant(max),
    now: instant,
    keys: fc.array(fc.record({ ageMs: ageMs(max), status, id: fc.option(accessKeyId, { nil: undefined }) }), { maxLength: 4 }),
  }),
);

function keysOf(s: { now: number; keys: { ageMs: number; status: AccessKeyStatus; id: string | undefined }[] }): AccessKey[] {
  return s.keys.map((k, i) => ({
    ...(k.id !== undefined ? { accessKeyId: k.id } : {}),
    slot: (i % 2 === 0 ? 1 : 2) as 1 | 2,
    status: k.status,
    createdAt: new Date(s.now - k.ageMs),
  }));
}

/** The oracle: over the limit when at least (max + 1) whole days have passed, counted in ms. */
const overLimit = (age: number, max: number) => age >= (max + 1) * DAY_MS;
const hasStaleActive = (s: { max: number; keys: { ageMs: number; status: AccessKeyStatus }[] }) => s.keys.some((k) => k.status === 'Active' && overLimit(k.ageMs, s.max));

describe('evaluateAccessKeys (properties)', () => {
  it('is never COMPLIANT when an active key is over the limit', () => {
    fc.assert(
      fc.property(scenario.filter(hasStaleActive), (s) => {
        expect(evaluateAccessKeys(keysOf(s), new Date(s.now), { maxAccessKeyAgeDays: s.max }).compliance).toBe('NON_COMPLIANT');
      }),
      settings,
    );
  });

  it('is never NON_COMPLIANT when no active key is over the limit (inactive and expired keys never count)', () => {
    fc.assert(
      fc.property(scenario.filter((s) => !hasStaleActive(s)), (s) => {
        const v = evaluateAccessKeys(keysOf(s), new Date(s.now), { maxAccessKeyAgeDays: s.max });
        expect(v.compliance).toBe('COMPLIANT');
        expect(v.staleKeys).toEqual([]);
      }),
      settings,
    );
  });

  it('names exactly the active over-limit keys as stale, and gives every key an age in whole days that never goes negative', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const keys = keysOf(s);
        const v = evaluateAccessKeys(keys, new Date(s.now), { maxAccessKeyAgeDays: s.max });
        const expected = keys.filter((_, i) => s.keys[i]?.status === 'Active' && overLimit(s.keys[i].ageMs, s.max));
        expect(new Set(v.staleKeys.map((a) => a.key))).toEqual(new Set(expected));
        for (const a of v.keys) {
          const age = s.now - a.key.createdAt.getTime();
          expect(a.ageDays).toBe(age <= 0 ? 0 : Math.floor(age / DAY_MS));
          expect(a.dueAt.getTime() - a.key.createdAt.getTime()).toBe((s.max + 1) * DAY_MS);
        }
      }),
      settings,
    );
  });

  it('gives the same verdict and stale keys whatever the order of the keys, and the same annotation for IAM-shaped keys (at most two, one per slot)', () => {
    fc.assert(
      fc.property(
        scenario.chain((s) => fc.record({ s: fc.constant(s), order: fc.shuffledSubarray(s.keys.map((_, i) => i), { minLength: s.keys.length, maxLength: s.keys.length }) })),
        ({ s, order }) => {
          const keys = keysOf(s);
          const params = { maxAccessKeyAgeDays: s.max };
          const a = evaluateAccessKeys(keys, new Date(s.now), params);
          const b = evaluateAccessKeys(order.map((i) => keys[i] as AccessKey), new Date(s.now), params);
          expect(b.compliance).toBe(a.compliance);
          expect(new Set(b.staleKeys.map((k) => k.key))).toEqual(new Set(a.staleKeys.map((k) => k.key)));
          expect(b.oldestActive?.key.createdAt.getTime()).toBe(a.oldestActive?.key.createdAt.getTime());
          // Two keys in one slot cannot come from IAM or the credential report; their text order may differ.
          if (keys.length <= 2) expect(b.annotation).toBe(a.annotation);
        },
      ),
      settings,
    );
  });

  it('writes the same annotation at any later instant at which the same keys are stale (so an unchanged user need not be recorded again)', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 400 * DAY_MS }), (s, laterMs) => {
        const keys = keysOf(s);
        const params = { maxAccessKeyAgeDays: s.max };
        const a = evaluateAccessKeys(keys, new Date(s.now), params);
        const b = evaluateAccessKeys(keys, new Date(s.now + laterMs), params);
        const stale = (v: typeof a) => v.staleKeys.map((k) => k.key);
        if (new Set(stale(a)).size === new Set(stale(b)).size && stale(a).every((k) => stale(b).includes(k))) {
          expect(b.compliance).toBe(a.compliance);
          expect(b.annotation).toBe(a.annotation);
        }
      }),
      settings,
    );
  });

  it('always writes an annotation of 1 to 256 characters', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { annotation } = evaluateAccessKeys(keysOf(s), new Date(s.now), { maxAccessKeyAgeDays: s.max });
        expect(annotation.length).toBeGreaterThanOrEqual(1);
        expect(annotation.length).toBeLessThanOrEqual(MAX_ANNOTATION_LENGTH);
      }),
      settings,
    );
  });

  it('never goes back: a NON_COMPLIANT user stays NON_COMPLIANT later, and a higher limit never makes a COMPLIANT user NON_COMPLIANT', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 400 * DAY_MS }), fc.integer({ min: 0, max: 500 }), (s, later, extra) => {
        const keys = keysOf(s);
        const v = evaluateAccessKeys(keys, new Date(s.now), { maxAccessKeyAgeDays: s.max });
        if (v.compliance === 'NON_COMPLIANT') {
          expect(evaluateAccessKeys(keys, new Date(s.now + later), { maxAccessKeyAgeDays: s.max }).compliance).toBe('NON_COMPLIANT');
        } else {
          expect(evaluateAccessKeys(keys, new Date(s.now), { maxAccessKeyAgeDays: Math.min(3650, s.max + extra) }).compliance).toBe('COMPLIANT');
        }
      }),
      settings,
    );
  });

  describe('at the boundaries', () => {
    // [age in whole days relative to the limit, extra ms, verdict of one active key]
    // [age, verdict of one active key, age in whole days relative to the limit, extra ms]
    const cases: [string, 'COMPLIANT' | 'NON_COMPLIANT', number, number][] = [
      ['max - 1 days', 'COMPLIANT', -1, 0],
      ['max days - 1 ms', 'COMPLIANT', 0, -1],
      ['exactly max days', 'COMPLIANT', 0, 0],
      ['max days + 1 ms', 'COMPLIANT', 0, 1],
      ['max + 1 days - 1 ms (still max whole days)', 'COMPLIANT', 1, -1],
      ['exactly max + 1 days', 'NON_COMPLIANT', 1, 0],
      ['max + 1 days + 1 ms', 'NON_COMPLIANT', 1, 1],
      ['max + 2 days', 'NON_COMPLIANT', 2, 0],
    ];

    it.each(cases)('an active key aged %s is %s, for every limit and clock; inactive or expired it is COMPLIANT', (_label, verdict, days, ms) => {
      fc.assert(
        fc.property(limit, instant, (max, now) => {
          const key: AccessKey = { slot: 1, status: 'Active', createdAt: new Date(now - ((max + days) * DAY_MS + ms)) };
          expect(evaluateAccessKeys([key], new Date(now), { maxAccessKeyAgeDays: max }).compliance).toBe(verdict);
          for (const other of ['Inactive', 'Expired'] as const) {
            expect(evaluateAccessKeys([{ ...key, status: other }], new Date(now), { maxAccessKeyAgeDays: max }).compliance).toBe('COMPLIANT');
          }
        }),
        { seed: SEED, numRuns: 200 },
      );
    });

    it('a key created in the future (clock skew) is 0 days old and never stale', () => {
      fc.assert(
        fc.property(limit, instant, fc.integer({ min: 1, max: 10 * DAY_MS }), (max, now, ahead) => {
          const v = evaluateAccessKeys([{ slot: 1, status: 'Active', createdAt: new Date(now + ahead) }], new Date(now), { maxAccessKeyAgeDays: max });
          expect(v.compliance).toBe('COMPLIANT');
          expect(v.keys[0]?.ageDays).toBe(0);
        }),
        { seed: SEED, numRuns: 200 },
      );
    });
  });
});
