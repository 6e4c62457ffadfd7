/**
 * Named errors shared by the rule, the remediation and the CLI.
 *
 * Every failure keyage can meet has a class here, so that a caller can tell "the input was
 * wrong" from "AWS said no" from "AWS could not be reached", and so that no failure is ever
 * turned into a verdict. Errors that wrap an SDK failure keep it as `cause`.
 */

/** Base class: every error keyage throws on purpose is a KeyageError. */
export class KeyageError extends Error {
  /** A short, stable code, used as the Lambda `errorType` and as the CLI's error label. */
  public readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A rule or runbook parameter has a value that is not allowed. */
export class InvalidParameterError extends KeyageError {
  constructor(
    public readonly parameter: string,
    public readonly value: unknown,
    public readonly allowed: string,
  ) {
    super(
      'InvalidParameterValue',
      `Invalid value for parameter ${shorten(parameter)}: ${describeValue(value)}. Allowed: ${allowed}.`,
    );
  }
}

/** The Config event (or another structured input) does not have the documented shape. */
export class InvalidEventError extends KeyageError {
  constructor(
    public readonly field: string,
    public readonly problem: string,
  ) {
    super('InvalidEvent', `Malformed AWS Config event: ${field} ${problem}.`);
  }
}

/** AWS answered with something keyage cannot read (a field missing, a value unknown). Never a verdict. */
export class UnexpectedResponseError extends KeyageError {
  constructor(
    public readonly operation: string,
    public readonly problem: string,
  ) {
    super('UnexpectedResponse', `Unexpected answer from ${operation}: ${problem}.`);
  }
}

/** The credential report could not be read. `line` and `column` are 1-based when known. */
export class CredentialReportError extends KeyageError {
  constructor(
    message: string,
    public readonly line?: number,
    public readonly column?: number,
    options?: { cause?: unknown },
  ) {
    super(
      'InvalidCredentialReport',
      `Invalid credential report${line !== undefined ? ` at line ${line}${column !== undefined ? `, column ${column}` : ''}` : ''}: ${message}`,
      options,
    );
  }
}

/** An IAM user named by the caller does not exist. */
export class NoSuchUserError extends KeyageError {
  constructor(public readonly user: string) {
    super('NoSuchUser', `IAM user ${user} does not exist in this account.`);
  }
}

/** The caller's role may not make an AWS call keyage needs. Never retried. */
export class AwsAccessDeniedError extends KeyageError {
  constructor(
    public readonly operation: string,
    options: { cause: unknown },
  ) {
    super(
      'AccessDenied',
      `Access denied for ${operation}: the role running keyage needs permission for this action (see the README's permissions table). ${messageOf(options.cause)}`,
      options,
    );
  }
}

/** An AWS call failed for good: not retryable, or still failing after the retry budget. */
export class AwsCallError extends KeyageError {
  constructor(
    public readonly operation: string,
    public readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(
      'AwsCallFailed',
      `${operation} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${messageOf(options.cause)}`,
      options,
    );
  }
}

/** Config refused some evaluations even after retries. */
export class EvaluationDeliveryError extends KeyageError {
  constructor(
    public readonly failed: ReadonlyArray<{ resourceId: string; complianceType: string }>,
  ) {
    super(
      'EvaluationsNotDelivered',
      `AWS Config did not accept ${failed.length} evaluation(s) after retries: ${failed
        .slice(0, 5)
        .map((f) => `${f.resourceId}=${f.complianceType}`)
        .join(', ')}${failed.length > 5 ? ', …' : ''}`,
    );
  }
}

/** The Lambda ran out of time before the sweep finished; what was decided has been put. */
export class DeadlineExceededError extends KeyageError {
  constructor(
    public readonly evaluated: number,
    public readonly remaining: number,
  ) {
    super(
      'DeadlineExceeded',
      `Stopped before the Lambda timeout: ${evaluated} user(s) evaluated and put, ${remaining} not evaluated in this run; the next scheduled run evaluates them.`,
    );
  }
}

/** The message of any thrown value, for error text. Never includes a stack. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  } catch {
    // Circular, or nested too deep for a recursive walk: String() may overflow too.
    try {
      text = String(value);
    } catch {
      text = Array.isArray(value) ? '(an array nested too deep to show)' : `(a ${typeof value} that cannot be shown)`;
    }
  }
  return shorten(text);
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/**
 * The remediation Lambda was invoked other than by a running execution of one of keyage's own
 * runbooks, or with a payload that is not the one that execution sends. Raised before any IAM call.
 */
export class UnverifiedInvocationError extends KeyageError {
  constructor(problem: string) {
    super('UnverifiedInvocation', `Refused: ${problem}. The keyage remediation function acts only for a running SSM Automation execution of keyage's own runbooks, with that execution's parameters.`);
  }
}

/** The function or command is deployed or configured in a way keyage cannot act safely with. */
export class ConfigurationError extends KeyageError {
  constructor(message: string) {
    super('Configuration', message);
  }
}
