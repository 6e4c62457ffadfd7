/**
 * `keyage audit --format html` without a browser: one self-contained file (no URL, a strict
 * Content-Security-Policy whose hashes are those of the inline style and script), every report
 * string escaped (hostile user names), the findings data lossless, the histogram's bars, the
 * size budget at 5,000 users, and `--output FILE`. The page in a real browser:
 * html-report.browser.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fc from 'fast-check';
import type { AuditReport } from '../../cli/audit-report';
import {
  ageBinRanges,
  ageHistogram,
  escapeHtml,
  formatAuditHtml,
  formatOrganizationHtml,
  type HtmlContext,
  jsonForScript,
  type ReportData,
} from '../../cli/format-html';
import { credentialReportAudit, organizationReport, syntheticAccountReport } from './html-report-inputs';
import { EXAMPLE, fixture, FIXTURES, PINNED_NOW, ROOT, runCli } from './run-cli';

const CTX: HtmlContext = { version: '9.9.9', generatedAt: '2030-01-01T00:00:00.000Z', parameterSources: { maxAccessKeyAgeDays: 'default', exemptionTag: 'default', graceDays: 'flag' } };
const HOSTILE = ['<img src=x onerror=alert(1)>', '"><script>alert(2)</script>', "O'Brien & <b>Co</b>", '</script><svg onload=alert(3)>'];

/** Every tag the page itself writes; a report string that became markup would add another. */
const PAGE_TAGS = new Set(
  'html head meta title style body header main footer section h1 h2 p div span dl dt dd table thead tbody tr th td button input select option noscript code strong em ul li svg g rect line text desc script'.split(' '),
);

function example(): AuditReport {
  return credentialReportAudit(join(ROOT, EXAMPLE), EXAMPLE);
}

function hostile(): AuditReport {
  return credentialReportAudit(join(FIXTURES, 'hostile-names.csv'), 'hostile-names.csv');
}

/** The inline blocks of a page. */
function blocks(html: string): { style: string; script: string; data: ReportData; dataText: string; outside: string } {
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
  const dataText = /<script type="application\/json" id="keyage-data">([\s\S]*?)<\/script>/.exec(html)?.[1];
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (style === undefined || dataText === undefined || script === undefined) throw new Error('the page lacks its style, data or script block');
  const outside = html.replace(/<style>[\s\S]*?<\/style>/, '<style></style>').replace(/<script[^>]*>[\s\S]*?<\/script>/g, '<script></script>');
  return { style, script, data: JSON.parse(dataText) as ReportData, dataText, outside };
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

describe('escaping', () => {
  it('escapeHtml writes & < > " \' as character references and leaves the rest', () => {
    expect(escapeHtml(`a&b<c>d"e'f/g`)).toBe('a&amp;b&lt;c&gt;d&quot;e&#39;f/g');
  });

  it('jsonForScript leaves no < > & in the text and parses back to the same value', () => {
    const value = { names: [...HOSTILE, '<!-- x', 'a\u2028b', '&amp;'] };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(text).toContain('\\u003c/script\\u003e');
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('formatAuditHtml: one self-contained file', () => {
  const html = formatAuditHtml(example(), CTX);

  it('names no URL and loads nothing: no src, href, url(), @import or http(s) anywhere', () => {
    expect(html).not.toMatch(/\b(https?|ftp|wss?|data|blob|javascript):/i);
    expect(html).not.toMatch(/=\s*["']?\/\//); // no protocol-relative address
    expect(html).not.toMatch(/\s(src|href|action|formaction|srcset|xlink:href)=/i);
    expect(html).not.toMatch(/url\(|@import/i);
  });

  it('has a strict Content-Security-Policy: nothing from anywhere, the inline style and script by their exact hashes', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1]?.replace(/&#39;/g, "'");
    const { style, script } = blocks(html);
    expect(csp).toBe(`default-src 'none'; style-src ${sha256(style)}; script-src ${sha256(script)}; base-uri 'none'; form-action 'none'`);
    // The policy comes before anything it governs.
    expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<style>'));
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handler attribute
    expect(html).not.toMatch(/\sstyle=/i); // no inline style attribute (the CSP would refuse it)
  });

  it('says the control, the parameters with their sources, and when and from what it was made', () => {
    const text = blocks(html).outside.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain('CIS AWS Foundations 1.14 Ensure access keys are rotated every 90 days or less');
    expect(text).toContain('AWS Security Hub IAM.3');
    expect(text).toContain('MaxAccessKeyAge 90 days keyage’s default');
    expect(text).toContain('GracePeriodDays 14 days (delete stage) command line (--grace-days)');
    expect(text).toContain('ExemptionTag none not available offline');
    expect(text).toContain(`Source credential report ${EXAMPLE}`);
    expect(text).toContain('Account 123456789012 (partition aws)');
    expect(text).toContain('Region us-east-1');
    expect(text).toContain('Decision clock 2026-11-25T12:00:00.000Z');
    expect(text).toContain('Report made 2030-01-01T00:00:00.000Z');
    expect(text).toContain('keyage 9.9.9');
  });

  it('carries every key row and keyless user, and the reasons back exactly, in its data block', () => {
    const report = example();
    const { data } = blocks(html);
    const text = (i: number | null) => (i === null ? null : data.strings[i]);
    const rows = data.rows.map((r) => [text(r[1]), r[2], text(r[4]), r[5], r[6], text(r[7]), text(r[8]), text(r[9]), (data.reasons[r[10]] as string[]).join(r[3] ?? '')]);
    const lastUsed = (k: AuditReport['users'][number]['keys'][number]) => (k.lastUsedState === 'used' ? (k.lastUsedAt as string).slice(0, 10) : k.lastUsedState);
    const expected: unknown[][] = report.users.flatMap((u): unknown[][] =>
      u.keys.length === 0
        ? [[u.userName, null, null, null, null, null, u.compliance, 'none', u.annotation]]
        : u.keys.map((k) => [u.userName, k.slot, k.status, k.ageDays, k.daysUntilDue, lastUsed(k), k.verdict, k.action, k.reason]),
    );
    expect(rows).toEqual(expected);
  });
});

describe('formatAuditHtml: report strings are text, never markup', () => {
  const report = hostile();
  const html = formatAuditHtml(report, CTX);
  const { outside, data, dataText } = blocks(html);

  it('writes no tag but its own, whatever the user names hold', () => {
    const tags = new Set([...outside.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => (m[1] as string).toLowerCase()));
    expect([...tags].filter((t) => !PAGE_TAGS.has(t))).toEqual([]);
    expect(outside).not.toContain('<img');
    expect(outside).not.toContain('<b>');
    expect(outside).not.toContain('<svg onload');
    expect(html.match(/<script/gi)).toHaveLength(2);
  });

  it('shows a hostile name in the list of keys falling due as escaped text', () => {
    // "><script>alert(2)</script> has a key 88 days old: due in 3 days.
    expect(outside).toContain('<td class="user">&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;</td>');
  });

  it('embeds the names in the data block with < > & escaped, so none can end the block, and the data still holds them exactly', () => {
    expect(dataText).not.toMatch(/[<>&]/);
    expect(data.rows.map((r) => data.strings[r[1]])).toEqual(expect.arrayContaining(HOSTILE));
  });

  it('is the same page shape for an organization report', () => {
    const org = formatOrganizationHtml(organizationReport(), CTX);
    const tags = new Set([...blocks(org).outside.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => (m[1] as string).toLowerCase()));
    expect([...tags].filter((t) => !PAGE_TAGS.has(t))).toEqual([]);
    expect(org).not.toMatch(/https?:/);
  });
});

describe('the age histogram', () => {
  it('at the default limit: ten-day bars, the first 0-10, one ending at 90, up to 180, then 181 and older', () => {
    const ranges = ageBinRanges(90);
    expect(ranges[0]).toEqual({ lo: 0, hi: 10 });
    expect(ranges.find((r) => r.hi === 90)).toEqual({ lo: 81, hi: 90 });
    expect(ranges[ranges.length - 2]).toEqual({ lo: 171, hi: 180 });
    expect(ranges[ranges.length - 1]).toEqual({ lo: 181, hi: null });
    expect(ranges).toHaveLength(19);
  });

  it('for every limit from 1 to 3650 days: contiguous bars from 0, one ending exactly at the limit, at most 25', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3650 }), (limit) => {
        const ranges = ageBinRanges(limit);
        expect(ranges[0]?.lo).toBe(0);
        ranges.forEach((r, i) => {
          if (i > 0) expect(r.lo).toBe((ranges[i - 1]?.hi as number) + 1);
          if (r.hi !== null) expect(r.hi).toBeGreaterThanOrEqual(r.lo);
        });
        expect(ranges[ranges.length - 1]?.hi).toBeNull();
        expect(ranges.filter((r) => r.hi === limit)).toHaveLength(1);
        expect(ranges.length).toBeLessThanOrEqual(25);
      }),
    );
  });

  it('counts each key once, in its bar, apart by its own verdict (within or over its limit)', () => {
    const bins = ageHistogram(
      [
        { ageDays: 0, overLimit: false },
        { ageDays: 10, overLimit: false },
        { ageDays: 11, overLimit: false },
        { ageDays: 90, overLimit: false },
        { ageDays: 91, overLimit: true },
        { ageDays: 95, overLimit: false }, // an account with a higher limit of its own
        { ageDays: 5000, overLimit: true },
      ],
      90,
    );
    const at = (lo: number) => bins.find((b) => b.lo === lo);
    expect(at(0)).toMatchObject({ within: 2, over: 0 });
    expect(at(11)).toMatchObject({ within: 1, over: 0 });
    expect(at(81)).toMatchObject({ within: 1, over: 0 });
    expect(at(91)).toMatchObject({ within: 1, over: 1 });
    expect(at(181)).toMatchObject({ hi: null, within: 0, over: 1 });
    expect(bins.reduce((n, b) => n + b.within + b.over, 0)).toBe(7);
  });
});

describe('size', () => {
  it('5,000 users with two keys each (key IDs, live-shaped) make a page under 1 MB', () => {
    const report = syntheticAccountReport(5000);
    expect(report.summary.keys).toBe(10_000);
    const bytes = Buffer.byteLength(formatAuditHtml(report, CTX), 'utf8');
    expect(bytes).toBeLessThan(1024 * 1024);
  });

  it('an organization of 10 accounts of 500 such users each makes a page under 1 MB', () => {
    const base = organizationReport();
    const accounts = Array.from({ length: 10 }, (_, i) => {
      const id = String(100000000000 + i * 1111);
      const report = syntheticAccountReport(500, id);
      return { ...base.accounts[0]!, accountId: id, name: `account-${i}`, report };
    });
    const bytes = Buffer.byteLength(formatOrganizationHtml({ ...base, accounts }, CTX), 'utf8');
    expect(bytes).toBeLessThan(1024 * 1024);
  });
});

describe('keyage audit --format html --output FILE', () => {
  it('writes the page to the file, prints nothing on standard output, says where on standard error, and keeps the exit status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyage-html-'));
    const file = join(dir, 'report.html');
    const run = await runCli(['audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW, '--format', 'html', '--output', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const html = readFileSync(file, 'utf8');
    expect(run.stderr).toBe(`keyage: wrote the report to ${file} (${Buffer.byteLength(html)} bytes).\n`);
    expect(html.startsWith('<!DOCTYPE html>\n')).toBe(true);
    expect(html).toContain('Report made</dt><dd>2030-01-01T00:00:00.000Z'); // the real clock, not --now
    expect(html).toContain(`keyage</dt><dd>${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}`);
  });

  it('without --output prints the page on standard output', async () => {
    const run = await runCli(['audit', '--credential-report', fixture('compliant.csv'), '--now', PINNED_NOW, '--format', 'html']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.startsWith('<!DOCTYPE html>\n')).toBe(true);
  });

  it('works for the other formats too: --format json --output FILE writes exactly what standard output would carry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyage-json-'));
    const input = join(ROOT, EXAMPLE);
    const printed = await runCli(['audit', '--credential-report', input, '--now', PINNED_NOW, '--format', 'json'], { cwd: dir });
    const written = await runCli(['audit', '--credential-report', input, '--now', PINNED_NOW, '--format', 'json', '--output', 'report.json'], { cwd: dir });
    expect(written.code).toBe(printed.code);
    expect(written.stdout).toBe('');
    expect(readFileSync(join(dir, 'report.json'), 'utf8')).toBe(printed.stdout);
  });

  it.each([
    [['--output', join(tmpdir(), 'no-such-dir-keyage', 'r.html')], /^keyage: Invalid value for parameter --output: ".*no-such-dir-keyage\/r\.html"\. Allowed: a file keyage can write \(ENOENT/],
    [['--output', '-'], /^keyage: Invalid value for parameter --output: "-"\. Allowed: a file name \(leave --output out to print to standard output\)/],
  ])('%j is a usage error (exit 2) naming --output', async (extra, message) => {
    const run = await runCli(['audit', '--credential-report', EXAMPLE, '--now', PINNED_NOW, '--format', 'html', ...extra]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });
});
