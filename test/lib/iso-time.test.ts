import fc from 'fast-check';
import { daysInMonth, isLeapYear, readIsoTime } from '../../lib/iso-time';

const SEED = 0x15017;

/** The date read, or the problem. */
function read(text: string, dateOnly = false): string {
  const r = readIsoTime(text, { dateOnly });
  return r.ok ? r.date.toISOString() : `${r.impossible ? 'impossible' : 'shape'}: ${r.problem}`;
}

describe('readIsoTime', () => {
  it.each([
    ['2026-11-25T12:00:00Z', '2026-11-25T12:00:00.000Z'],
    ['2026-11-25T13:00:00+01:00', '2026-11-25T12:00:00.000Z'],
    ['2026-11-25T13:00:00+0100', '2026-11-25T12:00:00.000Z'],
    ['2026-11-25T07:30:00-04:30', '2026-11-25T12:00:00.000Z'],
    ['2026-11-25T12:00Z', '2026-11-25T12:00:00.000Z'],
    ['2026-11-25T12:00:00.123456789Z', '2026-11-25T12:00:00.123Z'],
    ['2024-02-29T00:00:00+00:00', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['2026-03-01T00:30:00+01:00', '2026-02-28T23:30:00.000Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(read(text)).toBe(iso);
  });

  it.each([
    ['2026-02-30T00:00:00Z', 'there is no February 30, 2026 (February 2026 has 28 days)'],
    ['2025-02-29T00:00:00Z', 'there is no February 29, 2025 (2025 is not a leap year)'],
    ['1900-02-29T00:00:00Z', 'there is no February 29, 1900 (1900 is not a leap year)'],
    ['2026-04-31T00:00:00Z', 'there is no April 31, 2026 (April 2026 has 30 days)'],
    ['2026-06-00T00:00:00Z', 'there is no June 0, 2026 (June 2026 has 30 days)'],
    ['2026-13-01T00:00:00Z', 'there is no month 13'],
    ['2026-00-10T00:00:00Z', 'there is no month 00'],
    ['2026-01-01T24:00:00Z', 'there is no time of day 24:00:00 (hours 00–23, minutes and seconds 00–59)'],
    ['2026-01-01T23:60:00Z', 'there is no time of day 23:60:00 (hours 00–23, minutes and seconds 00–59)'],
    ['2026-01-01T23:59:60Z', 'there is no time of day 23:59:60 (hours 00–23, minutes and seconds 00–59)'],
    ['2026-01-01T00:00:00+24:00', 'there is no zone offset +24:00 (at most ±23:59)'],
  ])('refuses the impossible %s: %s', (text, problem) => {
    expect(read(text)).toBe(`impossible: ${problem}`);
  });

  it.each(['2026-11-25T12:00:00', '25/11/2026', '2026-11-25 12:00:00Z', '2026-11-25T12:00:00Z junk', '', 'N/A', '+002026-11-25T12:00:00Z', '2026-1-5T12:00:00Z'])(
    'refuses %j, which has not the shape of an ISO 8601 time with a zone',
    (text) => {
      expect(read(text)).toMatch(/^shape: /);
    },
  );

  it('reads a bare date as midnight UTC only when asked, and checks its calendar too', () => {
    expect(read('2026-11-25')).toBe('shape: a date without a time and zone');
    expect(read('2026-11-25', true)).toBe('2026-11-25T00:00:00.000Z');
    expect(read('2026-02-30', true)).toBe('impossible: there is no February 30, 2026 (February 2026 has 28 days)');
  });

  it('agrees with Date on every real instant (any year 1000–9999, any offset, any precision)', () => {
    const instant = fc.date({ min: new Date('1000-01-02T00:00:00Z'), max: new Date('9999-12-30T23:59:59Z'), noInvalidDate: true });
    const offset = fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }));
    fc.assert(
      fc.property(instant, offset, (date, [sign, h, m]) => {
        const minutes = (sign === '+' ? 1 : -1) * (h * 60 + m);
        const local = new Date(date.getTime() + minutes * 60_000).toISOString().slice(0, 23);
        const text = `${local}${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
        const r = readIsoTime(text);
        expect(r.ok && r.date.getTime()).toBe(Date.parse(text));
        expect(r.ok && r.date.getTime()).toBe(date.getTime());
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('refuses exactly the dates Date would move into another month', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (year, month, day) => {
        const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T00:00:00Z`;
        const moved = new Date(Date.parse(text)).toISOString().slice(0, 10) !== text.slice(0, 10);
        expect(readIsoTime(text).ok).toBe(!moved);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('the calendar', () => {
  it('has leap years every 4 years but centuries, and every 400 years', () => {
    expect([1900, 2000, 2024, 2025, 2100, 2400].map(isLeapYear)).toEqual([false, true, true, false, false, true]);
  });

  it('knows the length of each month', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2026, m))).toEqual([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    expect(daysInMonth(2028, 2)).toBe(29);
  });
});
