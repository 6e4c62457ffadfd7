/**
 * Test helpers for the command line: run `main()` in-process with captured output, compare
 * output to golden files, and locate fixtures.
 *
 * Golden files live in test/cli/golden/. To accept a deliberate change of output, run
 * `KEYAGE_UPDATE_GOLDEN=1 npx jest test/cli` and review the diff; under CI the files are never
 * rewritten, so a changed output always fails there.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliIo, main } from '../../cli/main';

export const ROOT = join(__dirname, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'credential-reports');
export const GOLDEN = join(__dirname, 'golden');
export const EXAMPLE = 'examples/credential-report.csv';
/** The clock the examples and goldens are pinned to (docs/cli.md uses the same). */
export const PINNED_NOW = '2026-11-25T12:00:00Z';

/**
 * The environment of an in-process run: no AWS variables, and shared config files that do not
 * exist, so a developer's own ~/.aws profiles never reach a test.
 */
export const ISOLATED_ENV: Readonly<Record<string, string>> = {
  AWS_CONFIG_FILE: join(ROOT, 'no-such-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(ROOT, 'no-such-aws-credentials'),
};

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the CLI in-process from the repository root. `io` overrides the defaults. */
export async function runCli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    cwd: ROOT,
    env: ISOLATED_ENV,
    clock: () => new Date('2030-01-01T00:00:00Z'), // a wall clock no test should depend on
    readStdin: async () => Buffer.alloc(0),
    ...io,
  });
  return { code, stdout, stderr };
}

/** Path of a fixture, relative to the repository root (as a user would type it). */
export function fixture(name: string): string {
  return `test/fixtures/credential-reports/${name}`;
}

/** The golden text, or (with KEYAGE_UPDATE_GOLDEN=1, never under CI) write `actual` as the new golden. */
export function golden(name: string, actual: string): string {
  const file = join(GOLDEN, name);
  if (process.env.KEYAGE_UPDATE_GOLDEN === '1' && !process.env.CI) writeFileSync(file, actual);
  if (!existsSync(file)) throw new Error(`golden file ${file} is missing; create it with KEYAGE_UPDATE_GOLDEN=1`);
  return readFileSync(file, 'utf8');
}
