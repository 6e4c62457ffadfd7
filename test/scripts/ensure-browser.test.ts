/**
 * scripts/ensure-browser.js, the `pretest` script: with the browser present it does nothing at
 * all (no package manager, no output), so `npm test` on a machine that has it costs nothing.
 * (Installing it for real was checked by hand on a machine without it: the script ran
 * `apt-get install -y --no-install-recommends chromium` and /usr/bin/chromium worked.)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'ensure-browser.js');

describe('scripts/ensure-browser.js', () => {
  it('does nothing and says nothing when the browser exists, under CI too', () => {
    const out = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8', env: { ...process.env, CI: 'true', KEYAGE_CHROMIUM: process.execPath, PATH: '/nonexistent' } });
    expect({ status: out.status, stdout: out.stdout, stderr: out.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});
