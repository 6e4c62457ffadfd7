#!/usr/bin/env node
/*
 * The `keyage` command. Runs the bundle that `npm run build:cli` (and `npm ci`, through the
 * `prepare` script) writes to dist/cli/keyage.js.
 */
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'dist', 'cli', 'keyage.js');
if (!existsSync(bundle)) {
  process.stderr.write('keyage: the command is not built yet (dist/cli/keyage.js is missing). Run: npm run build:cli\n');
  process.exitCode = 2;
} else {
  require(bundle)
    .run()
    .catch((err) => {
      // main() reports every error itself; reaching here is a fault in keyage: exit status 4.
      process.stderr.write(`keyage: internal error: ${err && err.message ? err.message : String(err)}\n`);
      process.exitCode = 4;
    });
}
