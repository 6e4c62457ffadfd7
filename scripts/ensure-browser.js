#!/usr/bin/env node
/*
 * Make sure the browser of the HTML report's browser test is installed: Debian's chromium at
 * /usr/bin/chromium (or KEYAGE_CHROMIUM). Runs as the `pretest` script, so `npm test` on a fresh
 * machine installs it; with the browser present it does nothing.
 *
 * The browser test drives it with playwright-core, which never downloads a browser of its own:
 * the project uses the distribution's package, installed with
 *   DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
 * as root, or through `sudo -n` when that works without a password (after `apt-get update` when
 * the package lists do not know chromium yet).
 *
 * When it cannot be installed: under CI=true the script fails with a message saying why, because
 * the browser test is part of `npm test` there (as moto_server and cfn-lint are); elsewhere it
 * warns, and the browser test says it was skipped because the browser is missing.
 */
'use strict';
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');

const BROWSER = process.env.KEYAGE_CHROMIUM || '/usr/bin/chromium';
const PACKAGE = 'chromium';
const underCi = process.env.CI === 'true' || process.env.CI === '1';
const INSTALL_TIMEOUT_MS = 20 * 60_000;

function say(line) {
  process.stderr.write(`ensure-browser: ${line}\n`);
}

/** Run a command with its output on standard error (standard output stays the test run's). */
function run(argv, options = {}) {
  const [cmd, ...args] = argv;
  const out = spawnSync(cmd, args, { stdio: options.quiet ? 'ignore' : ['ignore', 2, 2], timeout: INSTALL_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (out.error) return { ok: false, why: `${cmd} could not be started: ${out.error.message}` };
  if (out.status !== 0) return { ok: false, why: `${argv.join(' ')} exited with ${out.status ?? out.signal}` };
  return { ok: true };
}

/** How to run apt-get with root's rights here: as we are (root), through `sudo -n`, or not at all. */
function privilege() {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return { prefix: [] };
  if (run(['sudo', '-n', 'true'], { quiet: true }).ok) return { prefix: ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive'] };
  return { why: 'not running as root, and sudo -n (without a password) is not available' };
}

function install() {
  if (process.platform !== 'linux') return `this is ${process.platform}, and the project installs the browser only from Debian's packages`;
  if (!existsSync('/usr/bin/apt-get')) return 'apt-get is not available (not a Debian or Ubuntu system)';
  const how = privilege();
  if (!how.prefix) return how.why;
  // apt-cache knows the package only once the package lists have been read (`apt-get update`).
  if (!run(['apt-cache', 'show', PACKAGE], { quiet: true }).ok) {
    say('the package lists do not know chromium yet: apt-get update');
    const updated = run([...how.prefix, 'apt-get', 'update']);
    if (!updated.ok) return updated.why;
  }
  say(`installing Debian's ${PACKAGE} for the HTML report's browser test`);
  const argv = [...how.prefix, 'apt-get', 'install', '-y', '--no-install-recommends', PACKAGE];
  let installed = run(argv);
  if (!installed.ok) {
    // Package lists older than the mirror name versions it no longer has (404): read them again, once.
    say(`${installed.why}: apt-get update, then one more try`);
    const updated = run([...how.prefix, 'apt-get', 'update']);
    if (!updated.ok) return `${installed.why}; then ${updated.why}`;
    installed = run(argv);
  }
  if (!installed.ok) return installed.why;
  if (!existsSync(BROWSER)) return `${PACKAGE} was installed but ${BROWSER} does not exist`;
  return undefined;
}

function main() {
  if (existsSync(BROWSER)) return 0;
  say(`${BROWSER} is missing`);
  const failure = install();
  if (!failure) {
    const version = spawnSync(BROWSER, ['--version'], { encoding: 'utf8', timeout: 60_000 });
    say(`installed: ${(version.stdout || '').trim() || BROWSER}`);
    return 0;
  }
  const how = `install it with: sudo apt-get install -y --no-install-recommends ${PACKAGE} (or point KEYAGE_CHROMIUM at a Chromium)`;
  if (underCi) {
    say(`ERROR: the HTML report's browser test needs ${BROWSER} under CI, and it could not be installed: ${failure}. ${how}`);
    return 1;
  }
  say(`WARNING: ${BROWSER} could not be installed (${failure}); the HTML report's browser test will be SKIPPED. ${how}`);
  return 0;
}

process.exitCode = main();
