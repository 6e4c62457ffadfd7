/**
 * How the tables meet a terminal: as wide as the terminal when standard output is one (the
 * reason column is cut, never an ID, a name or a date), full width everywhere else (a file, a
 * pipe, a CI log), and colour only on a terminal and never when `NO_COLOR` is set
 * (https://no-color.org: any non-empty value) or `TERM` is `dumb`.
 *
 * Colour is kept for verdicts alone, so that a non-compliant key stands out in a long table and
 * nothing else competes with it; every word is the same with or without it.
 */

/** What the table formatters are told about standard output. */
export interface TableStyle {
  /** Fit every line into this many columns; absent: full width. */
  readonly width?: number;
  /** Colour the verdicts. */
  readonly color: boolean;
}

/** What is known about standard output and the environment. */
export interface TerminalFacts {
  /** Standard output is a terminal. */
  readonly isTTY: boolean;
  /** Its width in columns, when it is a terminal (`process.stdout.columns`). */
  readonly columns?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The table style for standard output. */
export function tableStyle(facts: TerminalFacts): TableStyle {
  const width = facts.isTTY && facts.columns !== undefined && Number.isInteger(facts.columns) && facts.columns > 0 ? facts.columns : undefined;
  return { ...(width !== undefined ? { width } : {}), color: colorAllowed(facts) };
}

/** Colour only on a terminal, and never with `NO_COLOR` set to anything but the empty string, or `TERM=dumb`. */
export function colorAllowed(facts: TerminalFacts): boolean {
  const noColor = facts.env.NO_COLOR;
  if (noColor !== undefined && noColor !== '') return false;
  if (facts.env.TERM === 'dumb') return false;
  return facts.isTTY;
}

const RESET_FOREGROUND = '\u001b[39m';
const VERDICT_COLORS: Readonly<Record<string, string>> = {
  NON_COMPLIANT: '\u001b[31m', // red
  COMPLIANT: '\u001b[32m', // green
  EXEMPT: '\u001b[33m', // yellow
  NOT_APPLICABLE: '\u001b[33m',
};

/** A verdict in its colour (`NON_COMPLIANT` red, `COMPLIANT` green, `EXEMPT` and `NOT_APPLICABLE` yellow); anything else as it is. */
export function paintVerdict(text: string): string {
  const color = VERDICT_COLORS[text];
  return color ? `${color}${text}${RESET_FOREGROUND}` : text;
}
