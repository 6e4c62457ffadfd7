/**
 * The HTML report (`keyage audit --format html --output FILE`) in a real browser: Debian's
 * chromium, headless, driven by playwright-core, one launch for the whole file. Each page is
 * opened from disk (file://) and must render with no console error, no page error, no dialog and
 * no request but the file itself; what it shows must equal the JSON output for the same input
 * (summary, histogram bars, keys falling due); sorting and filtering must work; hostile user
 * names must show as text.
 *
 * The screenshot of the shipped example is docs/images/html-report.png (docs/cli.md shows it).
 * Like the golden files, it is rewritten only with KEYAGE_UPDATE_GOLDEN=1 (never under CI), or
 * when it is missing; otherwise it goes to a temporary folder and is only checked for shape.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { AuditReport } from '../../cli/audit-report';
import { formatOrganizationHtml } from '../../cli/format-html';
import { formatOrganizationJson } from '../../cli/format-organization';
import type { OrganizationAuditReport } from '../../cli/organization-report';
import { describeWithBrowser, launchBrowser, openWatched, type PageWatch } from '../harness/browser';
import { organizationReport } from './html-report-inputs';
import { EXAMPLE, fixture, PINNED_NOW, ROOT, runCli } from './run-cli';

const SCREENSHOT = join(ROOT, 'docs', 'images', 'html-report.png');
const HOSTILE = ['<img src=x onerror=alert(1)>', '"><script>alert(2)</script>', "O'Brien & <b>Co</b>", '</script><svg onload=alert(3)>'];

/** Render one input with the command line, as HTML to a file and as JSON. */
async function render(dir: string, name: string, input: string): Promise<{ url: string; json: AuditReport }> {
  const file = join(dir, `${name}.html`);
  const html = await runCli(['audit', '--credential-report', input, '--now', PINNED_NOW, '--format', 'html', '--output', file]);
  if (html.code > 1) throw new Error(`keyage audit --format html failed: ${html.stderr}`);
  const json = await runCli(['audit', '--credential-report', input, '--now', PINNED_NOW, '--format', 'json']);
  return { url: pathToFileURL(file).href, json: JSON.parse(json.stdout) as AuditReport };
}

/** The page did nothing but render itself. */
function expectQuiet(watch: PageWatch, url: string): void {
  expect(watch.consoleErrors).toEqual([]);
  expect(watch.pageErrors).toEqual([]);
  expect(watch.dialogs).toEqual([]);
  expect(watch.requests).toEqual([url]);
}

interface Bar {
  lo: number;
  hi: number | null;
  count: number;
  over: number;
  /** Drawn height of each rect in the bar, in SVG units. */
  heights: number[];
  x: number;
  width: number;
}

async function bars(watch: PageWatch): Promise<Bar[]> {
  return watch.page.$$eval('#age-histogram g.bin', (groups) =>
    groups.map((g) => {
      const rects = [...g.querySelectorAll('rect')];
      const hi = g.getAttribute('data-hi');
      return {
        lo: Number(g.getAttribute('data-lo')),
        hi: hi === '' ? null : Number(hi),
        count: Number(g.getAttribute('data-count')),
        over: Number(g.getAttribute('data-over')),
        heights: rects.map((r) => Number(r.getAttribute('height'))),
        x: rects.length ? Number(rects[0]?.getAttribute('x')) : Number.NaN,
        width: rects.length ? Number(rects[0]?.getAttribute('width')) : Number.NaN,
      };
    }),
  );
}

async function summaryCards(watch: PageWatch): Promise<Record<string, number>> {
  return watch.page.$$eval('[data-summary][data-value]', (cards) => Object.fromEntries(cards.map((c) => [c.getAttribute('data-summary'), Number(c.getAttribute('data-value'))])));
}

async function column(watch: PageWatch, index: number): Promise<string[]> {
  return watch.page.$$eval(`#findings tbody tr`, (trs, i) => trs.map((tr) => tr.children[i]?.textContent ?? ''), index);
}

function activeKeys(report: AuditReport): AuditReport['users'][number]['keys'][number][] {
  return report.users.flatMap((u) => u.keys.filter((k) => k.status === 'Active'));
}

/** PNG width and height from its IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describeWithBrowser('the HTML report in a real browser (Debian chromium, headless)', () => {
  let browser: Browser;
  let dir: string;
  let example: { url: string; json: AuditReport };
  let watch: PageWatch;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyage-html-browser-'));
    example = await render(dir, 'example', EXAMPLE);
    browser = await launchBrowser();
    watch = await openWatched(browser, example.url, { width: 1200, height: 900 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('renders the shipped example from disk with no console error, no page error and no request but the file itself', async () => {
    expectQuiet(watch, example.url);
    expect(await watch.page.title()).toBe('keyage audit: account 123456789012');
    expect(await watch.page.textContent('#findings-count')).toBe('Showing 14 of 14 matching rows (14 in all).');
    const update = (process.env.KEYAGE_UPDATE_GOLDEN === '1' && !process.env.CI) || !existsSync(SCREENSHOT);
    const path = update ? SCREENSHOT : join(dir, 'html-report.png');
    await watch.page.screenshot({ path, fullPage: true });
    const { width, height } = pngSize(readFileSync(path));
    expect(width).toBe(1200);
    expect(height).toBeGreaterThan(1500);
  });

  it('shows the summary of the JSON output for the same input', async () => {
    const cards = await summaryCards(watch);
    expect(Object.keys(cards)).toEqual(expect.arrayContaining(['users', 'compliantUsers', 'nonCompliantUsers', 'notApplicableUsers', 'rootAccessKeys', 'activeKeys', 'staleKeys']));
    const fromJson = Object.fromEntries(Object.keys(cards).map((k) => [k, example.json.summary[k as keyof AuditReport['summary']]]));
    expect(cards).toEqual(fromJson);
    expect(cards).toMatchObject({ users: 10, compliantUsers: 7, nonCompliantUsers: 3 });
  });

  it('draws one bar per age range with the count of the JSON output\'s active keys in it, heights to scale, and the limit between 90 and 91 days', async () => {
    const drawn = await bars(watch);
    const keys = activeKeys(example.json);
    for (const bar of drawn) {
      const inBar = keys.filter((k) => k.ageDays >= bar.lo && (bar.hi === null || k.ageDays <= bar.hi));
      expect({ range: [bar.lo, bar.hi], count: bar.count, over: bar.over }).toEqual({ range: [bar.lo, bar.hi], count: inBar.length, over: inBar.filter((k) => k.overLimit).length });
    }
    expect(drawn.reduce((n, b) => n + b.count, 0)).toBe(example.json.summary.activeKeys);
    const perKey = drawn.filter((b) => b.count > 0).map((b) => b.heights.reduce((s, h) => s + h, 0) / b.count);
    for (const h of perKey) expect(h).toBeCloseTo(perKey[0] as number, 0);
    const at90 = drawn.findIndex((b) => b.hi === 90);
    const lineX = Number(await watch.page.getAttribute('#limit-line', 'x1'));
    const left = drawn[at90] as Bar;
    const right = drawn[at90 + 1] as Bar;
    expect(lineX).toBeGreaterThan(left.x + left.width);
    expect(lineX).toBeLessThan(right.x);
    expect(await watch.page.textContent('#age-histogram')).toContain('limit: 90 days');
  });

  it('counts the keys falling due in the next 7 and 30 days as the JSON output does', async () => {
    const due = (days: number) => activeKeys(example.json).filter((k) => k.verdict === 'COMPLIANT' && k.daysUntilDue > 0 && k.daysUntilDue <= days).length;
    const counts = await watch.page.$$eval('[data-derived]', (cards) => Object.fromEntries(cards.map((c) => [c.getAttribute('data-derived'), Number(c.getAttribute('data-value'))])));
    expect(counts).toEqual({ due7: due(7), due30: due(30) });
    expect(await watch.page.$$eval('#due-table tbody tr', (trs) => trs.map((tr) => tr.children[0]?.textContent))).toEqual(['ci-deploy', 'heidi']);
  });

  it('sorts by age, ascending then descending, rows without a key last', async () => {
    const AGE = 4;
    const ages = example.json.users.flatMap((u) => u.keys.map((k) => k.ageDays));
    await watch.page.click('#findings th[data-col=age] button');
    expect(await watch.page.getAttribute('#findings th[data-col=age]', 'aria-sort')).toBe('ascending');
    expect(await column(watch, AGE)).toEqual([...[...ages].sort((a, b) => a - b).map(String), '']);
    await watch.page.click('#findings th[data-col=age] button');
    expect(await watch.page.getAttribute('#findings th[data-col=age]', 'aria-sort')).toBe('descending');
    expect(await column(watch, AGE)).toEqual([...[...ages].sort((a, b) => b - a).map(String), '']);
    await watch.page.click('#findings th[data-col=user] button');
    expect(await watch.page.getAttribute('#findings th[data-col=age]', 'aria-sort')).toBe('none');
    expect((await column(watch, 0)).slice(0, 3)).toEqual(['alice', 'bob', 'bob']);
  });

  it('filters by text and by kind of row, and says how many rows match', async () => {
    await watch.page.fill('#findings-search', 'OLD-backup');
    expect(await column(watch, 0)).toEqual(['old-backup', 'old-backup']);
    expect(await watch.page.textContent('#findings-count')).toBe('Showing 2 of 2 matching rows (14 in all).');
    await watch.page.fill('#findings-search', 'inactive keys do not count');
    expect(await column(watch, 0)).toEqual(['erin', 'legacy-etl', 'legacy-etl']);
    await watch.page.fill('#findings-search', '');
    await watch.page.selectOption('#findings-filter', 'findings');
    const stale = example.json.users.flatMap((u) => u.keys.filter((k) => k.verdict === 'NON_COMPLIANT').map(() => u.userName));
    expect(await column(watch, 0)).toEqual(stale);
    expect(new Set(await column(watch, 7))).toEqual(new Set(['NON_COMPLIANT']));
    await watch.page.selectOption('#findings-filter', 'due7');
    expect(await column(watch, 0)).toEqual(['ci-deploy', 'heidi']);
    await watch.page.fill('#findings-search', 'no such user');
    expect(await column(watch, 0)).toEqual(['No row matches the filter.']);
    await watch.page.fill('#findings-search', '');
    await watch.page.selectOption('#findings-filter', 'all');
    expect(await watch.page.textContent('#findings-count')).toBe('Showing 14 of 14 matching rows (14 in all).');
    expectQuiet(watch, example.url);
  });

  it('shows hostile user names as text: nothing executes, no element is injected, no request is made', async () => {
    const hostile = await render(dir, 'hostile', fixture('hostile-names.csv'));
    const page = await openWatched(browser, hostile.url);
    try {
      expectQuiet(page, hostile.url);
      expect(await column(page, 0)).toEqual(hostile.json.users.flatMap((u) => (u.keys.length ? u.keys.map(() => u.userName) : [u.userName])));
      expect(await column(page, 0)).toEqual(expect.arrayContaining(HOSTILE));
      expect(await page.page.$$eval('#due-table tbody td:first-child', (tds) => tds.map((td) => td.textContent))).toEqual(['"><script>alert(2)</script>']);
      const injected = {
        elements: await page.page.$$eval('img, iframe, object, embed, b, svg:not(#age-histogram)', (els) => els.length),
        scripts: await page.page.$$eval('script', (els) => els.length),
      };
      expect(injected).toEqual({ elements: 0, scripts: 2 });
      await page.page.fill('#findings-search', '<img');
      expect(await column(page, 0)).toEqual(['<img src=x onerror=alert(1)>']);
      expectQuiet(page, hostile.url);
    } finally {
      await page.page.close();
    }
  });

  it('shows an organization report with its per-account rollup, the summary of its JSON output, and filters by account', async () => {
    const report = organizationReport();
    const file = join(dir, 'organization.html');
    writeFileSync(file, formatOrganizationHtml(report, { version: '0.0.0-test', generatedAt: '2030-01-01T00:00:00.000Z' }));
    const json = JSON.parse(formatOrganizationJson(report)) as OrganizationAuditReport;
    const url = pathToFileURL(file).href;
    const page = await openWatched(browser, url);
    try {
      expectQuiet(page, url);
      expect(await page.page.$$eval('#rollup tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-account'), tr.children[3]?.textContent]))).toEqual([
        ['123456789012', 'complete'],
        ['210987654321', 'complete'],
        ['333344445555', 'NOT AUDITED'],
      ]);
      const cards = await summaryCards(page);
      expect(cards).toEqual(Object.fromEntries(Object.keys(cards).map((k) => [k, json.summary[k as keyof OrganizationAuditReport['summary']]])));
      expect(Object.keys(cards)).toEqual(expect.arrayContaining(['accounts', 'accountsAudited', 'accountsNotAudited', 'users', 'nonCompliantUsers', 'accountsWithRootAccessKeys']));
      expect((await bars(page)).reduce((n, b) => n + b.count, 0)).toBe(json.summary.activeKeys);
      await page.page.fill('#findings-search', '210987654321');
      const rows = json.accounts[1]?.report;
      expect(await column(page, 0)).toEqual(Array((rows?.root?.keys.length ?? 0) + (rows?.summary.keys ?? 0)).fill('210987654321'));
      expect(await column(page, 1)).toEqual(['<root_account>', '<root_account>', 'fresh']);
    } finally {
      await page.page.close();
    }
  });
});
