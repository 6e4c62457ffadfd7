/**
 * Deactivation records for tests that mock IAM: a local HMAC-SHA-256 signer with the production
 * message and value format (`remediation/records.ts`), standing in for the KMS key. Tests against
 * moto_server use the real KMS signer (`kmsRecordSigner`) on a real HMAC_256 key instead.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { formatSignedRecordValue, type RecordSigner, type RecordSubject, recordMessage, recordTagKey } from '../../remediation/records';

const SECRET = Buffer.from('keyage-test-record-key');

/** The MAC of `message` under the test key, base64. */
function mac(message: string, secret: Buffer = SECRET): string {
  return createHmac('sha256', secret).update(message, 'utf8').digest('base64');
}

/** A signer over a fixed test secret (another secret gives a signer whose records do not verify here). */
export function localRecordSigner(secret: string | Buffer = SECRET): RecordSigner & { readonly signed: string[]; readonly verified: string[] } {
  const key = typeof secret === 'string' ? Buffer.from(secret) : secret;
  const signed: string[] = [];
  const verified: string[] = [];
  return {
    keyId: 'arn:aws:kms:us-east-1:123456789012:key/test-record-key',
    signed,
    verified,
    async sign(message) {
      signed.push(message);
      return mac(message, key);
    },
    async verify(message, given) {
      verified.push(message);
      const want = Buffer.from(mac(message, key), 'base64');
      const got = Buffer.from(given, 'base64');
      return want.length === got.length && timingSafeEqual(want, got);
    },
  };
}

/** The record tag keyage writes for `subject` at `at`, signed with the test key. */
export function signedRecordTag(subject: RecordSubject, at: Date, secret?: string): { Key: string; Value: string } {
  const key = secret === undefined ? SECRET : Buffer.from(secret);
  return { Key: recordTagKey(subject.accessKeyId), Value: formatSignedRecordValue(at, mac(recordMessage(subject, at), key)) };
}
