/**
 * KMS for tests that mock AWS: an aws-sdk-client-mock of one KMSClient instance whose
 * GenerateMac and VerifyMac compute a real HMAC-SHA-256 over the message with a test secret,
 * and answer a MAC that does not match with KMSInvalidMacException, as KMS does. Tests against
 * moto_server use moto's KMS instead.
 */
import { createHmac } from 'node:crypto';
import { GenerateMacCommand, KMSClient, type KMSClientResolvedConfig, type ServiceInputTypes, type ServiceOutputTypes, VerifyMacCommand } from '@aws-sdk/client-kms';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';

export const FAKE_RECORD_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';

/** A KMS client whose HMAC key is `secret` (the same secret as the local record signer by default). */
export function kmsFake(secret = 'keyage-test-record-key'): { client: KMSClient; mock: AwsStub<ServiceInputTypes, ServiceOutputTypes, KMSClientResolvedConfig> } {
  const client = new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(client);
  const mac = (message: Uint8Array) => new Uint8Array(createHmac('sha256', secret).update(message).digest());
  mock.on(GenerateMacCommand).callsFake((input: { Message: Uint8Array; KeyId: string }) => ({ Mac: mac(input.Message), KeyId: input.KeyId, MacAlgorithm: 'HMAC_SHA_256' }));
  mock.on(VerifyMacCommand).callsFake((input: { Message: Uint8Array; Mac: Uint8Array; KeyId: string }) => {
    if (Buffer.compare(Buffer.from(mac(input.Message)), Buffer.from(input.Mac)) !== 0) {
      throw Object.assign(new Error(''), { name: 'KMSInvalidMacException', $metadata: { httpStatusCode: 400 } });
    }
    return { MacValid: true, KeyId: input.KeyId, MacAlgorithm: 'HMAC_SHA_256' };
  });
  return { client, mock };
}
