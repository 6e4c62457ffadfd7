/**
 * Entry point of the pack reconciler Lambda function (bundled by esbuild, which loads
 * `conformance-pack.yaml` as text: the function deploys exactly the repository's pack).
 */
import template from '../../conformance-pack.yaml';
import { createReconcilerHandler } from './handler';

export const handler = createReconcilerHandler({ template });
