/**
 * Run `cfn-lint`, AWS's CloudFormation linter, on template files from a test.
 *
 * Locally, a machine without cfn-lint skips the lint tests with a title that says why.
 * Under CI=true a missing cfn-lint fails the test instead: the lint is part of `npm test`.
 */
import { spawnSync } from 'node:child_process';

const CFN_LINT_BIN = process.env.KEYAGE_CFN_LINT ?? 'cfn-lint';

/** True when the tests run under CI, where every tool must be present. */
export const underCi: boolean = process.env.CI === 'true' || process.env.CI === '1';

/** Why cfn-lint cannot run here, or undefined when it can. Probed once per test file. */
export const cfnLintUnavailable: string | undefined = probe();

function probe(): string | undefined {
  const out = spawnSync(CFN_LINT_BIN, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (out.error) return `${CFN_LINT_BIN} could not be started: ${out.error.message}`;
  if (out.status !== 0) return `${CFN_LINT_BIN} --version exited with ${out.status}: ${(out.stderr || out.stdout).trim()}`;
  return undefined;
}

/** The outcome of one cfn-lint run. */
export interface CfnLintResult {
  /** 0 when the template has no finding at all (errors, warnings and informational). */
  readonly exitCode: number;
  /** The findings, one per line, as cfn-lint prints them (empty when clean). */
  readonly output: string;
}

/** Options of {@link cfnLint}. */
export interface CfnLintOptions {
  /**
   * The Regions to lint in: cfn-lint checks every resource type and property against each
   * Region's CloudFormation resource specification.
   * @default cfn-lint's default (us-east-1)
   */
  readonly regions?: readonly string[];
}

/**
 * Regions a person running the tests names in addition (`KEYAGE_LINT_REGIONS=eu-north-1,ca-central-1`):
 * the synthesized templates are linted in those too.
 */
export function extraLintRegions(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  return (env.KEYAGE_LINT_REGIONS ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
}

/**
 * Lint the given template files. Throws when cfn-lint is missing (use `itWithCfnLint` to skip
 * cleanly instead) or when it crashes rather than reporting.
 *
 * @param files paths of JSON or YAML CloudFormation templates.
 * @param ignoreChecks rule IDs to ignore (each one must be justified by the caller).
 * @param options the Regions to lint in.
 */
export function cfnLint(files: readonly string[], ignoreChecks: readonly string[] = [], options: CfnLintOptions = {}): CfnLintResult {
  if (cfnLintUnavailable) throw new Error(`cfn-lint is not available: ${cfnLintUnavailable}`);
  const regions = [...new Set(options.regions ?? [])];
  const args = [
    '--format',
    'parseable',
    ...(regions.length ? ['--regions', ...regions] : []),
    ...(ignoreChecks.length ? ['--ignore-checks', ...ignoreChecks] : []),
    '--',
    ...files,
  ];
  const out = spawnSync(CFN_LINT_BIN, args, { encoding: 'utf8', timeout: 120_000 });
  if (out.error) throw new Error(`cfn-lint failed to run: ${out.error.message}`);
  const exitCode = out.status ?? -1;
  // cfn-lint exit codes are a bit mask of finding levels (2 error, 4 warning, 8 informational);
  // 1 (or anything else) means cfn-lint itself failed.
  if (exitCode !== 0 && (exitCode & 1) === 1) {
    throw new Error(`cfn-lint crashed (exit ${exitCode}): ${out.stderr.trim() || out.stdout.trim()}`);
  }
  return { exitCode, output: `${out.stdout}${out.stderr}`.trim() };
}

/**
 * `it` when cfn-lint can run; otherwise a skipped test whose title says why — or, under
 * CI=true, a failing test, because the lint is a required part of `npm test`.
 */
export const itWithCfnLint: (name: string, fn: jest.ProvidesCallback, timeout?: number) => void = (name, fn, timeout) => {
  if (!cfnLintUnavailable) {
    it(name, fn, timeout);
  } else if (underCi) {
    it(name, () => {
      throw new Error(`cfn-lint is required under CI but is not available: ${cfnLintUnavailable}. Install it with: pip install cfn-lint`);
    });
  } else {
    it.skip(`${name} [SKIPPED: cfn-lint is not available: ${cfnLintUnavailable}; install it with: pip install cfn-lint]`, fn, timeout);
  }
};
