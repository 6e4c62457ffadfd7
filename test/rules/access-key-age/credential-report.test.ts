import { CredentialReportError } from '../../../lib/errors';
import { decodeCredentialReport, parseCredentialReport, reportRowKeys } from '../../../rules/access-key-age/credential-report';
import { credentialReportCsv, REPORT_HEADER } from '../../harness/credential-report';

const created = new Date('2025-01-01T00:00:00Z');

describe('parseCredentialReport', () => {
  const csv = credentialReportCsv([
    { user: 'none', created },
    { user: 'one', created, keys: [{ active: true, lastRotated: new Date('2026-01-01T00:00:00Z'), lastUsed: new Date('2026-11-01T10:00:00Z') }] },
    { user: 'two', created, keys: [{ active: false, lastRotated: new Date('2025-02-01T00:00:00Z') }, { active: true, lastRotated: new Date('2026-10-01T00:00:00Z'), lastUsed: null }] },
  ]);

  it('separates the <root_account> row from IAM users', () => {
    const report = parseCredentialReport(csv);
    expect(report.root?.user).toBe('<root_account>');
    expect(report.users.map((u) => u.user)).toEqual(['none', 'one', 'two']);
  });

  it('reads each key slot that holds a key, with N/A as "no key" and "never used"', () => {
    const report = parseCredentialReport(csv);
    const [none, one, two] = report.users;
    expect(none?.keys).toEqual([]);
    expect(one?.keys).toEqual([{ slot: 1, active: true, lastRotated: new Date('2026-01-01T00:00:00Z'), lastUsedAt: new Date('2026-11-01T10:00:00Z'), lastUsedRegion: 'us-east-1', lastUsedService: 's3' }]);
    expect(two?.keys.map((k) => [k.slot, k.active, k.lastUsedAt])).toEqual([
      [1, false, null],
      [2, true, null],
    ]);
    expect(reportRowKeys(two!)).toEqual([
      { slot: 1, status: 'Inactive', createdAt: new Date('2025-02-01T00:00:00Z'), lastUsedAt: null },
      { slot: 2, status: 'Active', createdAt: new Date('2026-10-01T00:00:00Z'), lastUsedAt: null },
    ]);
  });

  it('handles quoted fields with the CSV library, not by splitting on commas', () => {
    const quoted = csv.replace('arn:aws:iam::123456789012:user/one', '"arn:aws:iam::123456789012:user/one"');
    expect(parseCredentialReport(quoted).users[1]?.arn).toBe('arn:aws:iam::123456789012:user/one');
  });

  it.each<[string, string, RegExp]>([
    ['an empty file', '', /line 1, column 1: the report is empty/],
    ['a header without key columns', 'user,arn\nalice,arn:x\n', /line 1: missing column\(s\) user_creation_time, access_key_1_active/],
    ['a truncated row', `${REPORT_HEADER}\nalice,arn:aws:iam::1:user/alice,2025-01-01T00:00:00+00:00,false`, /at line 2, column 5: not valid CSV .*expect 22, got 4/],
    ['a bad date', csv.replace('2026-01-01T00:00:00+00:00', '2026-13-45'), /line 4, column 10: access_key_1_last_rotated is "2026-13-45"; expected an ISO 8601 date-time or N\/A/],
    ['a bad boolean', csv.replace(/\none,([^,]*),([^,]*),false,N\/A,N\/A,N\/A,false,true/, '\none,$1,$2,false,N/A,N/A,N/A,false,yes'), /line 4, column 9: access_key_1_active is "yes"; expected true or false/],
    ['binary junk', '\u0000\u0001\u0002PK\u0003\u0004', /binary data, not CSV text/],
    ['an active key without a rotation date', csv.replace(/\ntwo,([^,]*),([^,]*),false,N\/A,N\/A,N\/A,false,false,2025-02-01T00:00:00\+00:00/, '\ntwo,$1,$2,false,N/A,N/A,N/A,false,true,N/A'), /line 5.*access_key_1_active is true but access_key_1_last_rotated is N\/A/],
  ])('rejects %s with a CredentialReportError naming where', (_name, text, message) => {
    expect(() => parseCredentialReport(text)).toThrow(CredentialReportError);
    expect(() => parseCredentialReport(text)).toThrow(message);
  });
});

describe('decodeCredentialReport', () => {
  const csv = credentialReportCsv([{ user: 'alice', created, keys: [{ active: true, lastRotated: created }] }]);

  it('accepts the raw CSV, the base64 Content and the JSON output of aws iam get-credential-report alike', () => {
    const b64 = Buffer.from(csv).toString('base64');
    const json = JSON.stringify({ Content: b64, ReportFormat: 'text/csv', GeneratedTime: '2026-11-25T10:00:00+00:00' });
    const reports = [decodeCredentialReport(csv), decodeCredentialReport(b64), decodeCredentialReport(Buffer.from(json))];
    for (const r of reports) expect(r.users.map((u) => u.user)).toEqual(['alice']);
    expect(reports[2]?.generatedAt).toEqual(new Date('2026-11-25T10:00:00Z'));
  });

  it('names the source in errors', () => {
    expect(() => decodeCredentialReport('{"Content": 5}', 'report.json')).toThrow(/report.json is JSON without a "Content" string/);
    expect(() => decodeCredentialReport('{"Content": "@@@"}', 'report.json')).toThrow(/report.json: "Content" is not valid base64/);
    expect(() => decodeCredentialReport('{nope', 'report.json')).toThrow(/report.json looks like JSON but is not valid JSON/);
    expect(() => decodeCredentialReport(Buffer.alloc(0), 'empty.csv')).toThrow(/empty.csv is empty/);
  });
});
