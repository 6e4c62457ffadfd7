/**
 * keyage's deactivation records: the user tag `keyage:deactivated:<AccessKeyId>` that runbook 1
 * writes before it switches a key off, and without which runbook 2 never deletes a key.
 *
 * A tag is something anyone with `iam:TagUser` can write, so a record is authenticated:
 *
 *     value   = <recorded time, ISO 8601 with ms> SP v1 SP <base64 HMAC-SHA-256>
 *     message = "keyage-deactivation-record" LF "v1" LF account=… LF user=<user ID> LF
 *               key=<AccessKeyId> LF key-created=<the key's CreateDate> LF recorded=<time>
 *
 * The MAC comes from a KMS HMAC key (`alias/keyage-deactivation-records`, KeySpec HMAC_256)
 * whose key policy lets only keyage's remediation role (and operators the deployment names)
 * call kms:GenerateMac. The message binds the record to one account, one user (by its ID,
 * which survives renames and is never reused), one key (by ID and creation date) and one time,
 * so a record can be neither forged, nor copied to another key or user, nor re-dated.
 *
 * This module only reads, writes and checks records. What a record permits is decided in
 * `plan.ts`: only a `verified` record can ever lead to a deletion.
 */
import { GenerateMacCommand, type KMSClient, VerifyMacCommand } from '@aws-sdk/client-kms';
import { asciiLower, asciiUpper } from '../lib/ascii';
import { type AwsCaller, awsErrorCode } from '../lib/aws-call';
import { readIsoTime } from '../lib/iso-time';

/** The tag-key prefix of a record, exactly as keyage writes it. */
export const DEACTIVATION_TAG_PREFIX = 'keyage:deactivated:';

/** The record format version, inside the value and inside the MAC'd message. */
export const RECORD_FORMAT_VERSION = 'v1';

/** The alias of the KMS key the member stack creates for records. */
export const RECORD_KEY_ALIAS = 'alias/keyage-deactivation-records';

/** The MAC algorithm of the record key (KeySpec HMAC_256). */
export const RECORD_MAC_ALGORITHM = 'HMAC_SHA_256';

const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** 32 bytes of HMAC-SHA-256 in standard base64: 43 characters and one `=`. */
const MAC_B64 = /^[A-Za-z0-9+/]{43}=$/;
const ACCOUNT_ID = /^\d{12}$/;

/**
 * How a tag key relates to keyage's record key:
 *   - `exact`: `keyage:deactivated:` followed by an access key ID, character for character;
 *   - `case-variant`: the same once A–Z are folded (IAM compares tag keys that way), but not
 *     as keyage writes it (`KEYAGE:DEACTIVATED:…`);
 *   - `look-alike`: only after Unicode compatibility folding (U+212A KELVIN SIGN for `k`, …):
 *     IAM and any SCP on `keyage:*` see another key, and keyage must not read it as its own.
 */
export type RecordTagForm = 'exact' | 'case-variant' | 'look-alike';

/** A tag that is, or looks like, a deactivation record. */
export interface RecordTag {
  /** The tag key as IAM stores it. */
  readonly tagKey: string;
  readonly form: RecordTagForm;
  /** The access key ID the tag key names (A–Z raised, for matching). */
  readonly accessKeyId: string;
}

/** Read a tag key as a deactivation record, or `undefined` when it is not one and does not look like one. */
export function readRecordTag(tagKey: string | undefined): RecordTag | undefined {
  if (tagKey === undefined) return undefined;
  if (tagKey.startsWith(DEACTIVATION_TAG_PREFIX)) {
    const id = tagKey.slice(DEACTIVATION_TAG_PREFIX.length);
    if (ACCESS_KEY_ID.test(id)) return { tagKey, form: 'exact', accessKeyId: id };
    if (id.length > 0) return { tagKey, form: 'case-variant', accessKeyId: asciiUpper(id) };
    return undefined;
  }
  if (asciiLower(tagKey).startsWith(DEACTIVATION_TAG_PREFIX) && tagKey.length > DEACTIVATION_TAG_PREFIX.length) {
    return { tagKey, form: 'case-variant', accessKeyId: asciiUpper(tagKey.slice(DEACTIVATION_TAG_PREFIX.length)) };
  }
  const folded = tagKey.normalize('NFKC').toLowerCase();
  if (folded.startsWith(DEACTIVATION_TAG_PREFIX) && folded.length > DEACTIVATION_TAG_PREFIX.length) {
    return { tagKey, form: 'look-alike', accessKeyId: asciiUpper(folded.slice(DEACTIVATION_TAG_PREFIX.length)) };
  }
  return undefined;
}

/** The tag key of the record for `accessKeyId`, as keyage writes it. */
export function recordTagKey(accessKeyId: string): string {
  return `${DEACTIVATION_TAG_PREFIX}${accessKeyId}`;
}

/** A record's value, read strictly. */
export type RecordValue =
  | { readonly form: 'signed'; readonly recordedAt: Date; readonly mac: string }
  /** A bare time: written before records were signed, or by a run that had no record key. */
  | { readonly form: 'unsigned'; readonly recordedAt: Date }
  | { readonly form: 'malformed'; readonly problem: string };

/**
 * A UTC instant written exactly as `Date.prototype.toISOString` writes it (`2026-03-01T09:30:00.000Z`),
 * that is a real calendar instant: `2001-02-30…` (which `Date` reads as March 2), padding,
 * another precision or another zone are all refused.
 */
export function parseStrictInstant(text: string): Date | undefined {
  if (!ISO_MS.test(text)) return undefined;
  const read = readIsoTime(text);
  return read.ok ? read.date : undefined;
}

/** Read a record's tag value. Nothing is trimmed or repaired: keyage writes exactly one form. */
export function parseRecordValue(value: string | undefined): RecordValue {
  const text = value ?? '';
  const parts = text.split(' ');
  if (parts.length === 1) {
    const at = parseStrictInstant(text);
    return at ? { form: 'unsigned', recordedAt: at } : { form: 'malformed', problem: `${shown(text)} is not a time keyage writes (YYYY-MM-DDTHH:MM:SS.sssZ, a real calendar date)` };
  }
  const [time, version, mac] = parts as [string, string, string | undefined];
  if (parts.length !== 3 || version !== RECORD_FORMAT_VERSION || mac === undefined || !MAC_B64.test(mac)) {
    return { form: 'malformed', problem: `${shown(text)} is not "<time> ${RECORD_FORMAT_VERSION} <MAC>"` };
  }
  const at = parseStrictInstant(time);
  if (!at) return { form: 'malformed', problem: `its time ${shown(time)} is not a real calendar instant written as keyage writes it` };
  return { form: 'signed', recordedAt: at, mac };
}

/** The value of a signed record. */
export function formatSignedRecordValue(recordedAt: Date, mac: string): string {
  if (!MAC_B64.test(mac)) throw new TypeError('records: the MAC must be 32 bytes in base64');
  return `${recordedAt.toISOString()} ${RECORD_FORMAT_VERSION} ${mac}`;
}

/** What a record is about: the MAC binds it to all of this. */
export interface RecordSubject {
  readonly accountId: string;
  /** The IAM user ID (AIDA…): it survives a rename and is never given to another user. */
  readonly userId: string;
  readonly accessKeyId: string;
  /** The key's CreateDate, as ListAccessKeys gives it. */
  readonly keyCreatedAt: Date;
}

/** The message a record's MAC is computed over. */
export function recordMessage(subject: RecordSubject, recordedAt: Date): string {
  if (!ACCOUNT_ID.test(subject.accountId)) throw new TypeError(`records: account ID must be 12 digits, got ${JSON.stringify(subject.accountId)}`);
  if (!ACCESS_KEY_ID.test(subject.accessKeyId)) throw new TypeError(`records: ${JSON.stringify(subject.accessKeyId)} is not an access key ID`);
  if (subject.userId === '' || /[\n=]/.test(subject.userId)) throw new TypeError('records: the user ID is empty or not an ID');
  return [
    'keyage-deactivation-record',
    RECORD_FORMAT_VERSION,
    `account=${subject.accountId}`,
    `user=${subject.userId}`,
    `key=${subject.accessKeyId}`,
    `key-created=${subject.keyCreatedAt.toISOString()}`,
    `recorded=${recordedAt.toISOString()}`,
  ].join('\n');
}

/** Signs and checks records. The production one is {@link kmsRecordSigner}. */
export interface RecordSigner {
  /** The key's ARN (or ID), for logs and reports. */
  readonly keyId: string;
  /** The MAC of `message`, base64. */
  sign(message: string): Promise<string>;
  /** True when `mac` is the MAC of `message` under this key; false when it is not; throws when it cannot tell. */
  verify(message: string, mac: string): Promise<boolean>;
}

/**
 * Records signed and checked with a KMS HMAC key: kms:GenerateMac and kms:VerifyMac, through the
 * caller (retried when throttled; AccessDenied named). `KMSInvalidMacException` is the answer
 * "does not verify"; every other failure is an error, never a verdict.
 */
export function kmsRecordSigner(kms: KMSClient, keyId: string, caller: AwsCaller): RecordSigner {
  return {
    keyId,
    async sign(message) {
      const out = await caller.call('kms:GenerateMac', () =>
        kms.send(new GenerateMacCommand({ KeyId: keyId, MacAlgorithm: RECORD_MAC_ALGORITHM, Message: Buffer.from(message, 'utf8') })),
      );
      if (!out.Mac) throw new TypeError('kms:GenerateMac returned no MAC');
      return Buffer.from(out.Mac).toString('base64');
    },
    async verify(message, mac) {
      try {
        const out = await caller.call('kms:VerifyMac', () =>
          kms.send(
            new VerifyMacCommand({ KeyId: keyId, MacAlgorithm: RECORD_MAC_ALGORITHM, Message: Buffer.from(message, 'utf8'), Mac: Buffer.from(mac, 'base64') }),
          ),
        );
        return out.MacValid === true;
      } catch (err) {
        if (awsErrorCode(err) === 'KMSInvalidMacException') return false;
        throw err;
      }
    },
  };
}

/**
 * What a record proves:
 *   - `verified`: keyage wrote it, for this key of this user, at `recordedAt`;
 *   - `unsigned`: a bare time (written before records were signed, or without a record key):
 *     it proves nothing, so it never leads to a deletion;
 *   - `unverifiable`: a signed record that cannot be checked now (no record key, or its key is
 *     gone): it never leads to a deletion either;
 *   - `suspect`: it cannot have been written by keyage for this key (a look-alike tag key, a
 *     malformed value, an impossible time, a MAC that does not verify): a suspected forgery,
 *     reported, never acted on.
 */
export type RecordVerdict =
  | { readonly status: 'verified'; readonly recordedAt: Date }
  | { readonly status: 'unsigned'; readonly recordedAt: Date; readonly reason: string }
  | { readonly status: 'unverifiable'; readonly recordedAt: Date; readonly reason: string }
  | { readonly status: 'suspect'; readonly reason: string };

/**
 * Judge one record. `subject` is the live key the record names (absent when the key no longer
 * exists); `now` bounds the recorded time; `signer` checks the MAC (absent: signed records are
 * `unverifiable`). Calls kms:VerifyMac only for a well-formed signed record with a live key.
 */
export async function assessRecord(
  tag: RecordTag,
  value: string | undefined,
  subject: RecordSubject | undefined,
  now: Date,
  signer: RecordSigner | undefined,
): Promise<RecordVerdict> {
  if (tag.form !== 'exact') {
    return {
      status: 'suspect',
      reason: `the tag key ${shown(tag.tagKey)} is not exactly ${DEACTIVATION_TAG_PREFIX}<AccessKeyId> (${tag.form === 'look-alike' ? 'it uses characters that only look like it' : 'its letters are in another case'}); keyage never writes it`,
    };
  }
  const parsed = parseRecordValue(value);
  if (parsed.form === 'malformed') return { status: 'suspect', reason: `its value ${parsed.problem}` };
  const at = parsed.recordedAt;
  if (subject) {
    if (at.getTime() < subject.keyCreatedAt.getTime()) {
      return { status: 'suspect', reason: `it is dated ${at.toISOString()}, before the key was created (${subject.keyCreatedAt.toISOString()})` };
    }
  }
  if (at.getTime() > now.getTime()) return { status: 'suspect', reason: `it is dated ${at.toISOString()}, in the future` };
  if (parsed.form === 'unsigned') {
    return { status: 'unsigned', recordedAt: at, reason: 'it carries no MAC (written before keyage signed its records, or without the record key), so it proves nothing' };
  }
  if (!subject) return { status: 'unverifiable', recordedAt: at, reason: 'its key no longer exists' };
  if (!signer) return { status: 'unverifiable', recordedAt: at, reason: 'no record key is available to verify it' };
  const valid = await signer.verify(recordMessage(subject, at), parsed.mac);
  if (!valid) {
    return { status: 'suspect', reason: 'its MAC does not verify: it was not written by keyage for this key of this user at this time (forged, copied or re-dated)' };
  }
  return { status: 'verified', recordedAt: at };
}

/** The account ID in an IAM ARN (`arn:aws:iam::123456789012:user/…`). */
export function accountOfArn(arn: string): string | undefined {
  const account = arn.split(':')[4];
  return account !== undefined && ACCOUNT_ID.test(account) ? account : undefined;
}

/** `text` quoted for a message: shortened, and anything outside printable ASCII shown as \\uXXXX. */
export function shown(text: string): string {
  const s = JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}…` : text);
  // Escape what JSON.stringify leaves: non-ASCII (look-alikes, bidi controls) is shown as \uXXXX.
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
