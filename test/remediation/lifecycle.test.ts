/**
 * The whole life of a stale key, against moto_server with the real SDK clients: the Config
 * rule Lambda judges, runbook 1 deactivates, runbook 2 deletes after the grace period — and a
 * key used during the grace period survives. Days pass on a virtual clock (see virtual-clock.ts).
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUserTagsCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { silentLogger } from '../../lib/log';
import { createHandler as createRuleHandler } from '../../rules/access-key-age/handler';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { changeEvent, userConfigurationItem } from '../harness/events';
import { createRecordKey, describeWithMoto, newMotoAccount } from '../harness/moto';
import { DEACTIVATE_RUNBOOK, DELETE_RUNBOOK, describeWithPython, loadKeyageRunbook, remediationEnvironment } from '../harness/ssm-environment';
import { runAutomation } from '../harness/ssm-runner';
import { VirtualClock } from './virtual-clock';

describeWithPython('the life of a stale access key', () => {
  describeWithMoto('rule, runbook 1 and runbook 2 against moto_server', () => {
    it('created day 0; NON_COMPLIANT on day 91; deactivated by runbook 1; COMPLIANT; kept on day 100; deleted on day 106; a key used during the grace period is kept', async () => {
      const account = await newMotoAccount();
      const clock = new VirtualClock();
      const iam = clock.attach(new IAMClient({ endpoint: account.endpoint, region: account.region, credentials: account.credentials, maxAttempts: 1 }));

      // Day 0: a developer with two keys.
      const user = await iam.send(new CreateUserCommand({ UserName: 'dev' }));
      const userId = user.User?.UserId as string;
      const first = (await iam.send(new CreateAccessKeyCommand({ UserName: 'dev' }))).AccessKey;
      const second = (await iam.send(new CreateAccessKeyCommand({ UserName: 'dev' }))).AccessKey;
      const [k1, k2] = [first?.AccessKeyId as string, second?.AccessKeyId as string];
      const t0 = (second?.CreateDate as Date).getTime();
      const day = (n: number) => new Date(t0 + n * DAY_MS);

      const rule = createRuleHandler({ iam, config: account.config, now: () => clock.now(), log: silentLogger, sleep: async () => undefined });
      const evaluate = () =>
        rule(
          changeEvent(userConfigurationItem({ resourceName: 'dev', resourceId: userId, configurationItemCaptureTime: clock.now().toISOString() }), { MaxAccessKeyAge: '90' }, { accountId: account.accountId }),
        );
      const recordKeyArn = await createRecordKey(account);
      const env = (runbook: string) => remediationEnvironment({ iam, config: account.config, kms: account.kms, recordKeyArn, runbook, now: () => clock.now() });
      const keys = async () => ((await iam.send(new ListAccessKeysCommand({ UserName: 'dev' }))).AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status]);
      const recordKeys = async () => ((await iam.send(new ListUserTagsCommand({ UserName: 'dev' }))).Tags ?? []).map((t) => t.Key).sort();

      expect(await evaluate()).toMatchObject({ evaluations: 1, compliant: 1, nonCompliant: 0 });

      // Day 91: the rule finds the keys stale; Config's remediation runs runbook 1.
      clock.jumpTo(day(91));
      expect(await evaluate()).toMatchObject({ evaluations: 1, nonCompliant: 1 });
      const deactivation = await runAutomation(loadKeyageRunbook(DEACTIVATE_RUNBOOK), { IAMResourceId: userId, DryRun: 'false' }, env(DEACTIVATE_RUNBOOK));
      expect(deactivation.failureMessage).toBeUndefined();
      expect(deactivation.outputs['CheckResult.Summary']).toBe(`user dev: deactivated 2 keys (${k1}, ${k2}); 0 keys left as they are.`);
      expect(await keys()).toEqual([
        [k1, 'Inactive'],
        [k2, 'Inactive'],
      ]);
      expect(await evaluate()).toMatchObject({ evaluations: 1, compliant: 1, nonCompliant: 0 });

      // Day 95: someone re-activates the second key, uses it, and switches it off again.
      clock.jumpTo(day(95));
      await iam.send(new UpdateAccessKeyCommand({ UserName: 'dev', AccessKeyId: k2, Status: 'Active' }));
      const asDev = new IAMClient({ endpoint: account.endpoint, region: account.region, credentials: { accessKeyId: k2, secretAccessKey: second?.SecretAccessKey as string }, maxAttempts: 1 });
      await asDev.send(new GetUserCommand({}));
      asDev.destroy();
      await iam.send(new UpdateAccessKeyCommand({ UserName: 'dev', AccessKeyId: k2, Status: 'Inactive' }));
      const used = (await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k2 }))).AccessKeyLastUsed?.LastUsedDate;
      expect(used?.getTime()).toBeGreaterThanOrEqual(day(95).getTime()); // moto recorded the use, on the test's time axis

      // Day 100: the daily runbook 2 deletes nothing — still within the grace period.
      clock.jumpTo(day(100));
      const day100 = await runAutomation(loadKeyageRunbook(DELETE_RUNBOOK), { IAMUser: '*', GracePeriodDays: '14', DryRun: 'false' }, env(DELETE_RUNBOOK));
      expect(day100.status).toBe('Success');
      expect(day100.outputs['CheckResult.Summary']).toBe('1 user with deactivation records: 2 keys left as they are.');
      expect(await keys()).toEqual([
        [k1, 'Inactive'],
        [k2, 'Inactive'],
      ]);

      // Day 106: the grace period is over; the first key goes, the key used during grace stays.
      clock.jumpTo(day(106));
      const day106 = await runAutomation(loadKeyageRunbook(DELETE_RUNBOOK), { IAMUser: '*', GracePeriodDays: '14', DryRun: 'false' }, env(DELETE_RUNBOOK));
      expect(day106.status).toBe('Success');
      expect(day106.outputs['CheckResult.Summary']).toBe(`1 user with deactivation records: deleted 1 key (${k1}); 1 key left as it is.`);
      const kept = (day106.outputs['CheckResult.Actions'] as Record<string, string>[]).find((a) => a.accessKeyId === k2);
      expect(kept).toMatchObject({ action: 'keep', applied: 'false', status: 'Inactive' });
      expect(kept?.reason).toContain('after keyage deactivated it');
      expect(await keys()).toEqual([[k2, 'Inactive']]);
      expect(await recordKeys()).toEqual([`keyage:deactivated:${k2}`]);
      expect(await evaluate()).toMatchObject({ evaluations: 1, compliant: 1 });
    });
  });
});
