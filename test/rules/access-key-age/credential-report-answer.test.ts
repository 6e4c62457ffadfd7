/**
 * GetCredentialReport's answer read without the SDK's XML parser over `Content`
 * (`credential-report-answer.ts`), against the SDK's own parse of the very same HTTP answer.
 *
 * A real IAMClient runs its whole middleware stack (serializer, signer, retry, the SDK's own
 * deserializer); only the HTTP exchange is replaced, by a middleware at the bottom of the stack
 * that answers with the raw bytes IAM would send. Each answer is read twice, once by a plain
 * GetCredentialReportCommand (the SDK alone) and once by `getCredentialReportCommand()`.
 */
import { Readable } from 'node:stream';
import {
  CredentialReportExpiredException,
  CredentialReportNotPresentException,
  CredentialReportNotReadyException,
  GetCredentialReportCommand,
  IAMClient,
  IAMServiceException,
  ListUsersCommand,
} from '@aws-sdk/client-iam';
import { AwsCaller } from '../../../lib/aws-call';
import { AwsCallError, UnexpectedResponseError } from '../../../lib/errors';
import { createLogger } from '../../../lib/log';
import { cutContent, getCredentialReportCommand } from '../../../rules/access-key-age/credential-report-answer';
import { readCredentialReport } from '../../../rules/access-key-age/iam';
import { credentialReportCsv, type ReportUserSpec } from '../../harness/credential-report';

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const GENERATED = '2026-11-25T11:42:50Z';

/** An HTTP answer as IAM sends it. */
interface Answer {
  readonly statusCode: number;
  readonly body: string;
  /** Deliver the body as a stream of chunks of this many bytes (Node's HTTP answer is a stream). @default the whole body at once */
  readonly chunkBytes?: number;
}

/** What the SDK's deserializer was handed, seen after the call. */
interface Delivered {
  readonly commandName: string;
  readonly response: { statusCode: number; headers: Record<string, string>; body: unknown };
}

/** A real IAMClient whose HTTP exchange answers `answer(commandName, attempt)`. */
function answeringClient(answer: (commandName: string, attempt: number) => Answer, maxAttempts = 1): { iam: IAMClient; delivered: Delivered[] } {
  const iam = new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' }, maxAttempts });
  const delivered: Delivered[] = [];
  const attempts = new Map<string, number>();
  const http = (_next: unknown, context: { commandName: string }) => async () => {
    const attempt = (attempts.get(context.commandName) ?? 0) + 1;
    attempts.set(context.commandName, attempt);
    const a = answer(context.commandName, attempt);
    const bytes = Buffer.from(a.body, 'utf8');
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += a.chunkBytes ?? bytes.length) chunks.push(bytes.subarray(i, i + (a.chunkBytes ?? bytes.length)));
    const response = { statusCode: a.statusCode, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': '29f47818-EXAMPLE' }, body: Readable.from(chunks) };
    delivered.push({ commandName: context.commandName, response });
    return { response };
  };
  (iam.middlewareStack as unknown as { add(mw: unknown, o: object): void }).add(http, { step: 'deserialize', priority: 'low', name: 'answerAsIam' });
  return { iam, delivered };
}

/** GetCredentialReport's answer in the shape IAM documents (indented, namespaced). */
function reportAnswer(content: string, options: { generatedFirst?: boolean; reportFormat?: boolean; newline?: string } = {}): string {
  const nl = options.newline ?? '\n';
  const c = `    <Content>${content}</Content>${nl}`;
  const f = options.reportFormat === false ? '' : `    <ReportFormat>text/csv</ReportFormat>${nl}`;
  const g = `    <GeneratedTime>${GENERATED}</GeneratedTime>${nl}`;
  return (
    `<GetCredentialReportResponse xmlns="${XMLNS}">${nl}  <GetCredentialReportResult>${nl}` +
    (options.generatedFirst ? g + c + f : c + f + g) +
    `  </GetCredentialReportResult>${nl}  <ResponseMetadata>${nl}    <RequestId>29f47818-99f5-11e1-a4c3-27EXAMPLE804</RequestId>${nl}  </ResponseMetadata>${nl}</GetCredentialReportResponse>${nl}`
  );
}

function errorAnswer(statusCode: number, code: string, message: string, type = 'Sender'): Answer {
  return {
    statusCode,
    body: `<ErrorResponse xmlns="${XMLNS}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${code}</Code>\n    <Message>${message}</Message>\n  </Error>\n  <RequestId>1a2b3c4d-EXAMPLE</RequestId>\n</ErrorResponse>\n`,
  };
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function users(n: number): ReportUserSpec[] {
  const created = new Date('2024-03-01T10:00:00Z');
  return Array.from({ length: n }, (_, i) => ({
    user: `user-${String(i).padStart(4, '0')}${i % 7 === 0 ? '+ops=x.y@z_w-v' : ''}`,
    created,
    keys: i % 10 === 0 ? [] : [{ active: true, lastRotated: new Date(created.getTime() + i * 60_000), lastUsed: i % 3 ? new Date('2026-11-01T09:00:00Z') : null }, ...(i % 5 === 0 ? [{ active: false, lastRotated: created }] : [])],
  })) as ReportUserSpec[];
}

/** Send `command` and give back what it resolved to or what it threw. */
async function outcome(iam: IAMClient, command: GetCredentialReportCommand): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await iam.send(command) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The same answer through the SDK alone and through the lean reader. */
async function bothWays(answer: Answer) {
  const { iam, delivered } = answeringClient(() => answer);
  const sdk = await outcome(iam, new GetCredentialReportCommand({}));
  const lean = await outcome(iam, getCredentialReportCommand());
  iam.destroy();
  return { sdk, lean, delivered };
}

/** An SDK error as a plain record: everything a caller can read from it. */
function errorRecord(err: unknown): Record<string, unknown> {
  const e = err as Error & Record<string, unknown>;
  return { ...e, name: e.name, message: e.message, constructor: e.constructor };
}

describe('getCredentialReportCommand: a 2xx answer reads as the SDK reads it', () => {
  it.each<[string, string, Omit<Answer, 'statusCode' | 'body'> & Parameters<typeof reportAnswer>[1]]>([
    ['a report of the root row only', credentialReportCsv([]), {}],
    ['a report of 12 users with 0, 1 and 2 keys', credentialReportCsv(users(12)), {}],
    ['a report of 5,000 users (IAM’s quota), streamed in 64 KiB chunks', credentialReportCsv(users(5000)), { chunkBytes: 65_536 }],
    ['a report streamed 7 bytes at a time (chunks split inside the tags)', credentialReportCsv(users(3)), { chunkBytes: 7 }],
    ['GeneratedTime before Content, no ReportFormat', credentialReportCsv(users(3)), { generatedFirst: true, reportFormat: false }],
    ['CRLF line ends between the elements', credentialReportCsv(users(3)), { newline: '\r\n' }],
  ])('%s', async (_name, csv, options) => {
    const { sdk, lean } = await bothWays({ statusCode: 200, body: reportAnswer(base64(csv), options), ...(options.chunkBytes ? { chunkBytes: options.chunkBytes } : {}) });
    expect(sdk.ok).toBe(true);
    expect(lean).toStrictEqual(sdk);
    const value = (lean as { value: { Content: Uint8Array; GeneratedTime: Date } }).value;
    expect(value.Content).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(value.Content).toString('utf8')).toBe(csv);
    expect(value.GeneratedTime).toEqual(new Date(GENERATED));
  });

  it('hands the SDK’s parser the answer with Content emptied, never the report itself', async () => {
    const csv = credentialReportCsv(users(200));
    const { delivered } = await bothWays({ statusCode: 200, body: reportAnswer(base64(csv)) });
    const [plain, lean] = delivered;
    expect(plain?.response.body).toBeInstanceOf(Readable); // the SDK read the stream itself
    const handedOn = Buffer.from(lean?.response.body as Uint8Array).toString('utf8');
    expect(handedOn).toContain('<Content></Content>');
    expect(handedOn).toContain(`<GeneratedTime>${GENERATED}</GeneratedTime>`);
    expect(handedOn.length).toBeLessThan(1024);
  });

  it.each<[string, string]>([
    ['an empty <Content></Content>', reportAnswer('')],
    ['a self-closed <Content/>', reportAnswer('').replace('<Content></Content>', '<Content/>')],
    ['no Content element at all', reportAnswer('').replace('    <Content></Content>\n', '')],
    ['Content in CDATA', reportAnswer(`<![CDATA[${base64('user,arn\n')}]]>`)],
    ['Content with a character reference', reportAnswer('QUI&#x3D;')],
  ])('%s is left to the SDK’s parser and reads exactly as the SDK reads it', async (_name, body) => {
    const { sdk, lean } = await bothWays({ statusCode: 200, body });
    expect(sdk.ok).toBe(true);
    expect(lean).toStrictEqual(sdk);
  });

  it('a retried attempt reads its own answer: a 503, then the report', async () => {
    const csv = credentialReportCsv(users(5));
    const answer = (_c: string, attempt: number): Answer =>
      attempt % 2 === 1 ? errorAnswer(503, 'ServiceUnavailable', 'try again', 'Receiver') : { statusCode: 200, body: reportAnswer(base64(csv)) };
    const sdkClient = answeringClient(answer, 2);
    const leanClient = answeringClient(answer, 2);
    const sdk = await sdkClient.iam.send(new GetCredentialReportCommand({}));
    const lean = await leanClient.iam.send(getCredentialReportCommand());
    expect(lean.$metadata.attempts).toBe(2);
    // the SDK's backoff before the second attempt is random
    const withoutDelay = <T extends { $metadata: object }>(o: T) => ({ ...o, $metadata: { ...o.$metadata, totalRetryDelay: 0 } });
    expect(withoutDelay(lean)).toStrictEqual(withoutDelay(sdk));
  });

  it('every other command, and a plain GetCredentialReportCommand, stays on the SDK alone', async () => {
    const { iam, delivered } = answeringClient((name) =>
      name === 'ListUsersCommand'
        ? {
            statusCode: 200,
            body: `<ListUsersResponse xmlns="${XMLNS}"><ListUsersResult><Users><member><UserName>alice</UserName><UserId>AIDAEXAMPLE</UserId><Arn>arn:aws:iam::123456789012:user/alice</Arn><Path>/</Path><CreateDate>2024-03-01T10:00:00Z</CreateDate></member></Users><IsTruncated>false</IsTruncated></ListUsersResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListUsersResponse>`,
          }
        : { statusCode: 200, body: reportAnswer(base64('user,arn\n')) },
    );
    await iam.send(getCredentialReportCommand());
    const listed = await iam.send(new ListUsersCommand({}));
    await iam.send(new GetCredentialReportCommand({}));
    expect(listed.Users?.map((u) => u.UserName)).toEqual(['alice']);
    expect(delivered.map((d) => [d.commandName, d.response.body instanceof Readable])).toEqual([
      ['GetCredentialReportCommand', false],
      ['ListUsersCommand', true],
      ['GetCredentialReportCommand', true],
    ]);
  });
});

describe('getCredentialReportCommand: an error answer is the SDK’s own error', () => {
  it.each<[string, Answer, new (...args: never[]) => IAMServiceException]>([
    ['ReportNotPresent (410)', errorAnswer(410, 'ReportNotPresent', 'Credential report not present.'), CredentialReportNotPresentException],
    ['ReportExpired (410)', errorAnswer(410, 'ReportExpired', 'Credential report expired.'), CredentialReportExpiredException],
    ['ReportInProgress (404)', errorAnswer(404, 'ReportInProgress', 'Credential report is being generated.'), CredentialReportNotReadyException],
    ['Throttling (400)', errorAnswer(400, 'Throttling', 'Rate exceeded'), IAMServiceException],
    ['AccessDenied (403)', errorAnswer(403, 'AccessDenied', 'User is not authorized to perform: iam:GetCredentialReport'), IAMServiceException],
    ['ServiceFailure (500)', errorAnswer(500, 'ServiceFailure', 'Service failure', 'Receiver'), IAMServiceException],
    ['a 404 with no body', { statusCode: 404, body: '' }, IAMServiceException],
  ])('%s', async (_name, answer, ctor) => {
    const { sdk, lean } = await bothWays(answer);
    expect(sdk.ok).toBe(false);
    expect(lean.ok).toBe(false);
    const [s, l] = [(sdk as { error: unknown }).error, (lean as { error: unknown }).error];
    expect(l).toBeInstanceOf(ctor);
    expect(errorRecord(l)).toStrictEqual(errorRecord(s));
    expect((l as IAMServiceException).$metadata.httpStatusCode).toBe(answer.statusCode);
  });
});

describe('getCredentialReportCommand: a malformed 2xx answer is a clear error', () => {
  const good = base64(credentialReportCsv(users(3)));
  it.each<[string, string, RegExp]>([
    ['cut short inside Content', reportAnswer(good).slice(0, 200), /<Content> element is never closed/],
    ['a line break inside the base64', reportAnswer(`${good.slice(0, 76)}\n${good.slice(76)}`), /not base64: byte 0x0a at character 77 of/],
    ['a character outside base64', reportAnswer(`${good.slice(0, 8)}*${good.slice(9)}`), /not base64: "\*" at character 9 of/],
    ['a length that is not a multiple of 4', reportAnswer(good.slice(0, -1)), /characters, not a multiple of 4/],
    ['three "=" of padding', reportAnswer('QQ==='), /ends in 3 "="/],
    ['"=" before the end', reportAnswer('QQ==QUJD'), /not base64: "Q" after "=" at character 5 of 8/],
    ['two Content elements', reportAnswer(good).replace('<ReportFormat>', `<Content>${good}</Content><ReportFormat>`), /more than one <Content> element/],
    ['Content outside GetCredentialReportResult', `<GetCredentialReportResponse xmlns="${XMLNS}"><Content>${good}</Content></GetCredentialReportResponse>`, /not inside <GetCredentialReportResult>/],
  ])('%s', async (_name, body, message) => {
    const { lean } = await bothWays({ statusCode: 200, body });
    expect(lean.ok).toBe(false);
    const error = (lean as { error: unknown }).error;
    expect(error).toBeInstanceOf(UnexpectedResponseError);
    expect((error as Error).message).toMatch(/^Unexpected answer from iam:GetCredentialReport: /);
    expect((error as Error).message).toMatch(message);
  });
});

describe('cutContent', () => {
  it('returns the decoded report and the answer with the element emptied, byte for byte', () => {
    const body = Buffer.from(reportAnswer(base64('user,arn\nalice,x\n')));
    const cut = cutContent(body);
    expect(Buffer.from(cut?.content ?? []).toString('utf8')).toBe('user,arn\nalice,x\n');
    expect(cut?.rest.toString('utf8')).toBe(reportAnswer(''));
  });

  it('reads a Uint8Array that is a view into a larger buffer', () => {
    const body = Buffer.from(`garbage${reportAnswer(base64('user,arn\n'))}garbage`);
    const view = new Uint8Array(body.buffer, body.byteOffset + 7, body.byteLength - 14);
    expect(Buffer.from(cutContent(view)?.content ?? []).toString('utf8')).toBe('user,arn\n');
  });
});

describe('readCredentialReport reads the report through getCredentialReportCommand', () => {
  const generated = { statusCode: 200, body: `<GenerateCredentialReportResponse xmlns="${XMLNS}"><GenerateCredentialReportResult><State>COMPLETE</State></GenerateCredentialReportResult><ResponseMetadata><RequestId>g</RequestId></ResponseMetadata></GenerateCredentialReportResponse>` };
  const reader = (iam: IAMClient) => ({ iam, caller: new AwsCaller({ sleep: async () => undefined }), log: createLogger({ level: 'error', sink: () => undefined }) });
  const options = { wallClock: () => new Date(GENERATED), sleep: async () => undefined };

  it('a real-shaped answer gives every user of the report, and the SDK’s parser never sees the report', async () => {
    const { iam, delivered } = answeringClient((name) => (name === 'GenerateCredentialReportCommand' ? generated : { statusCode: 200, body: reportAnswer(base64(credentialReportCsv(users(40)))) }));
    const got = await readCredentialReport(reader(iam), options);
    expect(got.kind).toBe('report');
    expect(got.kind === 'report' && got.report.users.map((u) => u.user)).toEqual(users(40).map((u) => u.user));
    expect(got.kind === 'report' && got.generatedAt).toEqual(new Date(GENERATED));
    const answer = delivered.find((d) => d.commandName === 'GetCredentialReportCommand');
    expect(Buffer.from(answer?.response.body as Uint8Array).toString('utf8')).toContain('<Content></Content>');
  });

  it('a malformed answer fails the call with the reason, never an empty report', async () => {
    const { iam } = answeringClient((name) => (name === 'GenerateCredentialReportCommand' ? generated : { statusCode: 200, body: reportAnswer('QQ==QUJD') }));
    const error = await readCredentialReport(reader(iam), options).then(
      (r) => r,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AwsCallError);
    expect((error as AwsCallError).cause).toBeInstanceOf(UnexpectedResponseError);
    expect((error as Error).message).toMatch(/^iam:GetCredentialReport failed after 1 attempt: Unexpected answer from iam:GetCredentialReport: its Content is not base64/);
  });

  it('an empty Content is an unavailable report (the sweep then reads every user live), not a report of no users', async () => {
    const { iam } = answeringClient((name) => (name === 'GenerateCredentialReportCommand' ? generated : { statusCode: 200, body: reportAnswer('') }));
    expect(await readCredentialReport(reader(iam), options)).toEqual({ kind: 'unavailable', reason: 'Invalid credential report at line 1, column 1: the report is empty' });
  });
});
