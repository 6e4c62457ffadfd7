/**
 * The arguments that pick what the bundled benchmark does, apart from the modules that do it,
 * so that `run.ts` can dispatch on them without loading those modules (see `run.ts`).
 */

/** The first argument that selects the organization benchmark. */
export const ORGANIZATION_COMMAND = 'organization';
/** The argument that makes the bundled benchmark an organization-run worker. */
export const ORGANIZATION_WORKER_FLAG = '--organization-worker';
/** The first argument that selects the Config evaluations benchmark (put all against put changed). */
export const EVALUATIONS_COMMAND = 'evaluations';
