/**
 * The AWS actions each command-line operation makes, in one place: the CLI's help, the docs and
 * the member stack's `keyage-audit` role (stacks/audit-role.ts) read them from here, and tests
 * compare them with the calls really sent. Adding a call means adding it here.
 */

/**
 * A live audit of one account: all read-only. The IAM reads; the deployed rule and delete runbook
 * (the defaults); the record key, to verify deactivation records.
 */
export const LIVE_AUDIT_ACTIONS = [
  'iam:GetAccountAuthorizationDetails',
  'iam:ListAccessKeys',
  'iam:GetAccessKeyLastUsed',
  'config:DescribeConfigRules',
  'ssm:DescribeDocument',
  'kms:DescribeKey',
  'kms:VerifyMac',
] as const;

/** What the organization audit's role needs in each account: the live audit's reads and iam:GetAccountSummary (root keys). */
export const MEMBER_AUDIT_ACTIONS = [...LIVE_AUDIT_ACTIONS, 'iam:GetAccountSummary'] as const;

/** What the caller (management or delegated administrator account) needs: Organizations reads and sts:AssumeRole. */
export const ORGANIZATION_CALLER_ACTIONS = [
  'organizations:ListAccounts',
  'organizations:ListAccountsForParent',
  'organizations:ListOrganizationalUnitsForParent',
  'sts:AssumeRole',
] as const;

/** The Security Hub actions `--security-hub` needs in each account it imports into. */
export const SECURITY_HUB_IMPORT_ACTIONS = ['securityhub:GetFindings', 'securityhub:BatchImportFindings'] as const;
