import { asciiEqualIgnoringCase, asciiLower } from '../../lib/ascii';
import {
  assessRecord,
  formatSignedRecordValue,
  parseRecordValue,
  parseStrictInstant,
  readRecordTag,
  recordMessage,
  type RecordSubject,
} from '../../remediation/records';
import { localRecordSigner, signedRecordTag } from '../harness/record-signer';

const KEY = 'AKIAOLD0000000000001';
const NOW = new Date('2026-11-25T12:00:00.000Z');
const CREATED = new Date('2026-06-01T08:00:00.000Z');
const SUBJECT: RecordSubject = { accountId: '123456789012', userId: 'AIDAALICE00000000001', accessKeyId: KEY, keyCreatedAt: CREATED };
const AT = new Date('2026-09-01T10:00:00.000Z');

describe('ASCII-only case folding', () => {
  it('folds A-Z and nothing else: U+212A KELVIN SIGN is not k, as IAM and SCPs see it', () => {
    expect(asciiLower('KEYAGE:Deactivated')).toBe('keyage:deactivated');
    expect(asciiLower('\u212Aeyage')).toBe('\u212Aeyage');
    expect('\u212Aeyage'.toLowerCase()).toBe('keyage'); // what keyage must not do
    expect(asciiEqualIgnoringCase('Keyage-Exempt', 'keyage-exempt')).toBe(true);
    expect(asciiEqualIgnoringCase('\u212Aeyage-exempt', 'keyage-exempt')).toBe(false);
  });
});

describe('readRecordTag', () => {
  it('keyage\'s own form is exact', () => {
    expect(readRecordTag(`keyage:deactivated:${KEY}`)).toEqual({ tagKey: `keyage:deactivated:${KEY}`, form: 'exact', accessKeyId: KEY });
  });

  it.each([
    ['upper case', `KEYAGE:DEACTIVATED:${KEY}`, 'case-variant'],
    ['mixed case', `Keyage:Deactivated:${KEY}`, 'case-variant'],
    ['a lower-case key ID', `keyage:deactivated:${KEY.toLowerCase()}`, 'case-variant'],
    ['U+212A KELVIN SIGN for k', `\u212Aeyage:deactivated:${KEY}`, 'look-alike'],
    ['fullwidth letters', `ｋｅｙａｇｅ:deactivated:${KEY}`, 'look-alike'],
  ])('%s is recognised but not exact (%s)', (_name, tagKey, form) => {
    expect(readRecordTag(tagKey)).toMatchObject({ form, accessKeyId: KEY });
  });

  it('other tags are not records', () => {
    expect(readRecordTag('team')).toBeUndefined();
    expect(readRecordTag('keyage:deactivated:')).toBeUndefined();
    expect(readRecordTag(undefined)).toBeUndefined();
  });
});

describe('parseStrictInstant', () => {
  it('accepts exactly what toISOString writes', () => {
    expect(parseStrictInstant('2026-02-28T23:59:59.999Z')?.toISOString()).toBe('2026-02-28T23:59:59.999Z');
    expect(parseStrictInstant('2028-02-29T00:00:00.000Z')).toBeDefined();
  });

  it.each([
    ['an impossible date (Date reads it as March 2)', '2001-02-30T00:00:00.000Z'],
    ['February 29 of a common year', '2026-02-29T00:00:00.000Z'],
    ['April 31', '2026-04-31T00:00:00.000Z'],
    ['hour 24', '2026-04-01T24:00:00.000Z'],
    ['no milliseconds', '2000-01-01T00:00:00Z'],
    ['padding', ' 2000-01-01T00:00:00.000Z'],
    ['another zone', '2000-01-01T00:00:00.000+01:00'],
    ['a date only', '2000-01-01'],
    ['an empty string', ''],
  ])('refuses %s', (_name, text) => {
    expect(parseStrictInstant(text)).toBeUndefined();
  });
});

describe('parseRecordValue', () => {
  it('reads a signed value', () => {
    const value = signedRecordTag(SUBJECT, AT).Value;
    expect(parseRecordValue(value)).toEqual({ form: 'signed', recordedAt: AT, mac: value.split(' ')[2] });
  });

  it('reads a bare time as unsigned (records written before records were signed)', () => {
    expect(parseRecordValue(AT.toISOString())).toEqual({ form: 'unsigned', recordedAt: AT });
  });

  it.each([
    ['a padded value', ` ${AT.toISOString()} `],
    ['an unknown version', `${AT.toISOString()} v2 ${'A'.repeat(43)}=`],
    ['a short MAC', `${AT.toISOString()} v1 AAAA`],
    ['an impossible time', `2001-02-30T00:00:00.000Z v1 ${'A'.repeat(43)}=`],
    ['text', 'yesterday'],
  ])('%s is malformed', (_name, value) => {
    expect(parseRecordValue(value).form).toBe('malformed');
  });
});

describe('recordMessage', () => {
  it('binds account, user ID, key ID, key creation and time, with the format version', () => {
    expect(recordMessage(SUBJECT, AT).split('\n')).toEqual([
      'keyage-deactivation-record',
      'v1',
      'account=123456789012',
      'user=AIDAALICE00000000001',
      `key=${KEY}`,
      'key-created=2026-06-01T08:00:00.000Z',
      'recorded=2026-09-01T10:00:00.000Z',
    ]);
  });

  it('refuses a subject that could make two records share a message', () => {
    expect(() => recordMessage({ ...SUBJECT, accountId: '1234' }, AT)).toThrow('account ID must be 12 digits');
    expect(() => recordMessage({ ...SUBJECT, userId: 'AIDA\nkey=X' }, AT)).toThrow('the user ID is empty or not an ID');
    expect(() => recordMessage({ ...SUBJECT, accessKeyId: 'akia' }, AT)).toThrow('is not an access key ID');
  });

  it('formats the value keyage writes', () => {
    expect(formatSignedRecordValue(AT, `${'A'.repeat(43)}=`)).toBe(`2026-09-01T10:00:00.000Z v1 ${'A'.repeat(43)}=`);
    expect(() => formatSignedRecordValue(AT, 'short')).toThrow('32 bytes');
  });
});

describe('assessRecord', () => {
  const exact = readRecordTag(`keyage:deactivated:${KEY}`)!;

  it('a record keyage signed for this key verifies', async () => {
    const signer = localRecordSigner();
    await expect(assessRecord(exact, signedRecordTag(SUBJECT, AT).Value, SUBJECT, NOW, signer)).resolves.toEqual({ status: 'verified', recordedAt: AT });
    expect(signer.verified).toEqual([recordMessage(SUBJECT, AT)]);
  });

  it.each([
    ['signed for another user', { ...SUBJECT, userId: 'AIDABOB0000000000001' }, AT],
    ['signed for another key', { ...SUBJECT, accessKeyId: 'AKIANEW0000000000002' }, AT],
    ['signed in another account', { ...SUBJECT, accountId: '210987654321' }, AT],
    ['signed for an earlier key of the same ID', { ...SUBJECT, keyCreatedAt: new Date('2025-01-01T00:00:00.000Z') }, AT],
  ])('a record %s is suspect: its MAC does not verify here', async (_name, signedFor, at) => {
    const verdict = await assessRecord(exact, signedRecordTag(signedFor, at).Value, SUBJECT, NOW, localRecordSigner());
    expect(verdict).toEqual({ status: 'suspect', reason: expect.stringContaining('its MAC does not verify') });
  });

  it('a record re-dated after signing is suspect', async () => {
    const value = signedRecordTag(SUBJECT, AT).Value.replace(AT.toISOString(), '2026-07-01T10:00:00.000Z');
    expect((await assessRecord(exact, value, SUBJECT, NOW, localRecordSigner())).status).toBe('suspect');
  });

  it('a record dated before the key was created, or in the future, is suspect without asking KMS', async () => {
    const signer = localRecordSigner();
    const before = new Date('2000-01-01T00:00:00.000Z');
    expect(await assessRecord(exact, signedRecordTag(SUBJECT, before).Value, SUBJECT, NOW, signer)).toEqual({ status: 'suspect', reason: expect.stringContaining('before the key was created') });
    expect(await assessRecord(exact, '0000-01-01T00:00:00.000Z', SUBJECT, NOW, signer)).toEqual({ status: 'suspect', reason: expect.stringContaining('before the key was created') });
    const future = new Date(NOW.getTime() + 1);
    expect(await assessRecord(exact, signedRecordTag(SUBJECT, future).Value, SUBJECT, NOW, signer)).toEqual({ status: 'suspect', reason: expect.stringContaining('in the future') });
    expect(signer.verified).toEqual([]);
  });

  it('a bare time is unsigned: it proves nothing', async () => {
    expect((await assessRecord(exact, AT.toISOString(), SUBJECT, NOW, localRecordSigner())).status).toBe('unsigned');
  });

  it('a signed record cannot be verified without a record key, or once its key is gone', async () => {
    const value = signedRecordTag(SUBJECT, AT).Value;
    expect((await assessRecord(exact, value, SUBJECT, NOW, undefined)).status).toBe('unverifiable');
    expect((await assessRecord(exact, value, undefined, NOW, localRecordSigner())).status).toBe('unverifiable');
  });

  it('a look-alike or case-variant tag key is suspect whatever its value', async () => {
    const value = signedRecordTag(SUBJECT, AT).Value;
    for (const key of [`\u212Aeyage:deactivated:${KEY}`, `KEYAGE:DEACTIVATED:${KEY}`]) {
      const verdict = await assessRecord(readRecordTag(key)!, value, SUBJECT, NOW, localRecordSigner());
      expect(verdict.status).toBe('suspect');
    }
    const lookAlike = await assessRecord(readRecordTag(`\u212Aeyage:deactivated:${KEY}`)!, value, SUBJECT, NOW, localRecordSigner());
    expect(lookAlike).toEqual({ status: 'suspect', reason: expect.stringContaining('"\\u212aeyage:deactivated:') });
  });

  it('a verification that fails is an error, not a verdict', async () => {
    const signer = { keyId: 'k', sign: async () => '', verify: () => Promise.reject(new Error('KMS throttled')) };
    await expect(assessRecord(exact, signedRecordTag(SUBJECT, AT).Value, SUBJECT, NOW, signer)).rejects.toThrow('KMS throttled');
  });
});
