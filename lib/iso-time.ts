/**
 * One strict reader of ISO 8601 times, for every date keyage is handed: the credential report's
 * columns and its `GeneratedTime`, `--now`, and the Config event's times.
 *
 * `Date.parse` checks the shape of an ISO time but not the calendar: it reads `2026-02-30` as
 * March 2, `2025-02-29` as March 1 and `2026-04-31` as May 1, and `T24:00` as the next day. A
 * crafted or corrupted date would then move a key's age by days without a word. Here every field
 * is checked against the calendar first (month 1–12, the month's real length with leap years,
 * hour 0–23, minute and second 0–59, zone offset within ±23:59), and what is wrong is said.
 */

/** The forms a caller accepts besides a date-time with a zone. */
export interface IsoTimeForms {
  /** Accept a bare date (`2026-11-25`) as midnight UTC. @default false */
  readonly dateOnly?: boolean;
}

/** A time read, or the reason it could not be. */
export type IsoTimeResult =
  | { readonly ok: true; readonly date: Date }
  /** `impossible`: the text has the shape of an ISO time but names none (`2026-02-30`); else it has not the shape. */
  | { readonly ok: false; readonly impossible: boolean; readonly problem: string };

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?))?$/;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;

function impossible(problem: string): IsoTimeResult {
  return { ok: false, impossible: true, problem };
}

/** True in the Gregorian calendar's leap years. */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The number of days in `month` (1–12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Read `text` as an ISO 8601 instant: `YYYY-MM-DDTHH:MM[:SS[.fraction]]` with `Z` or an offset
 * (`+01:00`, `+0100`, `+01`), or with `forms.dateOnly` a bare `YYYY-MM-DD` (midnight UTC). A time
 * without a zone is refused: it would mean different instants on different machines. Fractions
 * finer than a millisecond are cut, as `Date` keeps milliseconds only.
 */
export function readIsoTime(text: string, forms: IsoTimeForms = {}): IsoTimeResult {
  const m = ISO.exec(text);
  if (!m) return { ok: false, impossible: false, problem: 'not an ISO 8601 date-time' };
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  if (h === undefined && !forms.dateOnly) return { ok: false, impossible: false, problem: 'a date without a time and zone' };
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) return impossible(`there is no month ${mo}`);
  const length = daysInMonth(year, month);
  if (day < 1 || day > length) {
    const why = month === 2 && day === 29 ? `${year} is not a leap year` : `${MONTHS[month - 1]} ${year} has ${length} days`;
    return impossible(`there is no ${MONTHS[month - 1]} ${day}, ${year} (${why})`);
  }
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return impossible(`there is no time of day ${h}:${mi}${s !== undefined ? `:${s}` : ''} (hours 00–23, minutes and seconds 00–59)`);
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || '0');
    if (oh > 23 || om > 59) return impossible(`there is no zone offset ${zone} (at most ±23:59)`);
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Number((fraction ?? '').slice(0, 3).padEnd(3, '0'));
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  if (year < 100) date.setUTCFullYear(year, month - 1, day); // Date.UTC reads years 0–99 as 1900–1999
  date.setTime(date.getTime() - offsetMinutes * 60_000);
  return { ok: true, date };
}
