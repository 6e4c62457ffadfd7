/**
 * A one-line progress indicator on standard error, for live audits of large accounts. It is
 * drawn only when standard error is a terminal (never into a pipe, a file or a CI log) and the
 * account has at least `threshold` users; standard output is never touched.
 */

/** Users from which a live audit shows progress. */
export const PROGRESS_THRESHOLD = 100;

/** A progress indicator. */
export interface Progress {
  /** `done` of `total` users read. */
  update(done: number, total: number): void;
  /** Erase the line. */
  finish(): void;
}

/** Where and when to draw. */
export interface ProgressOptions {
  readonly write: (text: string) => void;
  readonly isTTY: boolean;
  readonly label: string;
  /** @default PROGRESS_THRESHOLD */
  readonly threshold?: number;
}

/** A progress line, or a silent one when stderr is not a terminal or the work is small. */
export function createProgress(options: ProgressOptions): Progress {
  const threshold = options.threshold ?? PROGRESS_THRESHOLD;
  let drawn = false;
  let lastPercent = -1;
  return {
    update(done, total) {
      if (!options.isTTY || total < threshold) return;
      const percent = Math.floor((done / total) * 100);
      if (percent === lastPercent && done !== total) return;
      lastPercent = percent;
      options.write(`\r${options.label} ${done}/${total} (${percent}%)`);
      drawn = true;
    },
    finish() {
      if (drawn) options.write('\r\u001b[2K');
      drawn = false;
    },
  };
}
