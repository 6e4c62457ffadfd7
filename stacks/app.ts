/**
 * Entry point of `cdk synth` / `cdk deploy` (see cdk.json). Reads the settings from the CDK
 * context, builds the stacks and runs the cdk-nag checks. A wrong setting ends the synth with
 * one line naming it, rather than a stack trace.
 */
import { App } from 'aws-cdk-lib';
import { KeyageError } from '../lib/errors';
import { loadKeyageSettings } from './config';
import { addNagChecks, buildKeyageApp } from './keyage-app';

const app = new App();
try {
  buildKeyageApp(
    app,
    loadKeyageSettings((key) => app.node.tryGetContext(key)),
  );
} catch (err) {
  if (!(err instanceof KeyageError)) throw err;
  process.stderr.write(`keyage: ${err.message}\n`);
  process.exit(1);
}
addNagChecks(app);
app.synth();
