/**
 * `--format html`: the audit as one self-contained page for people — auditors asking for CIS
 * 1.14 evidence, security leads asking how bad it is. It shows the control and the parameters
 * used (with where each came from), when and from what the report was made, the summary, a
 * histogram of active-key ages with the limit drawn on it, the keys falling due in the next 7 and
 * 30 days, the per-account rollup of an organization audit, and the findings table, which sorts
 * and filters in the page.
 *
 * Self-contained and offline by construction: the style sheet and the script are inline, the
 * chart is SVG drawn here, and the page's Content-Security-Policy (`default-src 'none'`, the
 * style and the script allowed by their SHA-256 hashes) lets the browser fetch nothing at all.
 *
 * Report text is hostile input: a crafted credential report can name a user
 * `<img src=x onerror=alert(1)>`. Every string that reaches the HTML goes through
 * `escapeHtml`; the findings travel as JSON in a `<script type="application/json">` block with
 * `<`, `>` and `&` written as `\u003c`, `\u003e`, `\u0026` (so no text can close the block), and
 * the script writes them into the table with `textContent` only.
 *
 * Size: the findings are compact rows (`FindingRow`), and each distinct text and reason is
 * stored once (`RowTables`), so 5,000 users make well under 1 MB.
 */
import { createHash } from 'node:crypto';
import { ROOT_ACCOUNT_USER } from '../rules/access-key-age/credential-report';
import type { AuditKey, AuditReport } from './audit-report';
import { IAM3_RELATED_REQUIREMENTS } from './format-asff';
import { REPORT_SCRIPT, REPORT_STYLE } from './html-report-assets';
import type { AccountEntry, OrganizationAuditReport } from './organization-report';

/** What the page says about its own making, beyond the report. */
export interface HtmlContext {
  /** keyage's version (package.json). */
  readonly version: string;
  /** When the file was made: the real clock (not `--now`), ISO 8601. */
  readonly generatedAt: string;
  /**
   * Where each parameter came from, for a report that does not record it (an offline audit:
   * `flag` or `default`). A live report's own `parameters.sources` wins.
   */
  readonly parameterSources?: { readonly maxAccessKeyAgeDays: string; readonly exemptionTag: string; readonly graceDays: string };
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or an attribute value for HTML: `& < > " '` as character references. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` escaped as `\u003c`,
 * `\u003e`, `\u0026` (valid JSON, the same value), so that no string can end the block
 * (`</script>`) or open a comment (`<!--`); U+2028 and U+2029 escaped too.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A CSP source expression allowing exactly this inline text. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The page's Content-Security-Policy: nothing from anywhere, but the inline style and script themselves. */
export const REPORT_CSP = `default-src 'none'; style-src ${cspHash(REPORT_STYLE)}; script-src ${cspHash(REPORT_SCRIPT)}; base-uri 'none'; form-action 'none'`;

// --- the histogram -------------------------------------------------------------------------

/** One bar: the keys `lo` to `hi` whole days old (`hi` null: `lo` and older). */
export interface AgeBin {
  readonly lo: number;
  readonly hi: number | null;
  /** Keys in the bin that are within their limit. */
  readonly within: number;
  /** Keys in the bin that are over their limit. */
  readonly over: number;
}

const NICE_WIDTHS = [1, 2, 3, 5, 7, 10, 14, 15, 20, 30, 45, 60, 90, 120, 180, 365];

/** Days per bar: the smallest "nice" width that puts at most 12 bars under the limit. */
export function binWidth(limit: number): number {
  return NICE_WIDTHS.find((w) => limit / w <= 12) ?? Math.ceil(limit / 12);
}

/**
 * The bars for a limit: bars of `binWidth` days, one of them ending exactly at the limit (the
 * first bar, from 0, takes the remainder), as many again beyond it up to twice the limit, then
 * one bar for every older key. So the limit line always falls between two bars: every key left
 * of it is within the limit, every key right of it over.
 */
export function ageBinRanges(limit: number): { lo: number; hi: number | null }[] {
  const width = binWidth(limit);
  const under = Math.ceil(limit / width);
  const ranges: { lo: number; hi: number | null }[] = [];
  let hi = limit - (under - 1) * width;
  ranges.push({ lo: 0, hi });
  for (let i = 1; i < 2 * under; i++) {
    ranges.push({ lo: hi + 1, hi: hi + width });
    hi += width;
  }
  ranges.push({ lo: hi + 1, hi: null });
  return ranges;
}

/** Count keys (their age in whole days, and whether each is over its own limit) into the bars. */
export function ageHistogram(keys: Iterable<{ readonly ageDays: number; readonly overLimit: boolean }>, limit: number): AgeBin[] {
  const ranges = ageBinRanges(limit);
  const within = ranges.map(() => 0);
  const over = ranges.map(() => 0);
  for (const k of keys) {
    let i = ranges.findIndex((r) => r.hi === null || k.ageDays <= r.hi);
    if (i < 0) i = ranges.length - 1;
    if (k.overLimit) over[i] = (over[i] ?? 0) + 1;
    else within[i] = (within[i] ?? 0) + 1;
  }
  return ranges.map((r, i) => ({ ...r, within: within[i] ?? 0, over: over[i] ?? 0 }));
}

function binLabel(b: { lo: number; hi: number | null }): string {
  if (b.hi === null) return `${b.lo}+`;
  return b.lo === b.hi ? String(b.lo) : `${b.lo}\u2013${b.hi}`;
}

/** A round upper bound for the y axis, and its tick step. */
function yScale(max: number): { top: number; step: number } {
  if (max <= 4) return { top: Math.max(max, 1), step: 1 };
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw && Number.isInteger(s)) ?? Math.ceil(raw);
  return { top: Math.ceil(max / step) * step, step };
}

/** The histogram as inline SVG: stacked bars (within / over the limit), counts on top, the limit as a dashed line. */
export function histogramSvg(bins: readonly AgeBin[], limit: number): string {
  const W = 920;
  const H = 280;
  const left = 44;
  const right = 12;
  const top = 40;
  const bottom = 62;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const slot = plotW / bins.length;
  const max = Math.max(0, ...bins.map((b) => b.within + b.over));
  const { top: yTop, step } = yScale(max);
  const y = (n: number) => top + plotH - (n / yTop) * plotH;
  const f = (n: number) => (Math.round(n * 10) / 10).toString();
  const out: string[] = [];
  out.push(
    `<svg class="chart" id="age-histogram" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="age-histogram-title age-histogram-desc" data-limit="${limit}">`,
    `<title id="age-histogram-title">Active access keys by age in days</title>`,
    `<desc id="age-histogram-desc">${bins.map((b) => `${binLabel(b)} days: ${b.within + b.over}`).join('; ')}. Limit ${limit} days.</desc>`,
  );
  for (let n = 0; n <= yTop; n += step) {
    out.push(`<line class="grid" x1="${left}" x2="${W - right}" y1="${f(y(n))}" y2="${f(y(n))}"/>`);
    out.push(`<text class="tick" x="${left - 6}" y="${f(y(n) + 3.5)}" text-anchor="end">${n}</text>`);
  }
  bins.forEach((b, i) => {
    const x = left + i * slot + 3;
    const w = slot - 6;
    const count = b.within + b.over;
    const range = b.hi === null ? `${b.lo} days or older` : `${binLabel(b)} days old`;
    out.push(`<g class="bin" data-lo="${b.lo}" data-hi="${b.hi ?? ''}" data-count="${count}" data-within="${b.within}" data-over="${b.over}">`);
    out.push(`<title>${count} active key${count === 1 ? '' : 's'} ${range}${b.over > 0 ? ` (${b.over} over the limit)` : ''}</title>`);
    if (b.within > 0) out.push(`<rect class="bar-ok" x="${f(x)}" width="${f(w)}" y="${f(y(b.within))}" height="${f(y(0) - y(b.within))}"/>`);
    if (b.over > 0) out.push(`<rect class="bar-over" x="${f(x)}" width="${f(w)}" y="${f(y(count))}" height="${f(y(b.within) - y(count))}"/>`);
    if (count > 0) out.push(`<text x="${f(x + w / 2)}" y="${f(y(count) - 4)}" text-anchor="middle">${count}</text>`);
    // Labels slanted, so that the ranges of narrow bars do not run into each other.
    const lx = x + w / 2 + 4;
    const ly = H - bottom + 14;
    out.push(`<text class="tick" x="${f(lx)}" y="${ly}" text-anchor="end" transform="rotate(-35 ${f(lx)} ${ly})">${binLabel(b)}</text>`);
    out.push('</g>');
  });
  out.push(`<line class="axis" x1="${left}" x2="${W - right}" y1="${f(y(0))}" y2="${f(y(0))}"/>`);
  const limitIndex = bins.findIndex((b) => b.hi === limit);
  if (limitIndex >= 0) {
    const lx = left + (limitIndex + 1) * slot;
    out.push(`<line class="limit" id="limit-line" x1="${f(lx)}" x2="${f(lx)}" y1="${top - 20}" y2="${f(y(0))}"/>`);
    out.push(`<text class="limit-label" x="${f(lx - 6)}" y="${top - 24}" text-anchor="end">\u2190 within</text>`);
    out.push(`<text class="limit-label" x="${f(lx + 6)}" y="${top - 24}">limit: ${limit} days, over \u2192</text>`);
  }
  out.push(`<text class="tick" x="${left + plotW / 2}" y="${H - 8}" text-anchor="middle">age of the key in whole days</text>`);
  out.push('</svg>');
  return out.join('\n');
}

// --- the findings table's data -----------------------------------------------------------------

/**
 * One row of the findings table, as the page's script reads it (cli/html-report-assets.ts).
 * Texts that repeat (user names, statuses, verdicts, actions, last-use dates) are indexes into
 * `ReportData.strings`; a key ID is itself (it does not repeat); the reason indexes
 * `ReportData.reasons`. Fields: account (index into `ReportData.accounts`, or null), user, slot,
 * key ID, status, age in days, days until due, last use (`YYYY-MM-DD`, `never`, `unknown`),
 * verdict (the user's compliance on a row without a key), action, reason.
 */
export type FindingRow = [
  account: number | null,
  user: number,
  slot: 1 | 2 | null,
  keyId: string | null,
  status: number | null,
  ageDays: number | null,
  daysUntilDue: number | null,
  lastUsed: number | null,
  verdict: number,
  action: number,
  reason: number,
];

/** The data block of the page. */
export interface ReportData {
  /** The accounts of an organization report, by index; `null` for one account. */
  readonly accounts: { readonly id: string; readonly name: string }[] | null;
  /** Distinct texts of the rows, by index. */
  readonly strings: string[];
  /** Distinct reasons, each split at its row's key ID (the script joins the parts with it). */
  readonly reasons: string[][];
  readonly rows: FindingRow[];
}

/** Distinct values by index, in order of first use. */
class Interned<T> {
  readonly values: T[] = [];
  private readonly index = new Map<string, number>();

  constructor(private readonly keyOf: (value: T) => string) {}

  add(value: T): number {
    const key = this.keyOf(value);
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.index.set(key, i);
    }
    return i;
  }
}

/**
 * The texts and reasons of the rows, each stored once. A live reason names its key ID ("Active
 * key AKIA… (key 1) is 91 days old…"), so it is split at the row's key ID and the parts stored:
 * the same sentence about another key is then the same entry, and joining the parts with the key
 * ID gives the reason back exactly, whatever it contains.
 */
class RowTables {
  readonly strings = new Interned<string>((s) => s);
  readonly reasons = new Interned<string[]>((parts) => JSON.stringify(parts));

  text(value: string): number;
  text(value: string | null): number | null;
  text(value: string | null): number | null {
    return value === null ? null : this.strings.add(value);
  }

  reason(reason: string, keyId: string | null): number {
    return this.reasons.add(keyId ? reason.split(keyId) : [reason]);
  }
}

function lastUsedText(k: AuditKey): string {
  if (k.lastUsedState === 'never') return 'never';
  if (k.lastUsedState === 'unknown' || !k.lastUsedAt) return 'unknown';
  return k.lastUsedAt.slice(0, 10);
}

/** An audit report and, in an organization report, the index of its account. */
interface Scoped {
  readonly account: number | null;
  readonly report: AuditReport;
}

function findingRows(scoped: readonly Scoped[], t: RowTables): FindingRow[] {
  const rows: FindingRow[] = [];
  const keyRow = (account: number | null, user: string, k: AuditKey): FindingRow => [
    account,
    t.text(user),
    k.slot,
    k.accessKeyId,
    t.text(k.status),
    k.ageDays,
    k.daysUntilDue,
    t.text(lastUsedText(k)),
    t.text(k.verdict),
    t.text(k.action),
    t.reason(k.reason, k.accessKeyId),
  ];
  for (const { account, report } of scoped) {
    for (const k of report.root?.keys ?? []) rows.push(keyRow(account, ROOT_ACCOUNT_USER, k));
    for (const u of report.users) {
      if (u.keys.length === 0) rows.push([account, t.text(u.userName), null, null, null, null, null, null, t.text(u.compliance), t.text('none'), t.reason(u.annotation, null)]);
      for (const k of u.keys) rows.push(keyRow(account, u.userName, k));
    }
  }
  return rows;
}

// --- sections ------------------------------------------------------------------------------------

const h = escapeHtml;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function section(id: string, title: string, body: string): string {
  return `<section id="${id}" aria-labelledby="${id}-h">\n<h2 id="${id}-h">${h(title)}</h2>\n${body}\n</section>`;
}

function facts(rows: ReadonlyArray<readonly [string, string]>): string {
  return `<dl class="facts">\n${rows.map(([dt, dd]) => `<dt>${h(dt)}</dt><dd>${dd}</dd>`).join('\n')}\n</dl>`;
}

function controlSection(limit: number, differing: readonly number[]): string {
  const limits = differing.length > 1 ? `${differing.join(', ')} days (the accounts' own rules differ; see the rollup)` : `${limit} days`;
  return section(
    'control',
    'Control',
    facts([
      ['CIS AWS Foundations', '<strong>1.14</strong> Ensure access keys are rotated every 90 days or less (1.4 in v1.2.0, 1.13 in v5.0.0, 2.12 in v7)'],
      ['AWS Security Hub', '<strong>IAM.3</strong> IAM users\u2019 access keys should be rotated every 90 days or less'],
      ['Audited with', `a limit of ${h(limits)}: an <em>active</em> key older than that many whole days makes its user NON_COMPLIANT; a key exactly that old is compliant; inactive keys do not count; exempt users are NOT_APPLICABLE`],
      ['Root user', 'any root access key is a finding of CIS 1.4 (Security Hub IAM.4) of its own; keyage never changes root keys'],
      ['Related requirements', h(IAM3_RELATED_REQUIREMENTS.join('; '))],
    ]),
  );
}

function sourceName(source: string | undefined, flag: string): string {
  if (source === undefined) return 'not recorded';
  if (source === 'flag') return `command line (${flag})`;
  if (source === 'default') return 'keyage\u2019s default';
  return source;
}

function parametersSection(report: Pick<AuditReport, 'parameters' | 'source'>, ctx: HtmlContext, note: string): string {
  const p = report.parameters;
  const sources = p.sources ?? ctx.parameterSources;
  const offline = report.source.kind === 'credential-report';
  const rows: string[][] = [
    ['MaxAccessKeyAge', `${p.maxAccessKeyAgeDays} days`, sourceName(sources?.maxAccessKeyAgeDays, '--max-age')],
    [
      'ExemptionTag',
      offline ? 'none' : p.exemptionTag ?? 'none',
      offline ? 'not available offline: the credential report carries no tags' : sourceName(sources?.exemptionTag, '--exemption-tag'),
    ],
    ['GracePeriodDays', `${p.graceDays} days (delete stage)`, sourceName(sources?.graceDays, '--grace-days')],
  ];
  if (p.recordKey !== undefined) rows.push(['Record key', p.recordKey ?? 'none: deactivation records cannot be verified, so no deletion is planned', p.recordKey ? '--record-key, or its default alias' : '']);
  if (offline) rows.push(['Record key', 'none', 'not used offline: the credential report carries no records, so no deletion is planned']);
  const body =
    `<table id="parameters-table">\n<thead><tr><th>Parameter</th><th>Value</th><th>Source</th></tr></thead>\n<tbody>\n` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${h(c)}</td>`).join('')}</tr>`).join('\n') +
    `\n</tbody>\n</table>${note ? `\n<p class="note">${h(note)}</p>` : ''}`;
  return section('parameters', 'Parameters', body);
}

interface Card {
  readonly field: string;
  readonly value: number | null;
  readonly label: string;
  /** `summary`: a field of the JSON report's `summary`; `derived`: counted here. */
  readonly kind: 'summary' | 'derived';
  readonly tone?: 'bad' | 'ok' | 'warn';
  readonly text?: string;
}

function cardsHtml(cards: readonly Card[]): string {
  return `<div class="cards">\n${cards
    .map((c) => {
      const tone = c.tone && c.value !== null && (c.tone === 'ok' || c.value > 0) ? ` ${c.tone}` : '';
      const value = c.value === null ? h(c.text ?? '\u2014') : String(c.value);
      return `<div class="card${tone}" data-${c.kind}="${h(c.field)}"${c.value === null ? '' : ` data-value="${c.value}"`}><span class="n${c.value === null ? ' word' : ''}">${value}</span><span class="l">${h(c.label)}</span></div>`;
    })
    .join('\n')}\n</div>`;
}

function accountSummaryCards(report: AuditReport): Card[] {
  const s = report.summary;
  const live = report.source.kind === 'live';
  return [
    { field: 'users', value: s.users, label: 'IAM users', kind: 'summary' },
    { field: 'compliantUsers', value: s.compliantUsers, label: 'compliant users', kind: 'summary', tone: 'ok' },
    { field: 'nonCompliantUsers', value: s.nonCompliantUsers, label: 'non-compliant users', kind: 'summary', tone: 'bad' },
    { field: 'notApplicableUsers', value: s.notApplicableUsers, label: 'exempt users (or deleted during the audit)', kind: 'summary' },
    live
      ? { field: 'rootAccessKeys', value: null, text: 'not checked', label: 'root access keys: a live audit cannot see them', kind: 'summary' }
      : { field: 'rootAccessKeys', value: s.rootAccessKeys, label: 'root access keys', kind: 'summary', tone: 'bad' },
    { field: 'keys', value: s.keys, label: 'access keys', kind: 'summary' },
    { field: 'activeKeys', value: s.activeKeys, label: 'active keys', kind: 'summary' },
    { field: 'staleKeys', value: s.staleKeys, label: 'active keys over the limit', kind: 'summary', tone: 'bad' },
    { field: 'keysToDeactivate', value: s.keysToDeactivate, label: 'keys to deactivate', kind: 'summary', tone: 'warn' },
    { field: 'keysToDelete', value: s.keysToDelete, label: 'keys to delete', kind: 'summary', tone: 'warn' },
  ];
}

function histogramSection(scoped: readonly Scoped[], limit: number, differing: readonly number[]): string {
  const keys = scoped.flatMap(({ report }) => report.users.flatMap((u) => u.keys.filter((k) => k.status === 'Active')));
  const bins = ageHistogram(keys, limit);
  const over = keys.filter((k) => k.overLimit).length;
  const notes = [
    `${plural(keys.length, 'active key')} of IAM users (exempt users\u2019 included, root keys apart), ${over} over the limit. Hover a bar for its count.`,
    ...(differing.length > 1 ? [`The accounts were audited with different limits (${differing.join(', ')} days): the line shows ${limit} days, and each key is coloured by its own account\u2019s limit.`] : []),
  ];
  const legend =
    '<div class="legend"><span><span class="swatch ok"></span>within the limit</span><span><span class="swatch over"></span>over the limit</span>' +
    `<span><span class="swatch limit"></span>the limit (${limit} days)</span></div>`;
  return section('ages', 'Active keys by age', `${histogramSvg(bins, limit)}\n${legend}\n${notes.map((n) => `<p class="note">${h(n)}</p>`).join('\n')}`);
}

/** How many keys falling due the page lists by name (the findings table's filter shows them all). */
export const DUE_LISTED = 50;

function dueSection(scoped: readonly Scoped[], accounts: ReportData['accounts']): string {
  const due = scoped
    .flatMap(({ account, report }) =>
      report.users.flatMap((u) => u.keys.filter((k) => k.status === 'Active' && k.verdict === 'COMPLIANT' && k.daysUntilDue > 0 && k.daysUntilDue <= 30).map((k) => ({ account, user: u.userName, k }))),
    )
    .sort((a, b) => a.k.dueAt.localeCompare(b.k.dueAt) || a.user.localeCompare(b.user) || a.k.slot - b.k.slot);
  const within7 = due.filter((d) => d.k.daysUntilDue <= 7).length;
  const counts = cardsHtml([
    { field: 'due7', value: within7, label: 'active keys falling due in the next 7 days', kind: 'derived', tone: 'warn' },
    { field: 'due30', value: due.length, label: 'active keys falling due in the next 30 days', kind: 'derived', tone: 'warn' },
  ]);
  const listed = due.slice(0, DUE_LISTED);
  const table =
    listed.length === 0
      ? '<p class="note">No active key falls due in the next 30 days.</p>'
      : `<table id="due-table">\n<thead><tr>${accounts ? '<th>Account</th>' : ''}<th>User</th><th class="num">Key</th><th class="num">Age</th><th>Due</th><th class="num">In</th></tr></thead>\n<tbody>\n` +
        listed
          .map(({ account, user, k }) => {
            const acct = accounts && account !== null ? `<td class="mono">${h(accounts[account]?.id ?? '')}</td>` : '';
            return `<tr>${acct}<td class="user">${h(user)}</td><td class="num mono">${h(k.accessKeyId ?? `slot ${k.slot}`)}</td><td class="num">${k.ageDays} d</td><td>${h(k.dueAt.slice(0, 16).replace('T', ' '))} UTC</td><td class="num">${plural(k.daysUntilDue, 'day')}</td></tr>`;
          })
          .join('\n') +
        '\n</tbody>\n</table>';
  const more = due.length > listed.length ? `<p class="note">and ${due.length - listed.length} more: choose \u201cdue within 30 days\u201d in the findings table.</p>` : '';
  return section(
    'due',
    'Falling due soon',
    `${counts}\n${table}\n${more}<p class="note">Active keys of users who are not exempt, within the limit today and over it within the days shown: rotate them before the rule flags them.</p>`,
  );
}

function rootSection(report: AuditReport): string {
  if (report.source.kind === 'live') return section('root', 'Root user', '<p>Not checked: a live audit cannot see the root user\u2019s keys. Audit the account\u2019s credential report for them.</p>');
  if (!report.root) return section('root', 'Root user', '<p>The credential report has no <code>&lt;root_account&gt;</code> row.</p>');
  const root = report.root;
  const keys = root.keys.map((k) => `<li>key ${k.slot}: ${h(k.status)}, ${plural(k.ageDays, 'day')} old, last used ${h(lastUsedText(k))}</li>`).join('\n');
  return section(
    'root',
    'Root user',
    `<p><span class="${root.compliance === 'NON_COMPLIANT' ? 'bad-text' : 'v-COMPLIANT'}">${h(root.compliance)}</span> ${h(root.reason)}</p>${keys ? `\n<ul>\n${keys}\n</ul>` : ''}`,
  );
}

const FINDINGS_COLUMNS: ReadonlyArray<readonly [string, string, boolean]> = [
  ['user', 'User', false],
  ['slot', 'Slot', true],
  ['key', 'Key ID', false],
  ['status', 'Status', false],
  ['age', 'Age (d)', true],
  ['due', 'Due', true],
  ['last', 'Last used', false],
  ['verdict', 'Verdict', false],
  ['action', 'Action', false],
  ['reason', 'Reason', false],
];

function findingsSection(withAccounts: boolean, rowCount: number): string {
  const columns = withAccounts ? [['account', 'Account', false] as const, ...FINDINGS_COLUMNS] : FINDINGS_COLUMNS;
  const head = columns.map(([col, label, num]) => `<th data-col="${col}" aria-sort="none"${num ? ' class="num"' : ''}><button type="button">${h(label)}</button></th>`).join('');
  const controls =
    '<div class="controls hidden" id="findings-controls">\n' +
    '<input type="search" id="findings-search" placeholder="Filter: user, key ID, account, verdict, reason\u2026" aria-label="Filter the findings by text">\n' +
    '<select id="findings-filter" aria-label="Which rows">' +
    '<option value="all">all rows</option><option value="findings">non-compliant keys</option><option value="due7">due within 7 days</option>' +
    '<option value="due30">due within 30 days</option><option value="exempt">exempt or not applicable</option><option value="actions">a planned action</option>' +
    '</select>\n<span id="findings-count" aria-live="polite"></span>\n</div>';
  const body =
    `${controls}\n<noscript><p class="note">Sorting and filtering need JavaScript, and so does this table of ${plural(rowCount, 'row')}; ` +
    'the JSON output (<code>--format json</code>) carries every field.</p></noscript>\n' +
    `<table id="findings">\n<thead><tr>${head}</tr></thead>\n<tbody></tbody>\n</table>\n<button type="button" id="more" class="hidden"></button>\n` +
    '<p class="note">One row per access key, a row for each user without keys, and the root user\u2019s keys. Click a column to sort (again to reverse).</p>';
  return section('findings-section', 'Findings', body);
}

function rollupSection(report: OrganizationAuditReport): string {
  const head = ['Account', 'Name', 'State', 'Audit', 'Users', 'Non-compliant', 'Stale keys', 'Oldest active key', 'Root keys', 'Limit (source)'];
  const num = new Set([4, 5, 6]);
  const cells = (e: AccountEntry): string[] => {
    const n = (v: number | null) => (v === null ? '\u2014' : String(v));
    const oldest = e.oldestActiveKey ? `${e.oldestActiveKey.ageDays} d, ${e.oldestActiveKey.userName} (${e.oldestActiveKey.accessKeyId ?? `key ${e.oldestActiveKey.slot}`})` : e.audited ? 'none' : '\u2014';
    const root = e.rootAccessKeysPresent === null ? '\u2014' : e.rootAccessKeysPresent ? 'PRESENT' : 'none';
    const source = e.report?.parameters.sources?.maxAccessKeyAgeDays;
    const limit = e.maxAccessKeyAgeDays === null ? '\u2014' : `${e.maxAccessKeyAgeDays} d (${sourceName(source, '--max-age')})`;
    return [e.accountId, e.name || '\u2014', e.state, e.audited ? 'complete' : 'NOT AUDITED', n(e.users), n(e.nonCompliantUsers), n(e.staleKeys), oldest, root, limit];
  };
  const bad = (e: AccountEntry, i: number) => (i === 3 && !e.audited) || (i === 5 && (e.nonCompliantUsers ?? 0) > 0) || (i === 8 && e.rootAccessKeysPresent === true);
  const rows = report.accounts
    .map(
      (e) =>
        `<tr data-account="${h(e.accountId)}">${cells(e)
          .map((c, i) => {
            const cls = [num.has(i) ? 'num' : '', i === 0 ? 'mono' : '', bad(e, i) ? 'bad-text' : ''].filter(Boolean).join(' ');
            return `<td${cls ? ` class="${cls}"` : ''}>${h(c)}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  const failed = report.accounts.filter((e) => !e.audited);
  const failures = failed.length
    ? `<p><strong>Not audited (${failed.length}):</strong></p>\n<ul id="not-audited">\n${failed.map((e) => `<li><span class="mono">${h(e.accountId)}</span>${e.name ? ` (${h(e.name)})` : ''}: ${h(e.reason ?? '')}</li>`).join('\n')}\n</ul>`
    : '';
  const table =
    report.accounts.length === 0
      ? '<p>No accounts selected.</p>'
      : `<table id="rollup">\n<thead><tr>${head.map((c, i) => `<th${num.has(i) ? ' class="num"' : ''}>${h(c)}</th>`).join('')}</tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table>`;
  return section('accounts', 'Accounts', `${table}\n${failures}`);
}

function header(title: string, subtitle: string): string {
  return `<header>\n<h1>${h(title)}</h1>\n<p class="sub">${h(subtitle)}</p>\n</header>`;
}

function footer(ctx: HtmlContext): string {
  return (
    `<footer>\n<p>Made by keyage ${h(ctx.version)} at ${h(ctx.generatedAt)}. The verdicts come from the same policy module as the AWS Config rule, the planned actions from the runbooks\u2019 own plan. ` +
    'This file is self-contained and loads nothing: <code>keyage audit --format json</code> gives the same facts as data.</p>\n</footer>'
  );
}

function page(title: string, parts: readonly string[], data: ReportData): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${h(REPORT_CSP)}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${h(title)}</title>`,
    `<style>${REPORT_STYLE}</style>`,
    '</head>',
    '<body>',
    ...parts,
    `<script type="application/json" id="keyage-data">${jsonForScript(data)}</script>`,
    `<script>${REPORT_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function sourceFacts(report: AuditReport): [string, string][] {
  const src = report.source;
  if (src.kind === 'credential-report') {
    return [
      ['Source', `credential report <span class="mono">${h(src.file)}</span> (offline: no key IDs, no user IDs, no tags)`],
      ['Report generated', src.generatedAt ? h(src.generatedAt) : 'not in the input (raw CSV)'],
    ];
  }
  return [
    ['Source', `live IAM, read-only${src.roleArn ? `, through role <span class="mono">${h(src.roleArn)}</span>` : ''}`],
    ['Credentials', src.profile ? `profile ${h(src.profile)}` : 'the default credential chain'],
  ];
}

/** The audit of one account as an HTML page. */
export function formatAuditHtml(report: AuditReport, ctx: HtmlContext): string {
  const tables = new RowTables();
  const scoped = [{ account: null, report }];
  const rows = findingRows(scoped, tables);
  const limit = report.parameters.maxAccessKeyAgeDays;
  const account = report.accountId ?? 'unknown';
  const kind = report.source.kind === 'live' ? 'live' : 'credential report';
  const made = section(
    'provenance',
    'How this report was made',
    facts([
      ['Account', `<span class="mono">${h(account)}</span> (partition ${h(report.partition)})`],
      ...sourceFacts(report),
      ['Region', `${h(report.region)} (the Region findings are attributed to)`],
      ['Decision clock', `${h(report.now)} (<code>--now</code>: every age is counted to it)`],
      ['Report made', h(ctx.generatedAt)],
      ['keyage', h(ctx.version)],
    ]),
  );
  const parts = [
    header(`IAM access key rotation: account ${account}`, `keyage audit, ${kind}, decided at ${report.now}: CIS AWS Foundations 1.14 / Security Hub IAM.3`),
    '<main>',
    `<div class="cols">\n${controlSection(limit, [])}\n${made}\n</div>`,
    parametersSection(report, ctx, ''),
    section('summary', 'Summary', cardsHtml(accountSummaryCards(report))),
    histogramSection(scoped, limit, []),
    `<div class="cols">\n${dueSection(scoped, null)}\n${rootSection(report)}\n</div>`,
    findingsSection(false, rows.length),
    '</main>',
    footer(ctx),
  ];
  return page(`keyage audit: account ${account}`, parts, { accounts: null, strings: tables.strings.values, reasons: tables.reasons.values, rows });
}

/** The most common limit of the audited accounts (the smaller on a tie), and every limit used. */
function organizationLimits(report: OrganizationAuditReport): { limit: number; all: number[] } {
  const counts = new Map<number, number>();
  for (const e of report.accounts) if (e.maxAccessKeyAgeDays !== null) counts.set(e.maxAccessKeyAgeDays, (counts.get(e.maxAccessKeyAgeDays) ?? 0) + 1);
  const all = [...counts.keys()].sort((a, b) => a - b);
  if (all.length === 0) return { limit: report.parameters.maxAccessKeyAgeDays, all };
  const limit = all.reduce((best, l) => ((counts.get(l) ?? 0) > (counts.get(best) ?? 0) ? l : best), all[0] as number);
  return { limit, all };
}

/** The organization audit as an HTML page: the same sections over every audited account, and the per-account rollup. */
export function formatOrganizationHtml(report: OrganizationAuditReport, ctx: HtmlContext): string {
  // Without a flag, each account's own deployed rule (or keyage's default) decided.
  const perAccount = 'each account\u2019s deployed rule or runbook, else keyage\u2019s default';
  const given = ctx.parameterSources;
  const sources = given && {
    maxAccessKeyAgeDays: given.maxAccessKeyAgeDays === 'flag' ? 'flag' : perAccount,
    exemptionTag: given.exemptionTag === 'flag' ? 'flag' : perAccount,
    graceDays: given.graceDays === 'flag' ? 'flag' : perAccount,
  };
  const tables = new RowTables();
  const accounts = report.accounts.map((e) => ({ id: e.accountId, name: e.name }));
  const scoped: Scoped[] = report.accounts.flatMap((e, i) => (e.report ? [{ account: i, report: e.report }] : []));
  const rows = findingRows(scoped, tables);
  const { limit, all } = organizationLimits(report);
  const s = report.summary;
  const src = report.source;
  const selection = src.selection.accounts
    ? `accounts ${src.selection.accounts.join(', ')}`
    : src.selection.organizationalUnits
      ? `the OUs ${src.selection.organizationalUnits.join(', ')} and every OU under them`
      : 'every account of the organization';
  const made = section(
    'provenance',
    'How this report was made',
    facts([
      ['Source', `live IAM of each account, read-only, through role <span class="mono">${h(src.roleName)}</span> (account <span class="mono">${h(src.callerAccountId)}</span> with its own credentials)`],
      ['Accounts', `${h(selection)}${src.selection.exclude.length ? `, except ${h(src.selection.exclude.join(', '))}` : ''}`],
      ['Credentials', src.profile ? `profile ${h(src.profile)}` : 'the default credential chain'],
      ['Region', `${h(report.region)} (partition ${h(report.partition)})`],
      ['Decision clock', `${h(report.now)} (<code>--now</code>: every age is counted to it)`],
      ['Report made', h(ctx.generatedAt)],
      ['keyage', h(ctx.version)],
    ]),
  );
  const compliant = scoped.reduce((n, { report: r }) => n + r.summary.compliantUsers, 0);
  const cards: Card[] = [
    { field: 'accounts', value: s.accounts, label: 'accounts', kind: 'summary' },
    { field: 'accountsAudited', value: s.accountsAudited, label: 'accounts audited', kind: 'summary', tone: 'ok' },
    { field: 'accountsNotAudited', value: s.accountsNotAudited, label: 'accounts NOT audited', kind: 'summary', tone: 'bad' },
    { field: 'accountsWithFindings', value: s.accountsWithFindings, label: 'accounts with findings', kind: 'summary', tone: 'bad' },
    { field: 'users', value: s.users, label: 'IAM users', kind: 'summary' },
    { field: 'compliantUsers', value: compliant, label: 'compliant users', kind: 'derived', tone: 'ok' },
    { field: 'nonCompliantUsers', value: s.nonCompliantUsers, label: 'non-compliant users', kind: 'summary', tone: 'bad' },
    { field: 'notApplicableUsers', value: s.notApplicableUsers, label: 'exempt users (or deleted during the audit)', kind: 'summary' },
    { field: 'accountsWithRootAccessKeys', value: s.accountsWithRootAccessKeys, label: 'accounts with root access keys', kind: 'summary', tone: 'bad' },
    { field: 'activeKeys', value: s.activeKeys, label: 'active keys', kind: 'summary' },
    { field: 'staleKeys', value: s.staleKeys, label: 'active keys over the limit', kind: 'summary', tone: 'bad' },
    { field: 'keysToDeactivate', value: s.keysToDeactivate, label: 'keys to deactivate', kind: 'summary', tone: 'warn' },
    { field: 'keysToDelete', value: s.keysToDelete, label: 'keys to delete', kind: 'summary', tone: 'warn' },
  ];
  const parts = [
    header(`IAM access key rotation: ${plural(s.accounts, 'account')}`, `keyage organization audit, decided at ${report.now}: CIS AWS Foundations 1.14 / Security Hub IAM.3`),
    '<main>',
    `<div class="cols">\n${controlSection(limit, all)}\n${made}\n</div>`,
    parametersSection(
      { parameters: report.parameters, source: { kind: 'live', region: report.region, profile: src.profile } },
      { ...ctx, ...(sources ? { parameterSources: sources } : {}) },
      'As given on the command line; where a flag is absent, each account is audited with its own deployed rule\u2019s parameters (or keyage\u2019s defaults): the rollup shows each account\u2019s limit and where it came from.',
    ),
    section('summary', 'Summary', cardsHtml(cards)),
    rollupSection(report),
    histogramSection(scoped, limit, all),
    dueSection(scoped, accounts),
    findingsSection(true, rows.length),
    '</main>',
    footer(ctx),
  ];
  return page(`keyage organization audit: ${plural(s.accounts, 'account')}`, parts, { accounts, strings: tables.strings.values, reasons: tables.reasons.values, rows });
}
