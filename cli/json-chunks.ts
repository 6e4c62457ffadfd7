/**
 * Output of any size. A string holds at most about 512 million characters in Node, and the ASFF
 * findings of 100,000 users are larger than that (each finding is about 3 KB): built as one
 * string, the output fails with "Invalid string length". So the JSON formats are produced as a
 * sequence of pieces, element by element of their big arrays, and written in batches.
 */

/**
 * `JSON.stringify(value, null, 2)` as a sequence of pieces that join to exactly that text. Objects
 * and arrays down to `depth` levels are opened one member at a time; deeper values are each
 * stringified whole (a user, a finding: small). Plain data only, as the reports are: no `toJSON`
 * below the top levels is honoured beyond what `JSON.stringify` does for the values it is given.
 * @param indent the indentation of the line `value` starts on.
 */
export function* jsonChunks(value: unknown, depth: number, indent = ''): Generator<string> {
  if (depth <= 0 || value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    const text = JSON.stringify(value, null, 2) ?? 'null';
    yield indent === '' ? text : text.replace(/\n/g, `\n${indent}`);
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield '[]';
      return;
    }
    yield '[\n';
    for (let i = 0; i < value.length; i++) {
      yield inner;
      const item: unknown = value[i];
      // JSON.stringify writes null for what it cannot write in an array.
      yield* jsonChunks(item === undefined || typeof item === 'function' || typeof item === 'symbol' ? null : item, depth - 1, inner);
      yield i < value.length - 1 ? ',\n' : '\n';
    }
    yield `${indent}]`;
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
  if (entries.length === 0) {
    yield '{}';
    return;
  }
  yield '{\n';
  for (let i = 0; i < entries.length; i++) {
    const [key, member] = entries[i] as [string, unknown];
    yield `${inner}${JSON.stringify(key)}: `;
    yield* jsonChunks(member, depth - 1, inner);
    yield i < entries.length - 1 ? ',\n' : '\n';
  }
  yield `${indent}}`;
}

/** The most characters `writeChunked` gathers before it writes. */
export const WRITE_BATCH_CHARS = 1 << 20;

/**
 * Write `chunks` through `write` in batches of about `WRITE_BATCH_CHARS` characters (a piece
 * larger than that is written on its own), so that neither one huge string nor millions of tiny
 * writes are made.
 */
export function writeChunked(write: (text: string) => void, chunks: Iterable<string>, batchChars = WRITE_BATCH_CHARS): void {
  let pending: string[] = [];
  let size = 0;
  for (const chunk of chunks) {
    if (size + chunk.length > batchChars && pending.length > 0) {
      write(pending.join(''));
      pending = [];
      size = 0;
    }
    pending.push(chunk);
    size += chunk.length;
  }
  if (pending.length > 0) write(pending.join(''));
}
