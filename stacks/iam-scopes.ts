/**
 * Least privilege: the resources each IAM action may be granted on.
 *
 * The action lists come from the code that makes the calls (`rules/access-key-age/permissions.ts`,
 * `remediation/permissions.ts`), so the stack can never drift from the code. This module only
 * says, per action, how narrowly IAM lets it be scoped (from the Service Authorization
 * Reference). An action it does not know fails synth: a new call must be scoped on purpose.
 */
import { Arn, ArnFormat, type Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { DEACTIVATION_TAG_PREFIX } from '../remediation/plan';

/** How narrowly an action can be granted. */
export type ResourceScope =
  /** The action has no resource type: IAM requires "*". */
  | 'any'
  /** Any IAM user of this account: arn:PARTITION:iam::ACCOUNT:user/* */
  | 'iam-users'
  /**
   * Any IAM user of this account, and only keyage's deactivation-record tag keys
   * (`keyage:deactivated:*`, aws:TagKeys): the role can never write or remove any other tag,
   * the exemption tag included.
   */
  | 'iam-users-record-tags'
  /** Any Config rule of this account and Region (pack rules get a generated suffix). */
  | 'config-rules'
  /** The one Lambda function named by the caller. */
  | 'function'
  /** The record key (KMS), named by the caller. */
  | 'record-key'
  /** Automation executions of this account and Region (their IDs are generated). */
  | 'automation-executions'
  /** keyage's own SSM documents. */
  | 'keyage-documents'
  /** keyage's cursor parameter, named by the caller. */
  | 'cursor-parameter'
  /** keyage's notification topic, named by the caller. */
  | 'topic'
  /** The KMS key of keyage's notification topic, named by the caller. */
  | 'topic-key';

/** The scope of every action keyage grants. */
export const ACTION_SCOPES: Readonly<Record<string, ResourceScope>> = {
  'iam:ListUsers': 'any',
  'iam:GetAccountAuthorizationDetails': 'any',
  'iam:GenerateCredentialReport': 'any',
  'iam:GetCredentialReport': 'any',
  'iam:GetUser': 'iam-users',
  'iam:ListAccessKeys': 'iam-users',
  'iam:ListUserTags': 'iam-users',
  'iam:GetAccessKeyLastUsed': 'iam-users',
  'iam:UpdateAccessKey': 'iam-users',
  'iam:DeleteAccessKey': 'iam-users',
  'iam:TagUser': 'iam-users-record-tags',
  'iam:UntagUser': 'iam-users-record-tags',
  'config:PutEvaluations': 'any',
  'config:GetResourceConfigHistory': 'any',
  'config:ListDiscoveredResources': 'any',
  'config:GetComplianceDetailsByConfigRule': 'config-rules',
  'lambda:InvokeFunction': 'function',
  'kms:GenerateMac': 'record-key',
  'kms:VerifyMac': 'record-key',
  'ssm:GetAutomationExecution': 'automation-executions',
  'ssm:DescribeDocument': 'keyage-documents',
  'ssm:GetParameter': 'cursor-parameter',
  'ssm:PutParameter': 'cursor-parameter',
  'sns:Publish': 'topic',
  'kms:GenerateDataKey': 'topic-key',
  'kms:Decrypt': 'topic-key',
};

/** What some scopes need from the caller: the ARN of the one resource. */
export interface ScopeTargets {
  functionArn?: string;
  recordKeyArn?: string;
  cursorParameterArn?: string;
  topicArn?: string;
  topicKeyArn?: string;
  /** keyage's document names (the 'keyage-documents' scope). */
  documentNames?: readonly string[];
}

/**
 * The condition of the 'iam-users-record-tags' scope. ForAllValues is true for a request with
 * no tag keys at all, so the Null condition requires aws:TagKeys to be present (IAM User
 * Guide, "Single-valued vs. multivalued context keys"). StringLike is case-sensitive: only the
 * exact prefix the remediation writes is allowed.
 */
export const RECORD_TAG_CONDITIONS = {
  'ForAllValues:StringLike': { 'aws:TagKeys': [`${DEACTIVATION_TAG_PREFIX}*`] },
  Null: { 'aws:TagKeys': 'false' },
} as const;

/** The ARN pattern of every IAM user of the stack's account. */
export function iamUsersArn(stack: Stack): string {
  return Arn.format({ service: 'iam', region: '', resource: 'user', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack);
}

/** The ARN pattern of every Config rule of the stack's account and Region. */
export function configRulesArn(stack: Stack): string {
  return Arn.format({ service: 'config', resource: 'config-rule', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack);
}

/**
 * One policy statement per scope, granting exactly `actions`, each on the narrowest resource
 * IAM allows. Throws for an action without a known scope, or a 'function' action without `functionArn`.
 */
export function scopedStatements(stack: Stack, actions: readonly string[], options: ScopeTargets = {}): PolicyStatement[] {
  const byScope = new Map<ResourceScope, string[]>();
  for (const action of actions) {
    const scope = ACTION_SCOPES[action];
    if (!scope) {
      throw new Error(`keyage: no resource scope is known for ${action}; add it to stacks/iam-scopes.ts after checking the Service Authorization Reference`);
    }
    byScope.set(scope, [...(byScope.get(scope) ?? []), action]);
  }
  const resourcesOf = (scope: ResourceScope): string[] => {
    switch (scope) {
      case 'any':
        return ['*'];
      case 'iam-users':
      case 'iam-users-record-tags':
        return [iamUsersArn(stack)];
      case 'config-rules':
        return [configRulesArn(stack)];
      case 'function':
        if (!options.functionArn) throw new Error('keyage: lambda:InvokeFunction needs the ARN of the function it may invoke');
        return [options.functionArn];
      case 'record-key':
        if (!options.recordKeyArn) throw new Error('keyage: kms:GenerateMac/VerifyMac need the ARN of the record key');
        return [options.recordKeyArn];
      case 'automation-executions':
        return [Arn.format({ service: 'ssm', resource: 'automation-execution', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack)];
      case 'keyage-documents':
        if (!options.documentNames?.length) throw new Error('keyage: ssm:DescribeDocument needs the names of keyage\'s documents');
        return options.documentNames.map((name) => Arn.format({ service: 'ssm', resource: 'document', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack));
      case 'cursor-parameter':
        if (!options.cursorParameterArn) throw new Error('keyage: ssm:GetParameter/PutParameter need the ARN of the cursor parameter');
        return [options.cursorParameterArn];
      case 'topic':
        if (!options.topicArn) throw new Error('keyage: sns:Publish needs the ARN of the topic');
        return [options.topicArn];
      case 'topic-key':
        if (!options.topicKeyArn) throw new Error('keyage: kms:GenerateDataKey/Decrypt need the ARN of the topic\'s key');
        return [options.topicKeyArn];
    }
  };
  const order: ResourceScope[] = ['iam-users', 'iam-users-record-tags', 'config-rules', 'function', 'record-key', 'automation-executions', 'keyage-documents', 'cursor-parameter', 'topic', 'topic-key', 'any'];
  return order
    .filter((scope) => byScope.has(scope))
    .map(
      (scope) =>
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [...new Set(byScope.get(scope))].sort(),
          resources: resourcesOf(scope),
          ...(scope === 'iam-users-record-tags' ? { conditions: structuredClone(RECORD_TAG_CONDITIONS) as Record<string, unknown> } : {}),
        }),
    );
}
