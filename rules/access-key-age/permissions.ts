/**
 * The exact actions the rule Lambda's role needs, and why. The CDK member stack grants
 * exactly these (tests assert it); the README's permissions table is written from them.
 */
export const RULE_IAM_ACTIONS = [
  'iam:ListUsers', // the periodic sweep pages through every user
  'iam:GetAccountAuthorizationDetails', // users with their tags in pages of 1,000, when ExemptionTag is set
  'iam:ListAccessKeys', // live key IDs, status and creation date
  'iam:GetUser', // a change-triggered evaluation: confirm the name still belongs to the user ID, read its tags
  'iam:GenerateCredentialReport', // the sweep decides compliant users from the report
  'iam:GetCredentialReport',
] as const;

export const RULE_CONFIG_ACTIONS = [
  'config:PutEvaluations',
  'config:GetResourceConfigHistory', // oversized change notifications carry only a summary
  'config:GetComplianceDetailsByConfigRule', // what Config holds: put only what changed, clear evaluations of users that no longer exist
] as const;
