/**
 * The KMS HMAC key that authenticates keyage's deactivation records (`remediation/records.ts`).
 *
 * Its key policy is the whole of who may do what with it (no `kms:*` for the account, so no
 * IAM policy and no grant can add a signer):
 *   - the account (IAM policies): administration, describe, and kms:VerifyMac — checking a
 *     record reveals nothing and proves nothing false, so auditors and `keyage audit` may;
 *   - keyage's remediation role: kms:GenerateMac and kms:VerifyMac, HMAC_SHA_256 only;
 *   - the principals named in `recordSigners` (for `keyage remediate --apply` from a
 *     workstation): kms:GenerateMac and kms:VerifyMac.
 * kms:CreateGrant is given to no one. Key administrators (kms:PutKeyPolicy) can change this
 * policy, and so are as trusted as the remediation role: docs/remediation.md says so.
 *
 * The key is retained when the stack is deleted: without it no record verifies, and keyage then
 * never deletes a key it deactivated (safe, but the records become worthless).
 */
import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import { AccountRootPrincipal, ArnPrincipal, Effect, type IPrincipal, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { RECORD_KEY_ALIAS, RECORD_MAC_ALGORITHM } from '../remediation/records';

/** Key administration, without kms:CreateGrant and without any cryptographic operation. */
export const RECORD_KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:EnableKey',
  'kms:GetKeyPolicy',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RevokeGrant',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
] as const;

/** Props of {@link RecordKey}. */
export interface RecordKeyProps {
  /** The role of the remediation Lambda: the signer of records. */
  readonly remediationRole: IPrincipal & { readonly roleArn: string };
  /**
   * Names of further IAM roles of the account that may sign records, for `keyage remediate
   * --apply` run by hand. The key policy names them by ARN in a condition, so they need not
   * exist yet; each needs an IAM policy allowing kms:GenerateMac on the key as well.
   * @default none
   */
  readonly recordSignerRoleNames?: readonly string[];
}

/** The record key and its alias `alias/keyage-deactivation-records`. */
export class RecordKey extends Construct {
  public readonly key: Key;

  constructor(scope: Construct, id: string, props: RecordKeyProps) {
    super(scope, id);
    const policy = new PolicyDocument({
      statements: [
        new PolicyStatement({
          sid: 'KeyAdministration',
          effect: Effect.ALLOW,
          principals: [new AccountRootPrincipal()],
          actions: [...RECORD_KEY_ADMIN_ACTIONS],
          resources: ['*'],
        }),
        new PolicyStatement({
          sid: 'VerifyRecords',
          effect: Effect.ALLOW,
          principals: [new AccountRootPrincipal()],
          actions: ['kms:VerifyMac'],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:MacAlgorithm': RECORD_MAC_ALGORITHM } },
        }),
        new PolicyStatement({
          sid: 'SignRecords',
          effect: Effect.ALLOW,
          principals: [new ArnPrincipal(props.remediationRole.roleArn)],
          actions: ['kms:GenerateMac', 'kms:VerifyMac'],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:MacAlgorithm': RECORD_MAC_ALGORITHM } },
        }),
        ...((props.recordSignerRoleNames ?? []).length > 0
          ? [
              new PolicyStatement({
                sid: 'SignRecordsByHand',
                effect: Effect.ALLOW,
                principals: [new AccountRootPrincipal()],
                actions: ['kms:GenerateMac'],
                resources: ['*'],
                conditions: {
                  StringEquals: { 'kms:MacAlgorithm': RECORD_MAC_ALGORITHM },
                  ArnEquals: { 'aws:PrincipalArn': (props.recordSignerRoleNames ?? []).map((name) => `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${name}`) },
                },
              }),
            ]
          : []),
      ],
    });
    this.key = new Key(this, 'Key', {
      description: 'keyage: authenticates deactivation records (user tags keyage:deactivated:<AccessKeyId>); only keyage signs them',
      keySpec: KeySpec.HMAC_256,
      keyUsage: KeyUsage.GENERATE_VERIFY_MAC,
      alias: RECORD_KEY_ALIAS,
      policy,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
