/**
 * The `keyage-audit` role of a member account: what `keyage audit --organization` assumes from
 * the management account or the delegated administrator, so that nobody has to lend an
 * administrator role to audit access keys.
 *
 * It is trusted by that one account (principals of that account may assume it, as their own
 * IAM policies allow) and may do exactly what the audit does in an account, all read-only:
 * iam:GetAccountAuthorizationDetails and iam:GetAccountSummary (no resource type in IAM: "*"),
 * iam:ListAccessKeys and iam:GetAccessKeyLastUsed (on the account's users). With
 * `securityHubImport` it may also import its own account's findings (`--security-hub`):
 * securityhub:GetFindings on the account's hub and securityhub:BatchImportFindings on the
 * account's own default product, in any Region (the Region of the import is the caller's choice).
 *
 * The action lists come from the code that makes the calls (`cli/permissions.ts`).
 */
import { Arn, ArnFormat, Aws, Stack, Validations } from 'aws-cdk-lib';
import { AccountPrincipal, Effect, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { MEMBER_AUDIT_ACTIONS, SECURITY_HUB_IMPORT_ACTIONS } from '../cli/permissions';
import { DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME } from '../remediation/documents';

/** The role's name: `keyage audit --organization --role-name` defaults to it. */
export const AUDIT_ROLE_NAME = 'keyage-audit';

/** Where each action the role may call can be granted (Service Authorization Reference). */
const SCOPES: Readonly<Record<string, 'any' | 'iam-users' | 'hub' | 'own-product' | 'keyage-documents' | 'record-key'>> = {
  // The deployed rule's parameters: DescribeConfigRules lists the rules of the account and Region.
  'config:DescribeConfigRules': 'any',
  // The deployed delete runbook's GracePeriodDays.
  'ssm:DescribeDocument': 'keyage-documents',
  // Verify deactivation records with the account's record key (verifying proves nothing false and reveals nothing).
  'kms:DescribeKey': 'record-key',
  'kms:VerifyMac': 'record-key',
  'iam:GetAccountAuthorizationDetails': 'any',
  'iam:GetAccountSummary': 'any',
  'iam:ListAccessKeys': 'iam-users',
  'iam:GetAccessKeyLastUsed': 'iam-users',
  'securityhub:GetFindings': 'hub',
  'securityhub:BatchImportFindings': 'own-product',
};

/** Props of {@link KeyageAuditRole}. */
export interface KeyageAuditRoleProps {
  /**
   * The account trusted to assume the role: the organization's management account, or the
   * delegated administrator, where `keyage audit --organization` runs.
   */
  readonly trustedAccountId: string;
  /**
   * Name of the role.
   * @default AUDIT_ROLE_NAME ('keyage-audit')
   */
  readonly roleName?: string;
  /**
   * Also allow importing this account's own findings into Security Hub (`--security-hub`).
   * @default false (read-only)
   */
  readonly securityHubImport?: boolean;
  /** The record key of the account (the member stack's), which the audit verifies deactivation records with. */
  readonly recordKeyArn: string;
}

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** The read-only role the organization audit assumes in this account. */
export class KeyageAuditRole extends Construct {
  /** The role. */
  public readonly role: Role;
  /** The actions granted, sorted. */
  public readonly actions: readonly string[];

  constructor(scope: Construct, id: string, props: KeyageAuditRoleProps) {
    super(scope, id);
    if (!ACCOUNT_ID.test(props.trustedAccountId)) {
      throw new Error(`keyage: KeyageAuditRole trustedAccountId must be a 12-digit account ID, got ${JSON.stringify(props.trustedAccountId)}`);
    }
    const roleName = props.roleName ?? AUDIT_ROLE_NAME;
    if (!ROLE_NAME.test(roleName)) throw new Error(`keyage: KeyageAuditRole roleName must be 1-64 letters, digits and + = , . @ _ -, got ${JSON.stringify(roleName)}`);
    const stack = Stack.of(this);
    this.actions = [...MEMBER_AUDIT_ACTIONS, ...(props.securityHubImport ? SECURITY_HUB_IMPORT_ACTIONS : [])].sort();
    this.role = new Role(this, 'Role', {
      roleName,
      assumedBy: new AccountPrincipal(props.trustedAccountId),
      description: `keyage audit --organization: read-only access-key audit${props.securityHubImport ? ' and Security Hub import of this account\'s findings' : ''}, assumed from account ${props.trustedAccountId}`,
    });
    const resources = {
      any: ['*'],
      'iam-users': [Arn.format({ service: 'iam', region: '', resource: 'user', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack)],
      hub: [`arn:${Aws.PARTITION}:securityhub:*:${Aws.ACCOUNT_ID}:hub/default`],
      'own-product': [`arn:${Aws.PARTITION}:securityhub:*:${Aws.ACCOUNT_ID}:product/${Aws.ACCOUNT_ID}/default`],
      'keyage-documents': [DEACTIVATE_RUNBOOK_NAME, DELETE_RUNBOOK_NAME].map((name) => `arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:document/${name}`),
      'record-key': [props.recordKeyArn],
    } as const;
    for (const scopeName of ['iam-users', 'hub', 'own-product', 'keyage-documents', 'record-key', 'any'] as const) {
      const actions = this.actions.filter((a) => {
        const known = SCOPES[a];
        if (!known) throw new Error(`keyage: no resource scope is known for ${a}; add it to stacks/audit-role.ts after checking the Service Authorization Reference`);
        return known === scopeName;
      });
      if (actions.length > 0) this.role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions, resources: [...resources[scopeName]] }));
    }
    Validations.of(this.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*]',
        reason: 'The audit reads the access keys and their last use of every IAM user of the account: IAM has no narrower resource for "any user".',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'iam:GetAccountAuthorizationDetails and iam:GetAccountSummary have no resource type in IAM, and config:DescribeConfigRules lists the rules of the account: "*" is the resource they are called on.',
      },
      ...(props.securityHubImport
        ? [
            {
              id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:hub/default]',
              reason: 'GetFindings on this account\'s own hub, in the Region the import is run in (chosen by the caller).',
            },
            {
              id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:product/<AWS::AccountId>/default]',
              reason: 'BatchImportFindings only as this account\'s own default product, in the Region the import is run in (chosen by the caller).',
            },
          ]
        : []),
    );
  }
}
