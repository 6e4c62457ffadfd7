#!/usr/bin/env node
/*
 * Build the `keyage` command: bundle cli/main.ts and the project modules it imports into
 * dist/cli/keyage.js (CommonJS, Node 20). npm packages stay external and are loaded from
 * node_modules. Runs as the `prepare` script, so `npm ci` on a fresh clone builds it.
 *
 * In an install without devDependencies (esbuild absent) there is nothing to build with: the
 * script says so and exits 0 rather than failing the install.
 */
'use strict';
const { join } = require('node:path');

const root = join(__dirname, '..');
let esbuild;
try {
  esbuild = require('esbuild');
} catch {
  process.stderr.write('build-cli: esbuild is not installed (devDependencies omitted); the keyage command was not built.\n');
  process.exit(0);
}

esbuild
  .build({
    entryPoints: [join(root, 'cli', 'main.ts')],
    outfile: join(root, 'dist', 'cli', 'keyage.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  })
  .catch(() => {
    process.exit(1);
  });
