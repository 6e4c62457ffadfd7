/**
 * What a mocked account says about keyage's deployment, for the command-line tests that mock
 * AWS: the Config rule (DescribeConfigRules), the delete runbook (DescribeDocument) and the
 * record key (KMS DescribeKey; GenerateMac and VerifyMac computing a real HMAC over the message
 * with the test secret, as `test/harness/record-signer.ts` does). aws-sdk-client-mock replaces
 * `send` of every client of these classes, so the CLI's own clients are answered.
 */
import { createHmac } from 'node:crypto';
import { ConfigServiceClient, DescribeConfigRulesCommand } from '@aws-sdk/client-config-service';
import { DescribeKeyCommand, GenerateMacCommand, KMSClient, VerifyMacCommand } from '@aws-sdk/client-kms';
import { DescribeDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';

export const configMock = mockClient(ConfigServiceClient);
export const ssmMock = mockClient(SSMClient);
export const kmsMock = mockClient(KMSClient);

export const RECORD_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';

/** The line every live command prints when no keyage rule is deployed (keyage's defaults). */
export const NO_DEPLOYMENT_LINE =
  "keyage: using keyage's defaults (no keyage rule is deployed in us-east-1): MaxAccessKeyAge 90 (default), ExemptionTag none (default), GracePeriodDays 14 (default); flags override.\n";

export interface Deployment {
  /** The deployed rule's name and InputParameters. @default none deployed */
  readonly rule?: { readonly name: string; readonly parameters: Record<string, string> };
  /** The delete runbook's GracePeriodDays default. @default not deployed */
  readonly graceDays?: string;
  /** Whether the record key exists. @default true */
  readonly recordKey?: boolean;
}

/** Answer the deployment reads as `d` says; call after the mocks were reset. */
export function givenDeployment(d: Deployment = {}): void {
  configMock.reset();
  ssmMock.reset();
  kmsMock.reset();
  configMock.on(DescribeConfigRulesCommand).resolves({ ConfigRules: d.rule ? [{ ConfigRuleName: d.rule.name, InputParameters: JSON.stringify(d.rule.parameters), Source: undefined }] : [] });
  if (d.graceDays !== undefined) {
    ssmMock.on(DescribeDocumentCommand).resolves({ Document: { Name: 'keyage-DeleteDeactivatedAccessKeys', Parameters: [{ Name: 'GracePeriodDays', Type: 'String', DefaultValue: d.graceDays }] } });
  } else {
    ssmMock.on(DescribeDocumentCommand).rejects(Object.assign(new Error('Document not found'), { name: 'InvalidDocument', $metadata: { httpStatusCode: 400 } }));
  }
  if (d.recordKey === false) {
    kmsMock.on(DescribeKeyCommand).rejects(Object.assign(new Error('Alias not found'), { name: 'NotFoundException', $metadata: { httpStatusCode: 400 } }));
    return;
  }
  const mac = (message: Uint8Array) => new Uint8Array(createHmac('sha256', 'keyage-test-record-key').update(message).digest());
  kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: RECORD_KEY_ARN, KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', KeyState: 'Enabled', Enabled: true } });
  kmsMock.on(GenerateMacCommand).callsFake((input: { Message: Uint8Array }) => ({ Mac: mac(input.Message), MacAlgorithm: 'HMAC_SHA_256', KeyId: RECORD_KEY_ARN }));
  kmsMock.on(VerifyMacCommand).callsFake((input: { Message: Uint8Array; Mac: Uint8Array }) => {
    if (Buffer.compare(Buffer.from(mac(input.Message)), Buffer.from(input.Mac)) !== 0) throw Object.assign(new Error(''), { name: 'KMSInvalidMacException', $metadata: { httpStatusCode: 400 } });
    return { MacValid: true, MacAlgorithm: 'HMAC_SHA_256', KeyId: RECORD_KEY_ARN };
  });
}

/** The actions of every deployment read and record-key call sent, as `service:Operation`. */
export function deploymentActionsSent(): string[] {
  const name = (c: { args: unknown[] }) => (c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
  return [...configMock.calls().map((c) => `config:${name(c)}`), ...ssmMock.calls().map((c) => `ssm:${name(c)}`), ...kmsMock.calls().map((c) => `kms:${name(c)}`)];
}
