/**
 * The SSM Automation runbooks in `remediation/runbooks/`, read at synth time so that the
 * deployed documents are exactly the files an auditor reads, with one change: the defaults of
 * `RemediationFunction` (the remediation function this stack deploys) and of the deployment's
 * own settings (`MaxAccessKeyAge`, `ExemptionTag`, `GracePeriodDays`), so that a runbook run by
 * hand honours the same limit, exemption and grace period as the rule.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** A runbook parameter declaration (the part the stack reads). */
export interface RunbookParameter {
  readonly type: string;
  readonly default?: unknown;
  readonly description?: string;
  readonly allowedValues?: readonly unknown[];
  readonly allowedPattern?: string;
}

/** A runbook, parsed from its YAML file. */
export interface Runbook {
  /** The file it was read from. */
  readonly file: string;
  /** The document content, ready for AWS::SSM::Document `Content`. */
  readonly content: Record<string, unknown> & { parameters: Record<string, RunbookParameter> };
}

/**
 * Read a runbook and set the defaults of its `RemediationFunction` parameter and of `defaults`.
 * Throws, naming the file, when it is missing, is not an Automation document (schemaVersion
 * 0.3), or lacks the parameters the stack passes to it.
 *
 * @param file the YAML file.
 * @param options.remediationFunction the default given to `RemediationFunction`.
 * @param options.requiredParameters parameters the stack passes; each must be declared.
 */
export function loadRunbook(
  file: string,
  options: { remediationFunction: string; requiredParameters: readonly string[]; defaults?: Readonly<Record<string, string>> },
): Runbook {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`keyage: cannot read the runbook ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const doc = parse(text) as unknown;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`keyage: ${file} is not a YAML mapping`);
  const content = doc as Record<string, unknown>;
  if (String(content.schemaVersion) !== '0.3') {
    throw new Error(`keyage: ${file} is not an SSM Automation document (schemaVersion must be 0.3, found ${JSON.stringify(content.schemaVersion)})`);
  }
  const parameters = content.parameters;
  if (!parameters || typeof parameters !== 'object' || Array.isArray(parameters)) throw new Error(`keyage: ${file} declares no parameters`);
  const declared = parameters as Record<string, RunbookParameter>;
  const missing = [...options.requiredParameters, 'RemediationFunction'].filter((name) => !(name in declared));
  if (missing.length > 0) {
    throw new Error(`keyage: ${file} does not declare the parameter(s) ${missing.join(', ')} that the stack passes; it declares ${Object.keys(declared).join(', ')}`);
  }
  const withDefault: Record<string, RunbookParameter> = { ...declared };
  for (const [name, value] of Object.entries({ ...options.defaults, RemediationFunction: options.remediationFunction })) {
    const param = declared[name];
    if (!param) throw new Error(`keyage: ${file} does not declare the parameter ${name} whose default the stack sets`);
    if (param.allowedPattern !== undefined && !new RegExp(param.allowedPattern).test(value)) {
      throw new Error(`keyage: the default ${JSON.stringify(value)} for ${name} does not match the runbook's allowedPattern ${param.allowedPattern}`);
    }
    withDefault[name] = { ...param, default: value };
  }
  return { file, content: { ...content, parameters: withDefault } };
}

