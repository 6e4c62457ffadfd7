/**
 * Plain-text columns for terminals: every column padded to its widest cell except the last,
 * which runs free (it holds the sentence-long reason). No colours, no box characters, so the
 * output reads the same in a terminal, a CI log and a diff.
 */
export function textTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
