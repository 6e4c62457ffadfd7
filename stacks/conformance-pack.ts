/**
 * The conformance pack template (`conformance-pack.yaml`): reading it, checking the input
 * parameters given to it, and resolving it the way CloudFormation would for a given set of
 * inputs (Ref, Fn::If, Fn::Equals, Fn::Not, AWS::NoValue) — so that the stack can refuse, at
 * synth time, a parameter the pack does not declare, and tests can see what Config would get.
 */
import { readFileSync } from 'node:fs';
import { type CfnResource, type CfnTemplate, parseCfnYaml } from './cfn-yaml';
import { CONFORMANCE_PACK_FILE } from './project';

export { CFN_YAML_TAGS, parseCfnYaml, type CfnParameter, type CfnResource, type CfnTemplate } from './cfn-yaml';

/** The only resource types a conformance pack may hold (AWS Config PutConformancePack). */
export const PACK_RESOURCE_TYPES = ['AWS::Config::ConfigRule', 'AWS::Config::RemediationConfiguration'] as const;
/** The largest TemplateBody PutConformancePack accepts, in bytes. */
export const PACK_TEMPLATE_BODY_MAX_BYTES = 51_200;
/** The most parameters a conformance pack template may declare. */
export const PACK_MAX_PARAMETERS = 60;

/** The pack template file: its exact text (the TemplateBody) and its parsed form. */
export interface ConformancePackTemplate {
  readonly body: string;
  readonly template: CfnTemplate;
}

/** Read `conformance-pack.yaml` (or another pack file). */
export function loadConformancePack(file: string = CONFORMANCE_PACK_FILE): ConformancePackTemplate {
  const body = readFileSync(file, 'utf8');
  return { body, template: parseCfnYaml(body, file) };
}

/** Read the pack and refuse it, listing every problem, when it breaks a pack constraint. */
export function loadCheckedConformancePack(file: string = CONFORMANCE_PACK_FILE): ConformancePackTemplate {
  const pack = loadConformancePack(file);
  const problems = packConstraintViolations(pack.body, file);
  if (problems.length > 0) throw new Error(`keyage: ${file} is not a valid conformance pack:\n- ${problems.join('\n- ')}`);
  return pack;
}

/** The intrinsic functions keyage's pack may use: Ref to its parameters and the condition functions. */
export const PACK_ALLOWED_INTRINSICS = ['Ref', 'Condition', 'Fn::If', 'Fn::Equals', 'Fn::Not', 'Fn::And', 'Fn::Or'] as const;
/** The only top-level sections keyage's pack uses. */
export const PACK_SECTIONS = ['Parameters', 'Conditions', 'Resources'] as const;

/**
 * Every way `body` breaks the conformance pack constraints (AWS Config's, and keyage's own
 * stricter ones). Empty when the pack is fine.
 *
 * - only AWS::Config::ConfigRule and AWS::Config::RemediationConfiguration resources;
 * - TemplateBody at most 51,200 bytes; at most 60 parameters, each of type String
 *   (input parameters are strings);
 * - only the sections Parameters, Conditions and Resources;
 * - only Ref and the condition functions, and Ref only to declared parameters, conditions'
 *   names or AWS::NoValue (no GetAtt, Sub, Join, ImportValue, pseudo parameters…);
 * - a RemediationConfiguration's AutomationAssumeRole is a literal ARN or a plain Ref to a
 *   pack parameter: no other intrinsic function. The Ref is for the template only: AWS Config
 *   needs the literal ARN (and rule name) in the body it receives, which rendering puts there
 *   (`pack-render.ts`, checked by `literalPlaceViolations`).
 */
export function packConstraintViolations(body: string, sourceName = 'conformance pack'): string[] {
  const problems: string[] = [];
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > PACK_TEMPLATE_BODY_MAX_BYTES) problems.push(`TemplateBody is ${bytes} bytes; at most ${PACK_TEMPLATE_BODY_MAX_BYTES} are allowed`);
  let template: CfnTemplate;
  try {
    template = parseCfnYaml(body, sourceName);
  } catch (err) {
    return [...problems, err instanceof Error ? err.message : String(err)];
  }
  for (const section of Object.keys(template)) {
    if (!(PACK_SECTIONS as readonly string[]).includes(section)) problems.push(`section ${section} is not used by keyage's pack (allowed: ${PACK_SECTIONS.join(', ')})`);
  }
  const parameters = template.Parameters ?? {};
  const count = Object.keys(parameters).length;
  if (count > PACK_MAX_PARAMETERS) problems.push(`${count} parameters; at most ${PACK_MAX_PARAMETERS} are allowed`);
  for (const [name, p] of Object.entries(parameters)) {
    if (p.Type !== 'String') problems.push(`parameter ${name} has type ${String(p.Type)}; pack parameters are Strings`);
  }
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    if (!(PACK_RESOURCE_TYPES as readonly string[]).includes(resource.Type)) {
      problems.push(`resource ${id} has type ${resource.Type}; a pack holds only ${PACK_RESOURCE_TYPES.join(' and ')}`);
    }
    if (resource.Type === 'AWS::Config::RemediationConfiguration') {
      const role = (resource.Properties?.Parameters as Record<string, unknown> | undefined)?.AutomationAssumeRole as
        | { StaticValue?: { Values?: unknown[] } }
        | undefined;
      const values = role?.StaticValue?.Values;
      const plain = (v: unknown): boolean =>
        typeof v === 'string' ||
        (!!v && typeof v === 'object' && Object.keys(v).length === 1 && typeof (v as { Ref?: unknown }).Ref === 'string' && (v as { Ref: string }).Ref in parameters);
      if (!Array.isArray(values) || values.length !== 1 || !plain(values[0])) {
        problems.push(`resource ${id}: AutomationAssumeRole must be a StaticValue holding one literal ARN or a plain Ref to a pack parameter`);
      }
    }
  }
  const conditions = new Set(Object.keys(template.Conditions ?? {}));
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`));
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if ((key.startsWith('Fn::') || key === 'Ref' || key === 'Condition') && Object.keys(node as object).length === 1) {
        if (!(PACK_ALLOWED_INTRINSICS as readonly string[]).includes(key)) problems.push(`${path}: intrinsic ${key} is not allowed in keyage's pack`);
        if (key === 'Ref' && !(String(value) in parameters) && value !== 'AWS::NoValue') problems.push(`${path}: Ref to ${String(value)}, which is not a pack parameter`);
        if (key === 'Condition' && !conditions.has(String(value))) problems.push(`${path}: unknown condition ${String(value)}`);
        if (key === 'Fn::If' && Array.isArray(value) && !conditions.has(String(value[0]))) problems.push(`${path}: Fn::If on unknown condition ${String(value[0])}`);
      }
      walk(value, `${path}.${key}`);
    }
  };
  walk(template.Resources, 'Resources');
  walk(template.Conditions, 'Conditions');
  return problems;
}

/**
 * Turn input values into ConformancePackInputParameters, refusing what the pack would
 * reject or silently ignore: a name the pack does not declare, a value outside the declared
 * AllowedValues, or a missing value for a parameter without a default.
 */
export function packInputParameters(
  template: CfnTemplate,
  values: Readonly<Record<string, string>>,
): Array<{ parameterName: string; parameterValue: string }> {
  const declared = template.Parameters ?? {};
  for (const [name, value] of Object.entries(values)) {
    const parameter = declared[name];
    if (!parameter) {
      throw new Error(`The conformance pack declares no parameter named ${name}; it declares: ${Object.keys(declared).join(', ')}`);
    }
    if (parameter.AllowedValues && !parameter.AllowedValues.includes(value)) {
      throw new Error(`Conformance pack parameter ${name} may not be ${JSON.stringify(value)}; allowed: ${parameter.AllowedValues.join(', ')}`);
    }
  }
  for (const [name, parameter] of Object.entries(declared)) {
    if (parameter.Default === undefined && values[name] === undefined) {
      throw new Error(`Conformance pack parameter ${name} has no default and was not given a value`);
    }
  }
  return Object.entries(values).map(([parameterName, parameterValue]) => ({ parameterName, parameterValue }));
}

/** The marker `resolveTemplate` uses for AWS::NoValue before it drops the property. */
const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolve the template's resources for the given input values, as CloudFormation would:
 * parameter defaults, Ref to parameters and pseudo parameters, Conditions with Fn::Equals /
 * Fn::Not / Fn::And / Fn::Or, Fn::If, and AWS::NoValue (the property disappears).
 * Resources whose Condition is false are left out. Any other intrinsic is an error.
 */
export function resolveTemplate(
  template: CfnTemplate,
  values: Readonly<Record<string, string>>,
  pseudo: Readonly<Record<string, string>> = { 'AWS::AccountId': '123456789012', 'AWS::Region': 'us-east-1', 'AWS::Partition': 'aws' },
): Record<string, CfnResource> {
  const params: Record<string, string> = {};
  for (const [name, p] of Object.entries(template.Parameters ?? {})) {
    const v = values[name] ?? p.Default;
    if (v === undefined) throw new Error(`parameter ${name} has no value`);
    params[name] = v;
  }
  const conditions: Record<string, boolean> = {};
  const condition = (name: string): boolean => {
    if (!(name in conditions)) {
      const expr = template.Conditions?.[name];
      if (expr === undefined) throw new Error(`unknown condition ${name}`);
      conditions[name] = Boolean(evaluate(expr));
    }
    return conditions[name] as boolean;
  };
  const evaluate = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(evaluate).filter((v) => v !== NO_VALUE);
    if (!node || typeof node !== 'object') return node;
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0] as [string, unknown];
      switch (key) {
        case 'Ref': {
          const ref = String(arg);
          if (ref === 'AWS::NoValue') return NO_VALUE;
          if (ref in params) return params[ref];
          if (ref in pseudo) return pseudo[ref];
          throw new Error(`Ref to ${ref}, which is neither a parameter nor a pseudo parameter`);
        }
        case 'Condition':
          return condition(String(arg));
        case 'Fn::If': {
          const [cond, whenTrue, whenFalse] = arg as [string, unknown, unknown];
          return evaluate(condition(cond) ? whenTrue : whenFalse);
        }
        case 'Fn::Equals': {
          const [a, b] = (arg as unknown[]).map(evaluate);
          return JSON.stringify(a) === JSON.stringify(b);
        }
        case 'Fn::Not':
          return !evaluate((arg as unknown[])[0]);
        case 'Fn::And':
          return (arg as unknown[]).every((c) => Boolean(evaluate(c)));
        case 'Fn::Or':
          return (arg as unknown[]).some((c) => Boolean(evaluate(c)));
        default:
          if (key.startsWith('Fn::')) throw new Error(`intrinsic ${key} is not supported by this resolver`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const r = evaluate(v);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  };
  const resources: Record<string, CfnResource> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Condition && !condition(resource.Condition)) continue;
    resources[id] = evaluate(resource) as CfnResource;
  }
  return resources;
}
