/**
 * Record the commands a real SDK client sends (it still sends them, over HTTP, to moto).
 * Lets an integration test assert what was asked of AWS, the way aws-sdk-client-mock lets a
 * unit test, without replacing the transport.
 */
export interface RecordedCommand {
  readonly commandName: string;
  readonly input: Record<string, unknown>;
}

interface MiddlewareClient {
  middlewareStack: {
    add: (
      mw: (next: (args: { input: unknown }) => Promise<unknown>, context: { commandName?: string }) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ) => void;
  };
}

/** Start recording; returns the live list of commands sent from now on. */
export function recordCommands(client: unknown): RecordedCommand[] {
  const calls: RecordedCommand[] = [];
  (client as MiddlewareClient).middlewareStack.add(
    (next, context) => async (args) => {
      calls.push({ commandName: context.commandName ?? 'unknown', input: structuredClone(args.input) as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: `keyageRecorder${Math.random().toString(36).slice(2)}` },
  );
  return calls;
}

/** The Evaluations of every PutEvaluationsCommand recorded, flattened. */
export function recordedEvaluations(calls: readonly RecordedCommand[]): Record<string, unknown>[] {
  return calls
    .filter((c) => c.commandName === 'PutEvaluationsCommand')
    .flatMap((c) => (c.input.Evaluations as Record<string, unknown>[] | undefined) ?? []);
}
