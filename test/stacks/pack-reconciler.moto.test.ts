/**
 * Does AWS Config record here, and does it record IAM users? The pack reconciler's reading of
 * the configuration recorder, against moto's AWS Config with the real SDK client.
 */
import {
  type ConfigServiceClient,
  PutConfigurationRecorderCommand,
  PutDeliveryChannelCommand,
  type RecordingGroup,
  StartConfigurationRecorderCommand,
  StopConfigurationRecorderCommand,
} from '@aws-sdk/client-config-service';
import { AwsCaller } from '../../lib/aws-call';
import { silentLogger } from '../../lib/log';
import { readRecordingState, type ReconcilerContext } from '../../stacks/pack-reconciler/reconcile';
import { describeWithMoto, newMotoAccount } from '../harness/moto';

function contextFor(config: ConfigServiceClient): ReconcilerContext {
  return { config, caller: new AwsCaller({ retry: { maxAttempts: 1 } }), log: silentLogger };
}

/** Put a recorder with `group` (and a delivery channel); start it unless told not to. */
async function recorder(config: ConfigServiceClient, group: RecordingGroup, start = true): Promise<void> {
  await config.send(new PutConfigurationRecorderCommand({ ConfigurationRecorder: { name: 'default', roleARN: 'arn:aws:iam::123456789012:role/config', recordingGroup: group } }));
  await config.send(new PutDeliveryChannelCommand({ DeliveryChannel: { name: 'default', s3BucketName: 'config-bucket' } }));
  if (start) await config.send(new StartConfigurationRecorderCommand({ ConfigurationRecorderName: 'default' }));
}

describeWithMoto('the pack reconciler reading AWS Config recording (moto)', () => {
  it('an account with no configuration recorder is not recording', async () => {
    const { config } = await newMotoAccount('eu-west-1');
    expect(await readRecordingState(contextFor(config))).toEqual({ recording: false, iamUsersRecorded: false });
  });

  it('a recorder that exists but was never started, or was stopped, is not recording', async () => {
    const { config } = await newMotoAccount('eu-west-1');
    await recorder(config, { allSupported: true, includeGlobalResourceTypes: true }, false);
    expect((await readRecordingState(contextFor(config))).recording).toBe(false);
    await config.send(new StartConfigurationRecorderCommand({ ConfigurationRecorderName: 'default' }));
    expect((await readRecordingState(contextFor(config))).recording).toBe(true);
    await config.send(new StopConfigurationRecorderCommand({ ConfigurationRecorderName: 'default' }));
    expect((await readRecordingState(contextFor(config))).recording).toBe(false);
  });

  it('a recorder of every supported type with global types records IAM users', async () => {
    const { config } = await newMotoAccount('eu-west-1');
    await recorder(config, { allSupported: true, includeGlobalResourceTypes: true });
    expect(await readRecordingState(contextFor(config))).toEqual({ recording: true, iamUsersRecorded: true, recorderName: 'default' });
  });

  it('a recorder of every supported type without global types records, but not IAM users', async () => {
    const { config } = await newMotoAccount('eu-west-1');
    await recorder(config, { allSupported: true, includeGlobalResourceTypes: false });
    expect(await readRecordingState(contextFor(config))).toEqual({ recording: true, iamUsersRecorded: false, recorderName: 'default' });
  });

  it('an inclusion list records IAM users only when it lists AWS::IAM::User', async () => {
    const with_ = await newMotoAccount('eu-west-1');
    await recorder(with_.config, { allSupported: false, includeGlobalResourceTypes: false, resourceTypes: ['AWS::IAM::User'], recordingStrategy: { useOnly: 'INCLUSION_BY_RESOURCE_TYPES' } });
    expect((await readRecordingState(contextFor(with_.config))).iamUsersRecorded).toBe(true);
    const without = await newMotoAccount('eu-west-1');
    await recorder(without.config, { allSupported: false, includeGlobalResourceTypes: false, resourceTypes: ['AWS::S3::Bucket'], recordingStrategy: { useOnly: 'INCLUSION_BY_RESOURCE_TYPES' } });
    expect(await readRecordingState(contextFor(without.config))).toMatchObject({ recording: true, iamUsersRecorded: false });
  });

  it('an exclusion list records IAM users unless it excludes AWS::IAM::User', async () => {
    const excluded = await newMotoAccount('eu-west-1');
    await recorder(excluded.config, {
      allSupported: false,
      includeGlobalResourceTypes: false,
      exclusionByResourceTypes: { resourceTypes: ['AWS::IAM::User'] },
      recordingStrategy: { useOnly: 'EXCLUSION_BY_RESOURCE_TYPES' },
    });
    expect(await readRecordingState(contextFor(excluded.config))).toMatchObject({ recording: true, iamUsersRecorded: false });
    const other = await newMotoAccount('eu-west-1');
    await recorder(other.config, {
      allSupported: false,
      includeGlobalResourceTypes: false,
      exclusionByResourceTypes: { resourceTypes: ['AWS::S3::Bucket'] },
      recordingStrategy: { useOnly: 'EXCLUSION_BY_RESOURCE_TYPES' },
    });
    expect((await readRecordingState(contextFor(other.config))).iamUsersRecorded).toBe(true);
  });
});
