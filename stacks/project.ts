/**
 * Where the files the CDK app deploys live in this repository. The app resolves every path
 * from the project root, so it works from any working directory.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the nearest directory above this file holding `conformance-pack.yaml` and `package.json`. */
export const PROJECT_ROOT: string = findProjectRoot(__dirname);

/** The conformance pack template, deployed as it is by the member stack. */
export const CONFORMANCE_PACK_FILE = join(PROJECT_ROOT, 'conformance-pack.yaml');

/** The rule Lambda's entry point (exports `handler`). */
export const RULE_HANDLER_ENTRY = join(PROJECT_ROOT, 'rules', 'access-key-age', 'handler.ts');

/** The remediation Lambda's entry point (exports `handler`). */
export const REMEDIATION_HANDLER_ENTRY = join(PROJECT_ROOT, 'remediation', 'handler.ts');

/** The pack reconciler Lambda's entry point (exports `handler`; bundles conformance-pack.yaml as text). */
export const PACK_RECONCILER_ENTRY = join(PROJECT_ROOT, 'stacks', 'pack-reconciler', 'index.ts');

/** Runbook 1: deactivate stale access keys (the Config rule's remediation). */
export const DEACTIVATE_RUNBOOK_FILE = join(PROJECT_ROOT, 'remediation', 'runbooks', 'deactivate-stale-access-keys.yaml');

/** Runbook 2: delete keys this pack deactivated, once the grace period has passed unused. */
export const DELETE_RUNBOOK_FILE = join(PROJECT_ROOT, 'remediation', 'runbooks', 'delete-deactivated-access-keys.yaml');

/** The lock file NodejsFunction bundling resolves dependencies from. */
export const LOCK_FILE = join(PROJECT_ROOT, 'package-lock.json');

function findProjectRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'conformance-pack.yaml')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`keyage: cannot find the project root (a directory with conformance-pack.yaml and package.json) above ${start}`);
    }
    dir = parent;
  }
}
