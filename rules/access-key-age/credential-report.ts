/**
 * The IAM credential report: one CSV for the whole account (GetCredentialReport), with a
 * `<root_account>` row, `N/A` for "no such thing", `no_information` and `not_supported` where
 * IAM has no data, and for each of the two key slots
 * `access_key_N_{active,last_rotated,last_used_date,last_used_region,last_used_service}`.
 * It has no access key IDs and no user IDs.
 *
 * Parsing is strict: a missing column, a bad date or boolean, a row of the wrong length is a
 * `CredentialReportError` naming the line and column. A report that cannot be read is never
 * taken to mean "no keys".
 */
import { parse } from 'csv-parse/sync';
import { CredentialReportError } from '../../lib/errors';
import { readIsoTime } from '../../lib/iso-time';
import type { AccessKey } from './policy';

export const ROOT_ACCOUNT_USER = '<root_account>';

/** Columns keyage needs; a report without any of them is rejected. */
export const REQUIRED_COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
] as const;

/** One key slot of a report row that holds a key (`last_rotated` is a date). */
export interface ReportKey {
  readonly slot: 1 | 2;
  readonly active: boolean;
  /** When the key was created or last rotated. */
  readonly lastRotated: Date;
  /** `null` when never used (`N/A`), `undefined` when IAM has no information. */
  readonly lastUsedAt: Date | null | undefined;
  readonly lastUsedRegion?: string;
  readonly lastUsedService?: string;
}

export interface CredentialReportRow {
  /** 1-based line in the CSV text. */
  readonly line: number;
  readonly user: string;
  readonly arn: string;
  /** `undefined` when the report says `not_supported` / `N/A` (seen on the root row). */
  readonly userCreationTime: Date | undefined;
  readonly isRoot: boolean;
  readonly keys: readonly ReportKey[];
}

export interface CredentialReport {
  readonly rows: readonly CredentialReportRow[];
  /** The `<root_account>` row, when present. */
  readonly root?: CredentialReportRow;
  /** IAM users only (no root row). */
  readonly users: readonly CredentialReportRow[];
  /** From GetCredentialReport's `GeneratedTime` or the JSON wrapper, when known. */
  readonly generatedAt?: Date;
}

const EMPTY = new Set(['N/A', 'no_information', 'not_supported', '']);

/** Parse the CSV text of a credential report. */
export function parseCredentialReport(csv: string, generatedAt?: Date): CredentialReport {
  if (csv.trim() === '') throw new CredentialReportError('the report is empty', 1, 1);
  if (/[\u0000-\u0008\u000e-\u001f]/.test(csv)) {
    const at = locate(csv, csv.search(/[\u0000-\u0008\u000e-\u001f]/));
    throw new CredentialReportError('the report contains binary data, not CSV text', at.line, at.column);
  }
  // Each record is turned into its row as csv-parse reads it and then dropped (on_record
  // returns null), so the records of a 5,000-user report never pile up as garbage at once.
  const rows: CredentialReportRow[] = [];
  const lines = lineNumbers(csv);
  let index: Map<string, number> | undefined;
  let recordNumber = 0;
  const onRecord = (record: string[]): null => {
    const at = recordNumber++;
    if (index === undefined) {
      index = headerIndex(record);
    } else {
      rows.push(toRow(record, lines[at] ?? at + 1, index));
    }
    return null;
  };
  try {
    parse(csv, { bom: true, relax_column_count: false, skip_empty_lines: true, trim: false, on_record: onRecord });
  } catch (err) {
    if (err instanceof CredentialReportError) throw err;
    const e = err as { message?: string; lines?: number; column?: number | string; code?: string };
    const line = typeof e.lines === 'number' ? e.lines : undefined;
    // csv-parse's `column` is the 0-based field where it stopped (for a short record: the count
    // of fields read, so the first missing field)
    const column = typeof e.column === 'number' ? e.column + 1 : undefined;
    throw new CredentialReportError(`not valid CSV (${e.code ?? 'parse error'}: ${e.message ?? ''})`, line, column, { cause: err });
  }
  if (!index) throw new CredentialReportError('the report is empty', 1, 1);
  const roots = rows.filter((r) => r.isRoot);
  const [root, second] = roots;
  if (root && second) {
    // Auditing one and dropping the other could hide the root user's keys; a real report has one.
    throw new CredentialReportError(`a second ${ROOT_ACCOUNT_USER} row (the first is on line ${root.line}); a credential report has one`, second.line, 1);
  }
  return { rows, users: rows.filter((r) => !r.isRoot), ...(root ? { root } : {}), ...(generatedAt ? { generatedAt } : {}) };
}

/** The header's columns by name. @throws CredentialReportError when a column keyage needs is missing. */
function headerIndex(header: readonly string[]): Map<string, number> {
  const index = new Map(header.map((name, i) => [name.trim(), i]));
  const missing = REQUIRED_COLUMNS.filter((c) => !index.has(c));
  if (missing.length > 0) {
    throw new CredentialReportError(
      `missing column(s) ${missing.join(', ')}; expected the header of "aws iam get-credential-report" (user,arn,user_creation_time,…)`,
      1,
    );
  }
  return index;
}

/** One record (after the header) as a row; `line` is where it starts in the CSV text. */
function toRow(record: readonly string[], line: number, index: ReadonlyMap<string, number>): CredentialReportRow {
  const get = (col: (typeof REQUIRED_COLUMNS)[number] | string): { value: string; column: number } => {
    const i = index.get(col);
    if (i === undefined) return { value: 'N/A', column: 0 };
    return { value: (record[i] ?? '').trim(), column: i + 1 };
  };
  const user = get('user');
  if (user.value === '') throw new CredentialReportError('empty user name', line, user.column);
  const isRoot = user.value === ROOT_ACCOUNT_USER;
  const keys: ReportKey[] = [];
  for (const slot of [1, 2] as const) {
    const rotated = get(`access_key_${slot}_last_rotated`);
    const activeField = get(`access_key_${slot}_active`);
    const active = parseBoolean(activeField.value, line, activeField.column, `access_key_${slot}_active`);
    const lastRotated = parseDate(rotated.value, line, rotated.column, `access_key_${slot}_last_rotated`);
    if (lastRotated === undefined) {
      if (active) {
        throw new CredentialReportError(`access_key_${slot}_active is true but access_key_${slot}_last_rotated is ${rotated.value || 'empty'}`, line, rotated.column);
      }
      continue; // no key in this slot
    }
    const used = get(`access_key_${slot}_last_used_date`);
    const usedValue = used.value;
    const lastUsedAt =
      usedValue === 'N/A' ? null : parseDate(usedValue, line, used.column, `access_key_${slot}_last_used_date`);
    const region = get(`access_key_${slot}_last_used_region`).value;
    const service = get(`access_key_${slot}_last_used_service`).value;
    keys.push({
      slot,
      active,
      lastRotated,
      lastUsedAt,
      ...(EMPTY.has(region) ? {} : { lastUsedRegion: region }),
      ...(EMPTY.has(service) ? {} : { lastUsedService: service }),
    });
  }
  const created = get('user_creation_time');
  return {
    line,
    user: user.value,
    arn: get('arn').value,
    userCreationTime: parseDate(created.value, line, created.column, 'user_creation_time'),
    isRoot,
    keys,
  };
}

/**
 * Read a credential report as a user may hand it over: the raw CSV, the base64 `Content`
 * field, or the whole JSON output of `aws iam get-credential-report`.
 * @param source names the input in error messages (a file name).
 */
export function decodeCredentialReport(input: Buffer | string, source = 'input'): CredentialReport {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (buf.length === 0) throw new CredentialReportError(`${source} is empty`, 1, 1);
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (err) {
      throw new CredentialReportError(`${source} looks like JSON but is not valid JSON (${(err as Error).message})`, undefined, undefined, { cause: err });
    }
    const content = (doc as { Content?: unknown }).Content;
    if (typeof content !== 'string') {
      throw new CredentialReportError(`${source} is JSON without a "Content" string; expected the output of "aws iam get-credential-report"`, 1);
    }
    const generatedAt = generatedTime((doc as { GeneratedTime?: unknown }).GeneratedTime, source);
    return parseCredentialReport(decodeBase64(content, source), generatedAt);
  }
  const saved = otherCliOutput(trimmed);
  if (saved) {
    throw new CredentialReportError(
      `${source} is what "aws iam get-credential-report --output ${saved}" prints, not the report: save it with --output json (or --query Content --output text for the base64 Content alone)`,
      1,
    );
  }
  if (!trimmed.includes(',') && /^[A-Za-z0-9+/=\s]+$/.test(trimmed)) {
    return parseCredentialReport(decodeBase64(trimmed, source));
  }
  return parseCredentialReport(text);
}

/**
 * The AWS CLI output format `text` looks like when it is not the report: `--output text` prints
 * the fields on one line, tab-separated (`<base64>\t<GeneratedTime>\ttext/csv`); `--output table`
 * draws a box titled GetCredentialReport; `--output yaml` writes `Content: …` lines.
 */
function otherCliOutput(text: string): 'text' | 'table' | 'yaml' | undefined {
  const first = text.split('\n', 1)[0] ?? '';
  if (first.includes('\t') && first.split('\t').some((f) => f.trim() === 'text/csv')) return 'text';
  if (/^[-+|]/.test(first) && /^\|\s*(GetCredentialReport|Content|GeneratedTime|ReportFormat)\b/m.test(text)) return 'table';
  if (/^Content:\s/m.test(text) && /^(GeneratedTime|ReportFormat):/m.test(text)) return 'yaml';
  return undefined;
}

/** The keys of a report row in the policy's vocabulary. The report cannot tell Expired from Inactive. */
export function reportRowKeys(row: CredentialReportRow): AccessKey[] {
  return row.keys.map((k) => ({
    slot: k.slot,
    status: k.active ? 'Active' : 'Inactive',
    createdAt: k.lastRotated,
    ...(k.lastUsedAt !== undefined ? { lastUsedAt: k.lastUsedAt } : {}),
  }));
}

/**
 * The JSON output's `GeneratedTime`: absent or `null` is unknown; anything else must be a real
 * instant (an impossible date is refused, never shifted into the next month).
 */
function generatedTime(value: unknown, source: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const expected = 'expected the time "aws iam get-credential-report" gives, such as 2026-11-25T10:00:00+00:00';
  if (typeof value !== 'string') throw new CredentialReportError(`${source}: GeneratedTime is ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}; ${expected}`, 1);
  const read = readIsoTime(value);
  if (read.ok) return read.date;
  throw new CredentialReportError(`${source}: GeneratedTime is ${JSON.stringify(value.slice(0, 40))}, ${read.impossible ? `and ${read.problem}` : 'not an ISO 8601 date-time'}; ${expected}`, 1);
}

function decodeBase64(content: string, source: string): string {
  const compact = content.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new CredentialReportError(`${source}: "Content" is not valid base64`, 1);
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

function parseBoolean(value: string, line: number, column: number, name: string): boolean {
  if (value === 'true') return true;
  if (value === 'false' || value === 'N/A' || value === 'not_supported') return false;
  throw new CredentialReportError(`${name} is ${JSON.stringify(value.slice(0, 40))}; expected true or false`, line, column);
}

function parseDate(value: string, line: number, column: number, name: string): Date | undefined {
  if (EMPTY.has(value)) return undefined;
  const read = readIsoTime(value);
  if (read.ok) return read.date;
  const shown = JSON.stringify(value.slice(0, 40));
  if (read.impossible) throw new CredentialReportError(`${name} is ${shown}, and ${read.problem}`, line, column);
  throw new CredentialReportError(`${name} is ${shown}; expected an ISO 8601 date-time or N/A`, line, column);
}

/** The 1-based line on which each CSV record starts (records may span lines inside quotes). */
function lineNumbers(csv: string): number[] {
  const starts: number[] = [];
  let line = 1;
  let inQuotes = false;
  let atRecordStart = true;
  for (let i = 0; i < csv.length; i++) {
    const ch = csv[i];
    if (atRecordStart && ch !== '\n' && ch !== '\r') {
      starts.push(line);
      atRecordStart = false;
    }
    if (ch === '"') inQuotes = !inQuotes;
    else if (ch === '\n') {
      line++;
      if (!inQuotes) atRecordStart = true;
    }
  }
  return starts;
}

function locate(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
