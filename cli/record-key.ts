/**
 * The record key for the command line: `--record-key` names it (default: the alias the member
 * stack creates, `alias/keyage-deactivation-records`; `none` for no key). kms:DescribeKey finds
 * it and checks it is an enabled HMAC_256 key for GENERATE_VERIFY_MAC. Without a usable key,
 * records are written unsigned (keyage will never delete those keys) and signed records cannot
 * be verified (nothing is planned for deletion): the caller says so aloud.
 */
import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { type AwsCaller, awsErrorCode } from '../lib/aws-call';
import { messageOf } from '../lib/errors';
import { kmsRecordSigner, RECORD_KEY_ALIAS, type RecordSigner } from '../remediation/records';

/** The default of `--record-key`. */
export const DEFAULT_RECORD_KEY = RECORD_KEY_ALIAS;

/** The record key found, or why there is none. */
export type RecordKeyResolution = { readonly signer: RecordSigner; readonly keyArn: string } | { readonly signer?: undefined; readonly keyArn: null; readonly why: string };

/** Find the record key named by `--record-key`. Never throws for AWS failures: they become `why`. */
export async function resolveRecordKey(kms: () => KMSClient, caller: AwsCaller, name: string, region: string): Promise<RecordKeyResolution> {
  if (name === 'none') return { keyArn: null, why: '--record-key none was given' };
  try {
    const client = kms();
    const meta = (await caller.call('kms:DescribeKey', () => client.send(new DescribeKeyCommand({ KeyId: name })))).KeyMetadata;
    if (!meta?.Arn) return { keyArn: null, why: `kms:DescribeKey ${name} returned no key` };
    if (meta.KeySpec !== 'HMAC_256' || meta.KeyUsage !== 'GENERATE_VERIFY_MAC') {
      return { keyArn: null, why: `${name} (${meta.Arn}) is a ${meta.KeySpec ?? '?'} key for ${meta.KeyUsage ?? '?'}, not keyage's HMAC_256 record key` };
    }
    if (meta.Enabled === false || (meta.KeyState !== undefined && meta.KeyState !== 'Enabled')) return { keyArn: null, why: `${name} (${meta.Arn}) is ${meta.KeyState ?? 'disabled'}` };
    return { signer: kmsRecordSigner(client, meta.Arn, caller), keyArn: meta.Arn };
  } catch (err) {
    if (awsErrorCode(err) === 'NotFoundException') return { keyArn: null, why: `there is no KMS key ${name} in ${region}` };
    return { keyArn: null, why: `the record key ${name} could not be read: ${messageOf(err)}` };
  }
}
