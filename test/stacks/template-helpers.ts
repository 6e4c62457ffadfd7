/**
 * Helpers for reading synthesized CloudFormation templates in the stack tests: the IAM
 * statements of a role, ARNs rendered as readable strings, and template files for cfn-lint.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** A synthesized template. */
export interface Template {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] | string; Metadata?: unknown }>;
  readonly [section: string]: unknown;
}

/** One IAM policy statement, as synthesized. */
export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, unknown>;
  readonly Principal?: unknown;
  readonly Sid?: string;
}

/** The logical ID CloudFormation knows a construct's resource by. */
export function logicalIdOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  const stack = element.stack as Stack;
  return stack.resolve(element.logicalId) as string;
}

/**
 * Render a CloudFormation value as a readable string: `${AWS::Partition}` for a Ref to a
 * pseudo parameter, `${Logical}` for a Ref, `${Logical.Attr}` for a GetAtt, joins joined.
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(render).join(',');
  if (value && typeof value === 'object') {
    const [key, arg] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    if (key === 'Ref') return `\${${String(arg)}}`;
    if (key === 'Fn::GetAtt') return `\${${(arg as string[]).join('.')}}`;
    if (key === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    if (key === 'Fn::Sub') return typeof arg === 'string' ? arg : render((arg as unknown[])[0]);
  }
  return JSON.stringify(value);
}

/** The resources of a type, by logical ID. */
export function resourcesOfType(template: Template, type: string): Record<string, NonNullable<Template['Resources'][string]>> {
  return Object.fromEntries(Object.entries(template.Resources).filter(([, r]) => r.Type === type));
}

/** The one resource of a type (fails when there is not exactly one). */
export function onlyResource(template: Template, type: string): { id: string; properties: Record<string, unknown>; dependsOn: string[] } {
  const found = Object.entries(resourcesOfType(template, type));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  const [id, resource] = found[0] as [string, Template['Resources'][string]];
  const dependsOn = resource.DependsOn === undefined ? [] : Array.isArray(resource.DependsOn) ? resource.DependsOn : [resource.DependsOn];
  return { id, properties: resource.Properties ?? {}, dependsOn };
}

/** Every statement of every AWS::IAM::Policy attached to the role, plus its inline policies. */
export function roleStatements(template: Template, roleId: string): Statement[] {
  const statements: Statement[] = [];
  for (const resource of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const roles = (resource.Properties?.Roles as unknown[] | undefined) ?? [];
    if (roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }))) {
      statements.push(...((resource.Properties?.PolicyDocument as { Statement: Statement[] }).Statement ?? []));
    }
  }
  const role = template.Resources[roleId];
  for (const inline of (role?.Properties?.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }> | undefined) ?? []) {
    statements.push(...inline.PolicyDocument.Statement);
  }
  return statements;
}

/** The actions of statements, each once, sorted. */
export function actionsOf(statements: readonly Statement[]): string[] {
  return [...new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))].sort();
}

/** For each action, the resources it is granted on (rendered), sorted. */
export function resourcesByAction(statements: readonly Statement[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const s of statements) {
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
    for (const a of actions) for (const r of resources) (out[a] ??= new Set()).add(render(r));
  }
  return Object.fromEntries(Object.entries(out).map(([a, r]) => [a, [...r].sort()]));
}

/** Write templates into a fresh temporary directory (for cfn-lint); returns their paths. */
export function writeTemplates(prefix: string, templates: Record<string, unknown>): string[] {
  const dir = join(tmpdir(), `${prefix}-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  return Object.entries(templates).map(([name, template]) => {
    const file = join(dir, `${name}.template.json`);
    writeFileSync(file, JSON.stringify(template, null, 1));
    return file;
  });
}

/**
 * cfn-lint checks every synthesized template is run with. W3005 ("dependency already
 * enforced"): the CDK's Lambda and BucketDeployment constructs list a function's role in
 * DependsOn as well as referencing it; the extra ordering is redundant, not a defect.
 */
export const CDK_LINT_IGNORES = ['W3005'] as const;
