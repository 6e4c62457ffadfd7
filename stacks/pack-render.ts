/**
 * Rendering `conformance-pack.yaml` into the body AWS Config receives.
 *
 * AWS Config does not support CloudFormation intrinsic functions for a remediation's automation
 * execution role or for `ConfigRuleName` in a conformance pack: it needs the exact role ARN as a
 * string and the full rule name (AWS Config Developer Guide, "Prerequisites for conformance
 * packs", remediation). `conformance-pack.yaml` declares both as parameters so the one file
 * serves every account; rendering replaces every `!Ref` to them with the literal value and
 * drops their declarations. The other parameters stay parameters (Config accepts `Ref` to
 * them), given as ConformancePackInputParameters.
 *
 * Used by the pack reconciler in each account (with the account's own role ARN) and by
 * `keyage pack` (for `aws configservice put-conformance-pack`). Imports no CDK and no project
 * paths, so the Lambda function can bundle it.
 */
import { isMap, isPair, isScalar, parseDocument, Scalar, visit, type Document, type Node, type YAMLMap } from 'yaml';
import { type CfnTemplate, parseCfnYaml } from './cfn-yaml';

/** The pack parameters AWS Config needs as literal values: rendering always inlines these. */
export const PACK_LITERAL_PARAMETERS = ['ConfigRuleName', 'AutomationAssumeRole'] as const;

/** The values rendered into the body: at least the two Config requires literally. */
export type PackLiterals = Readonly<Record<(typeof PACK_LITERAL_PARAMETERS)[number], string>> & Readonly<Record<string, string>>;

/** Options of {@link renderConformancePack}. */
export interface RenderOptions {
  /**
   * Comment lines (without `#`) that replace the template's header comment.
   * @default the template's own header is kept
   */
  readonly header?: readonly string[];
}

/** The pack template cannot be rendered as asked (a parameter it lacks, a value it refuses). */
export class PackRenderError extends Error {
  constructor(message: string) {
    super(`keyage: cannot render the conformance pack: ${message}`);
    this.name = 'PackRenderError';
  }
}

/**
 * Render the pack template: every `Ref` to a parameter named in `literals` becomes that literal
 * string, and the parameter's declaration is removed. Comments and layout are kept.
 * Throws a PackRenderError when a literal names a parameter the template does not declare or
 * never references, when a value is outside the parameter's AllowedValues, or when the result
 * still has an intrinsic function where Config requires a literal.
 */
export function renderConformancePack(template: string, literals: PackLiterals, options: RenderOptions = {}): string {
  for (const name of PACK_LITERAL_PARAMETERS) {
    if (typeof literals[name] !== 'string' || literals[name] === '') throw new PackRenderError(`${name} needs a value`);
  }
  const doc = parseDocument(template, { keepSourceTokens: false });
  if (doc.errors.length > 0) throw new PackRenderError(`the template is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
  const parameters = doc.get('Parameters');
  if (!isMap(parameters)) throw new PackRenderError('the template declares no Parameters');
  for (const [name, value] of Object.entries(literals)) {
    const declared = parameters.get(name);
    if (!isMap(declared)) throw new PackRenderError(`the template declares no parameter named ${name}`);
    const allowed = declared.get('AllowedValues');
    if (allowed && typeof allowed === 'object' && 'items' in allowed) {
      const values = (allowed as { items: unknown[] }).items.map((item) => (isScalar(item) ? String(item.value) : ''));
      if (!values.includes(value)) throw new PackRenderError(`parameter ${name} may not be ${JSON.stringify(value)}; allowed: ${values.join(', ')}`);
    }
  }
  const replaced = new Map<string, number>(Object.keys(literals).map((name) => [name, 0]));
  visit(doc, {
    // The short form: `!Ref Name`.
    Scalar(_key, node) {
      if (node.tag === '!Ref' && typeof node.value === 'string' && replaced.has(node.value)) {
        replaced.set(node.value, (replaced.get(node.value) ?? 0) + 1);
        return new Scalar(literals[node.value]);
      }
      return undefined;
    },
    // The long form: `{ Ref: Name }`.
    Map(_key, node) {
      const name = longFormRef(node);
      if (name !== undefined && replaced.has(name)) {
        replaced.set(name, (replaced.get(name) ?? 0) + 1);
        return new Scalar(literals[name]);
      }
      return undefined;
    },
  });
  for (const [name, count] of replaced) {
    if (count === 0) throw new PackRenderError(`the template never references parameter ${name}`);
    parameters.delete(name);
  }
  if (options.header) doc.commentBefore = options.header.map((line) => ` ${line}`).join('\n');
  const body = doc.toString({ lineWidth: 0 });
  const problems = literalPlaceViolations(body);
  if (problems.length > 0) throw new PackRenderError(problems.join('; '));
  return body;
}

function longFormRef(node: YAMLMap): string | undefined {
  if (node.items.length !== 1) return undefined;
  const pair = node.items[0];
  if (!isPair(pair) || !isScalar(pair.key) || pair.key.value !== 'Ref' || !isScalar(pair.value)) return undefined;
  return typeof pair.value.value === 'string' ? pair.value.value : undefined;
}

/** An IAM role ARN, as Config needs it for AutomationAssumeRole. */
const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/**
 * Every place of a rendered body where Config requires a literal but finds something else:
 * each rule's and each remediation's `ConfigRuleName`, and each remediation's
 * `AutomationAssumeRole`, which must be one IAM role ARN. Empty when the body is right.
 */
export function literalPlaceViolations(body: string): string[] {
  let template: CfnTemplate;
  try {
    template = parseCfnYaml(body, 'the rendered pack');
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
  const problems: string[] = [];
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Config::ConfigRule' && resource.Type !== 'AWS::Config::RemediationConfiguration') continue;
    const name = resource.Properties?.ConfigRuleName;
    if (typeof name !== 'string' || name === '') problems.push(`${id}.ConfigRuleName is ${JSON.stringify(name)}, not a literal rule name`);
    if (resource.Type === 'AWS::Config::RemediationConfiguration') {
      const role = (resource.Properties?.Parameters as Record<string, { StaticValue?: { Values?: unknown[] } }> | undefined)?.AutomationAssumeRole;
      const values = role?.StaticValue?.Values;
      if (!Array.isArray(values) || values.length !== 1 || typeof values[0] !== 'string' || !ROLE_ARN.test(values[0])) {
        problems.push(`${id}.Parameters.AutomationAssumeRole is ${JSON.stringify(role)}, not a StaticValue holding one literal IAM role ARN`);
      }
    }
  }
  return problems;
}

/** The parameters a template still declares after rendering with `literals` (what Config must be given or defaults). */
export function remainingParameters(template: string, literals: Readonly<Record<string, string>>): string[] {
  const doc: Document = parseDocument(template);
  const parameters = doc.get('Parameters') as Node | undefined;
  if (!isMap(parameters)) return [];
  return parameters.items.map((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key)).filter((name) => !(name in literals));
}
