/**
 * GetCredentialReport's answer, read without running the SDK's XML parser over its one large
 * field.
 *
 * IAM sends the report base64 in `<Content>`: about 1.9 MB for 5,000 users. The SDK installed
 * here parses XML with its own parser (`@aws-sdk/xml-builder`), which builds a text node one
 * character at a time, so during the parse `Content` is about 1.9 million string pieces, some
 * 60 MB (BENCHMARKS.md, "Memory"). That alone put a 5,000-user sweep over a 128 MB Lambda.
 *
 * So this one command carries two small middlewares around the SDK's own deserializer:
 *   - inside it, on a 2xx answer, the raw body is read once, the `<Content>` element is found
 *     with a linear byte scan (`indexOf`, no regular expression), its base64 is checked and
 *     decoded, and the body is handed on with that element emptied;
 *   - the SDK's deserializer then parses what is left (GeneratedTime, ReportFormat,
 *     ResponseMetadata, `$metadata`) into its own output shape, exactly as for any answer;
 *   - around it, the decoded bytes are put back as `Content` (a `Uint8Array`, as the SDK gives).
 * Error answers (non-2xx: ReportNotPresent, ReportExpired, ReportInProgress, throttling, …) are
 * not touched at all: the SDK's error deserializer makes them. Every other command, and every
 * other client, stays on the SDK as it is.
 *
 * A 2xx body whose `<Content>` is not closed, not base64, repeated or outside the result is an
 * `UnexpectedResponseError` that says which; it never becomes an empty report.
 */
import { GetCredentialReportCommand } from '@aws-sdk/client-iam';
import { UnexpectedResponseError } from '../../lib/errors';

const OPERATION = 'iam:GetCredentialReport';
const CONTENT_OPEN = Buffer.from('<Content>');
const CONTENT_CLOSE = Buffer.from('</Content>');
const RESULT_OPEN = Buffer.from('<GetCredentialReportResult>');
const RESULT_CLOSE = Buffer.from('</GetCredentialReportResult>');
const AMPERSAND = 0x26;
const LESS_THAN = 0x3c;
const EQUALS = 0x3d;

/** Where the decoded Content waits, on the context of one `send`, between the two middlewares. */
const DECODED = Symbol('keyage.credentialReportContent');

/** The SDK's own deserializer, which the two middlewares sit inside and around. */
const SDK_DESERIALIZER = 'deserializerMiddleware';

interface HttpResponseLike {
  statusCode: number;
  body?: unknown;
}
type Args = { input: unknown; request?: unknown };
type Out = { response?: unknown; output?: unknown };
type Middleware = (next: (args: Args) => Promise<Out>, context: Record<string | symbol, unknown>) => (args: Args) => Promise<Out>;
interface RelativeStack {
  addRelativeTo(middleware: Middleware, options: { relation: 'before' | 'after'; toMiddleware: string; name: string }): void;
}

/** A GetCredentialReport command whose 2xx answer has its `Content` read by {@link cutContent}; send it like any other. */
export function getCredentialReportCommand(): GetCredentialReportCommand {
  const command = new GetCredentialReportCommand({});
  const stack = command.middlewareStack as unknown as RelativeStack;
  stack.addRelativeTo(readContent, { relation: 'after', toMiddleware: SDK_DESERIALIZER, name: 'keyageCredentialReportReadContent' });
  stack.addRelativeTo(restoreContent, { relation: 'before', toMiddleware: SDK_DESERIALIZER, name: 'keyageCredentialReportRestoreContent' });
  return command;
}

/** Inside the SDK's deserializer, next to the HTTP answer: takes `Content` out of a 2xx body. */
const readContent: Middleware = (next, context) => async (args) => {
  delete context[DECODED]; // a retried attempt starts clean
  const out = await next(args);
  const response = out.response as HttpResponseLike | undefined;
  if (!response || response.statusCode < 200 || response.statusCode >= 300) return out;
  const body = await readBody(response.body);
  if (body === undefined) return out; // a body of a kind this code does not know: the SDK reads it
  const cut = cutContent(body);
  response.body = cut ? cut.rest : body;
  if (cut) context[DECODED] = cut.content;
  return out;
};

/** Around the SDK's deserializer: puts the decoded `Content` into the SDK's output. */
const restoreContent: Middleware = (next, context) => async (args) => {
  const out = await next(args);
  const decoded = context[DECODED];
  delete context[DECODED];
  if (decoded instanceof Uint8Array && out.output && typeof out.output === 'object') (out.output as { Content?: Uint8Array }).Content = decoded;
  return out;
};

/** The whole body as bytes: Node's HTTP answer is a stream of Buffers; tests may give bytes or text. */
async function readBody(body: unknown): Promise<Uint8Array | undefined> {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<unknown>) {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk, 'utf8'));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      else throw new UnexpectedResponseError(OPERATION, `the answer's body streamed a ${typeof chunk}, not bytes`);
    }
    return Buffer.concat(chunks);
  }
  return undefined;
}

/**
 * Cut the `<Content>` element out of a GetCredentialReport answer (the XML bytes): returns the
 * decoded report bytes and the answer with that element emptied (`<Content></Content>`), or
 * `undefined` when the answer has no `<Content>` element or one holding XML markup or entities
 * (CDATA, `&…;`) — those the SDK's parser reads, as it came.
 * @throws UnexpectedResponseError when the element is not closed, repeated, outside
 *   `<GetCredentialReportResult>`, or not base64 as the SDK accepts it (`[A-Za-z0-9+/]*={0,2}`,
 *   a multiple of 4 characters, no whitespace).
 */
export function cutContent(body: Uint8Array): { content: Uint8Array; rest: Buffer } | undefined {
  const xml = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const open = xml.indexOf(CONTENT_OPEN);
  if (open === -1) return undefined;
  const start = open + CONTENT_OPEN.length;
  const end = xml.indexOf(CONTENT_CLOSE, start);
  if (end === -1) throw malformed('its <Content> element is never closed (no </Content>): the answer is cut short or is not XML');
  if (xml.indexOf(CONTENT_OPEN, end) !== -1) throw malformed('it has more than one <Content> element');
  const resultOpen = xml.indexOf(RESULT_OPEN);
  if (resultOpen === -1 || resultOpen > open || xml.indexOf(RESULT_CLOSE, end) === -1) {
    throw malformed('its <Content> element is not inside <GetCredentialReportResult>…</GetCredentialReportResult>');
  }
  const text = xml.subarray(start, end);
  if (text.includes(LESS_THAN) || text.includes(AMPERSAND)) return undefined;
  checkBase64(text);
  const decoded = Buffer.from(text.toString('latin1'), 'base64');
  return {
    // the SDK's own shape: a plain Uint8Array over the decoded bytes
    content: new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength),
    rest: Buffer.concat([xml.subarray(0, start), xml.subarray(end)]),
  };
}

/** Base64 as the SDK's `fromBase64` accepts it, checked byte by byte. */
function checkBase64(text: Buffer): void {
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as number;
    if (c === EQUALS) {
      padding++;
      continue;
    }
    if (padding > 0 || !isBase64Letter(c)) {
      const what = padding > 0 ? `${describeByte(c)} after "="` : describeByte(c);
      throw malformed(`its Content is not base64: ${what} at character ${i + 1} of ${text.length}`);
    }
  }
  if (padding > 2) throw malformed(`its Content is not base64: it ends in ${padding} "=", at most 2 are allowed`);
  if (text.length % 4 !== 0) throw malformed(`its Content is not base64: ${text.length} characters, not a multiple of 4`);
}

function isBase64Letter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

function describeByte(c: number): string {
  return c > 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

function malformed(problem: string): UnexpectedResponseError {
  return new UnexpectedResponseError(OPERATION, problem);
}
