/**
 * Structured JSON logs, one object per line, the shape CloudWatch Logs Insights reads.
 *
 * keyage logs user names, user IDs, access key IDs, ages and reasons. It never logs a secret
 * access key, a session token or a whole SDK response: callers pass explicit fields, and
 * `redact` removes any field whose name looks like a secret as a second line of defence.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** @default process.env.LOG_LEVEL, else 'info' */
  level?: LogLevel;
  /** Where lines go. @default one `process.stdout.write` per line */
  sink?: (line: string) => void;
  /** Fields added to every line. */
  base?: Record<string, unknown>;
  /** Clock for the `time` field. @default () => new Date() */
  clock?: () => Date;
}

const SECRET_FIELD = /secret|password|token|credential|sessionkey/i;

/** Parse a log level name; unknown names fall back to 'info'. */
export function parseLogLevel(value: string | undefined): LogLevel {
  const v = (value ?? '').toLowerCase();
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : 'info';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? parseLogLevel(process.env.LOG_LEVEL);
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? (() => new Date());
  const base = options.base ?? {};

  const emit = (lvl: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const record = { level: lvl, time: clock().toISOString(), message, ...redact(base), ...redact(fields ?? {}) };
    sink(JSON.stringify(record, jsonReplacer));
  };

  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ level, sink, clock, base: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (the default for library calls that get none). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** Replace the value of any field whose name looks like a secret. Shallow: callers log flat fields. */
export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = SECRET_FIELD.test(k) ? '[redacted]' : v;
  }
  return out;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...('code' in value ? { code: (value as { code: unknown }).code } : {}) };
  }
  return value;
}
