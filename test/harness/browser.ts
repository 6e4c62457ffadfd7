/**
 * A real browser for the HTML report's test: Debian's chromium (/usr/bin/chromium, or
 * KEYAGE_CHROMIUM), driven by playwright-core, headless. `npm test` installs it first
 * (scripts/ensure-browser.js, the `pretest` script).
 *
 * Locally, a machine without the browser skips the browser tests with a title that says why.
 * Under CI=true a missing browser fails them instead, as a missing moto_server or cfn-lint does.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { underCi } from './cfn-lint';

/** The browser binary. */
export const CHROMIUM: string = process.env.KEYAGE_CHROMIUM || '/usr/bin/chromium';

/** Why the browser cannot run here, or undefined when it can. */
export const browserUnavailable: string | undefined = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} does not exist`;

const INSTALL_HINT = 'run "node scripts/ensure-browser.js" (npm test does, as its pretest script), or: sudo apt-get install -y --no-install-recommends chromium';

/**
 * `describe` when the browser is there; otherwise one skipped test whose title says why — or,
 * under CI=true, one failing test, because the browser test is a required part of `npm test`.
 */
export function describeWithBrowser(name: string, fn: () => void): void {
  if (!browserUnavailable) {
    describe(name, fn);
  } else if (underCi) {
    describe(name, () => {
      it('needs the browser', () => {
        throw new Error(`the browser is required under CI but is not available: ${browserUnavailable}; ${INSTALL_HINT}`);
      });
    });
  } else {
    process.stderr.write(`\n[keyage] ${browserUnavailable}: the browser tests "${name}" will be SKIPPED; ${INSTALL_HINT}\n\n`);
    describe(name, () => {
      it.skip(`[SKIPPED: the browser is missing: ${browserUnavailable}; ${INSTALL_HINT}]`, () => undefined);
    });
  }
}

/**
 * Launch the browser: headless, `--no-sandbox` (tests run as root here), and none of Chromium's
 * own background traffic (component updates, safe-browsing lists, first-run pages), which a
 * closed network refuses and which would otherwise show up as requests no page made.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** What a page did while it was open. */
export interface PageWatch {
  readonly page: Page;
  /** Every request the page made, the document itself included. */
  readonly requests: string[];
  /** Console messages of type error. */
  readonly consoleErrors: string[];
  /** Uncaught exceptions. */
  readonly pageErrors: string[];
  /** alert(), confirm(), prompt() dialogs (dismissed). */
  readonly dialogs: string[];
}

/** Open `url` in a new page, recording requests, console errors, page errors and dialogs from before the first byte. */
export async function openWatched(browser: Browser, url: string, viewport = { width: 1280, height: 900 }): Promise<PageWatch> {
  const page = await browser.newPage({ viewport });
  const watch: PageWatch = { page, requests: [], consoleErrors: [], pageErrors: [], dialogs: [] };
  page.on('request', (r) => watch.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') watch.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => watch.pageErrors.push(e.message));
  page.on('dialog', (d) => {
    watch.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  return watch;
}
