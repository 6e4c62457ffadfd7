/**
 * The exact actions the remediation side needs, and why. The CDK member stack grants exactly
 * these (its tests assert it), and docs/remediation.md's permissions table is written from them.
 *
 * Two principals:
 *   - the remediation Lambda's role, which holds the write side (it is the only principal
 *     that may deactivate or delete a key, or write a deactivation record);
 *   - the Automation assume role (`AutomationAssumeRole`), which only invokes that Lambda and
 *     reads the user's keys back for the runbook's output.
 */

/** IAM actions of the remediation Lambda's role. Scope to `arn:aws:iam::ACCOUNT:user/*` where IAM allows. */
export const REMEDIATION_LAMBDA_IAM_ACTIONS = [
  'iam:GetUser', // confirm that a user name still belongs to the user ID Config passed (RESOURCE_ID)
  'iam:ListUsers', // resolve a user ID to its name when Config's inventory does not know it
  'iam:GetAccountAuthorizationDetails', // runbook 2 for every user: users with their tags, 1,000 per call
  'iam:ListAccessKeys', // live key IDs, status and creation date, re-read right before every write
  'iam:ListUserTags', // the exemption tag and the deactivation records, read live
  'iam:GetAccessKeyLastUsed', // a key used after its deactivation is never deleted
  'iam:UpdateAccessKey', // runbook 1: set a stale key Inactive (never to Active)
  'iam:DeleteAccessKey', // runbook 2: delete a key this pack deactivated, after the grace period
  'iam:TagUser', // write the deactivation record keyage:deactivated:<AccessKeyId>
  'iam:UntagUser', // clear a record (key deleted, re-activated by a person, or gone)
] as const;

/** AWS Config actions of the remediation Lambda's role (resource "*": Config has no resource-level permissions for this call). */
export const REMEDIATION_LAMBDA_CONFIG_ACTIONS = [
  'config:ListDiscoveredResources', // user ID → user name, the way AWS's own remediation runbooks resolve RESOURCE_ID
] as const;

/** KMS actions of the remediation Lambda's role, on the record key only (and its key policy names the role). */
export const REMEDIATION_LAMBDA_KMS_ACTIONS = [
  'kms:GenerateMac', // sign each deactivation record it writes
  'kms:VerifyMac', // verify a record before any deletion
] as const;

/** SSM actions of the remediation Lambda's role. */
export const REMEDIATION_LAMBDA_SSM_ACTIONS = [
  'ssm:GetAutomationExecution', // verify that an invocation comes from a running execution of keyage's documents, and read its parameters
  'ssm:DescribeDocument', // the defaults of the document version that execution runs (keyage's two documents only)
  'ssm:GetParameter', // runbook 2 for every user: where the last run stopped (keyage's cursor parameter only)
  'ssm:PutParameter', // ... and where this run stopped
] as const;

/** SNS actions of the remediation Lambda's role, on keyage's notification topic only. */
export const REMEDIATION_LAMBDA_SNS_ACTIONS = [
  'sns:Publish', // tell the owners about suspected forged deactivation records
] as const;

/** KMS actions on the notification topic's key, which SNS needs to publish to the encrypted topic. */
export const REMEDIATION_LAMBDA_TOPIC_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;

/** Actions of the Automation assume role the runbooks run as. */
export const AUTOMATION_ROLE_ACTIONS = [
  'lambda:InvokeFunction', // the runbooks' aws:invokeLambdaFunction steps; scope to the remediation function's ARN
  'iam:ListAccessKeys', // runbook 1's last step reads the user's keys back, so the execution shows the live result
] as const;

/** Every action of the remediation Lambda's role. */
export const REMEDIATION_LAMBDA_ACTIONS: readonly string[] = [
  ...REMEDIATION_LAMBDA_IAM_ACTIONS,
  ...REMEDIATION_LAMBDA_CONFIG_ACTIONS,
  ...REMEDIATION_LAMBDA_KMS_ACTIONS,
  ...REMEDIATION_LAMBDA_SSM_ACTIONS,
  ...REMEDIATION_LAMBDA_SNS_ACTIONS,
  ...REMEDIATION_LAMBDA_TOPIC_KEY_ACTIONS,
];
