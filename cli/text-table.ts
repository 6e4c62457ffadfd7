/**
 * Plain-text columns for terminals: every column padded to its widest cell except the last,
 * which runs free (it holds the sentence-long reason). No box characters, so the output reads
 * the same in a terminal, a CI log and a diff; colour only where the caller paints a cell.
 *
 * Cells come from files and AWS answers that someone else may have written (a crafted
 * credential report, a user name, an account name), so every cell, and every other line of the
 * table formats, goes through `visible`: a control character or a bidirectional override in a
 * cell is shown as an escape, never sent to the terminal to act.
 */

/**
 * Characters a terminal acts on, or that reorder or hide text: C0 controls (ESC, CR, LF, tab,
 * BEL, backspace…), DEL, C1 controls (U+0080–U+009F, among them U+009B, a one-character CSI),
 * the Unicode line and paragraph separators, the bidirectional marks (U+061C, U+200E, U+200F),
 * embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069) of "Trojan Source".
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every character in `UNSAFE` written as a visible escape: `\n`, `\r`, `\t` for
 * those three, `\xHH` below U+0100 (`\x1b`, `\x7f`, `\x9b`), `\uHHHH` above (`\u202e`).
 * Everything else, backslashes included, is kept as it is.
 */
export function visible(text: string): string {
  return text.replace(UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** How a table meets its reader. */
export interface TextTableOptions {
  /**
   * Fit every line into this many columns by cutting the last column with an ellipsis. Only the
   * last column (the reason) is ever cut: IDs, names and dates stay whole, and the last column
   * keeps at least `MIN_LAST_COLUMN` characters, however narrow the terminal.
   */
  readonly maxWidth?: number;
  /** Decorate a body cell (colour); padding is reckoned on the plain text. */
  readonly paint?: (cell: string, column: number) => string;
}

/** The fewest characters of the last column kept when a table is fitted to a width. */
export const MIN_LAST_COLUMN = 20;

const GAP = '  ';
const ELLIPSIS = '…';

/** Characters as a terminal counts them (code points, not UTF-16 units). */
function length(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** `text` cut to `room` characters, the last of them an ellipsis. */
function cut(text: string, room: number): string {
  if (length(text) <= room) return text;
  const chars = [...text];
  return `${chars.slice(0, Math.max(room - 1, 0)).join('').trimEnd()}${ELLIPSIS}`;
}

/**
 * The table, one line per row after the header. Cells are made `visible` first, so widths are
 * those of what is printed. Built with loops, not spreads into calls, so that any number of rows
 * fits (`Math.max(...column)` overflows the call stack at about 120,000 rows).
 */
export function textTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, options: TextTableOptions = {}): string {
  const shownHeaders = headers.map(visible);
  const shown = rows.map((r) => r.map(visible));
  const widths = shownHeaders.map(length);
  for (const row of shown) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i] ?? 0, length(row[i] ?? ''));
  }
  const last = headers.length - 1;
  const fixed = widths.slice(0, last).reduce((sum, w) => sum + w + GAP.length, 0);
  const room = options.maxWidth === undefined ? Number.POSITIVE_INFINITY : Math.max(options.maxWidth - fixed, MIN_LAST_COLUMN);
  const paint = options.paint;
  const line = (cells: readonly string[], body: boolean) =>
    cells
      .map((c, i) => {
        const text = i === last ? cut(c, room) : c;
        const painted = body && paint ? paint(text, i) : text;
        return i === last ? painted : `${painted}${' '.repeat(Math.max((widths[i] ?? 0) - length(text), 0))}`;
      })
      .join(GAP)
      .trimEnd();
  const lines = [line(shownHeaders, false)];
  for (const row of shown) lines.push(line(row, true));
  return lines.join('\n');
}
