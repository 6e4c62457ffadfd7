/**
 * Reading the file a command is given: a path, or `-` for standard input. A file that cannot
 * be read is an input error (exit 2) naming the file and the reason.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CredentialReportError, KeyageError } from '../lib/errors';

/** An input file named on the command line cannot be read. */
export class InputFileError extends KeyageError {
  constructor(
    public readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('InputFileUnreadable', `cannot read ${file}: ${reason}`, options);
  }
}

/**
 * The bytes of `file` (relative to `cwd`), or of standard input when `file` is `-`.
 * @throws InputFileError when the file is missing, a directory, or unreadable.
 */
export async function readInputFile(file: string, cwd: string, readStdin: () => Promise<Buffer>): Promise<Buffer> {
  if (file === '-') return readStdin();
  try {
    return await readFile(resolve(cwd, file));
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new InputFileError(file, reason, { cause: err });
  }
}

/** All of standard input. */
export async function readProcessStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/**
 * A file was read but its content is not valid. The message names the file, then the line and
 * column (the CSV column, 1-based) when known: `FILE (line 3, column 10): invalid credential
 * report: …`.
 */
export class InvalidInputFileError extends KeyageError {
  public readonly line?: number;
  public readonly column?: number;

  constructor(
    public readonly file: string,
    cause: CredentialReportError,
  ) {
    const line = cause.line;
    const column = cause.column ?? csvParserColumn(cause.cause);
    const where = line !== undefined ? ` (line ${line}${column !== undefined ? `, column ${column}` : ''})` : '';
    let detail = cause.message.replace(/^Invalid credential report( at line \d+(, column \d+)?)?: /, '');
    if (detail.startsWith(`${file}: `)) detail = detail.slice(file.length + 2);
    detail = detail.split(file).join('the file');
    super(cause.code, `${file}${where}: invalid credential report: ${detail}`, { cause });
    if (line !== undefined) this.line = line;
    if (column !== undefined) this.column = column;
  }
}

/** csv-parse reports the 0-based field where a record went wrong (a short record, an open quote). */
function csvParserColumn(err: unknown): number | undefined {
  const column = (err as { column?: unknown } | undefined)?.column;
  return typeof column === 'number' && Number.isInteger(column) && column >= 0 ? column + 1 : undefined;
}

/** Run `parse`, naming `file` in any credential-report error it throws. */
export function withFileName<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof CredentialReportError) throw new InvalidInputFileError(file, err);
    throw err;
  }
}
