// Runs a TypeScript entry point with Node.js, compiling each .ts file on load with esbuild
// (a devDependency). cdk.json uses it so that `npx cdk synth` needs nothing else installed.
// Type checking is `npm run typecheck`'s job; this only strips the types.
'use strict';
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const esbuild = require('esbuild');

require.extensions['.ts'] = (module, filename) => {
  const { code } = esbuild.transformSync(readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcefile: filename,
    sourcemap: 'inline',
  });
  module._compile(code, filename);
};

const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: node stacks/run-typescript.js ENTRY.ts\n');
  process.exit(2);
}
process.setSourceMapsEnabled(true);
require(resolve(entry));
