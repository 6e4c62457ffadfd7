/**
 * Plain-text columns for terminals: every column padded to its widest cell except the last,
 * which runs free (it holds the sentence-long reason). No box characters, so the output reads
 * the same in a terminal, a CI log and a diff; colour only where the caller paints a cell.
 */

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
  return [...text].length;
}

/** `text` cut to `room` characters, the last of them an ellipsis. */
function cut(text: string, room: number): string {
  const chars = [...text];
  return chars.length <= room ? text : `${chars.slice(0, Math.max(room - 1, 0)).join('').trimEnd()}${ELLIPSIS}`;
}

export function textTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, options: TextTableOptions = {}): string {
  const widths = headers.map((h, i) => Math.max(length(h), ...rows.map((r) => length(r[i] ?? ''))));
  const last = headers.length - 1;
  const fixed = widths.slice(0, last).reduce((sum, w) => sum + w + GAP.length, 0);
  const room = options.maxWidth === undefined ? Number.POSITIVE_INFINITY : Math.max(options.maxWidth - fixed, MIN_LAST_COLUMN);
  const paint = options.paint;
  const line = (cells: readonly string[], body: boolean) =>
    cells
      .map((c, i) => {
        const text = i === last ? cut(c, room) : c;
        const shown = body && paint ? paint(text, i) : text;
        return i === last ? shown : `${shown}${' '.repeat(Math.max((widths[i] ?? 0) - length(text), 0))}`;
      })
      .join(GAP)
      .trimEnd();
  return [line(headers, false), ...rows.map((r) => line(r, true))].join('\n');
}
