/**
 * `keyage remediate` against moto_server: a dry run changes nothing, `--apply` does exactly what
 * the dry run printed, and `--now` replays a whole key life (deactivate at day 91, keep through
 * the grace period, delete after it). moto cannot backdate keys, so `--now` moves forward.
 */
import { ListAccessKeysCommand, ListUserTagsCommand } from '@aws-sdk/client-iam';
import type { RemediateResult } from '../../cli/remediate';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { createUserWithKeys, deployKeyageRule, describeWithMoto, type MotoAccount, newMotoAccount, recordKeyOf } from '../harness/moto';
import { recordCommands, type RecordedCommand } from '../harness/record';
import { runCli } from './run-cli';

const WRITES = ['TagUserCommand', 'UntagUserCommand', 'UpdateAccessKeyCommand', 'DeleteAccessKeyCommand', 'CreateAccessKeyCommand'];

describeWithMoto('keyage remediate against moto_server', () => {
  let account: MotoAccount;
  let bob: { userId: string; accessKeyIds: string[] };
  let calls: RecordedCommand[];
  let start: number;
  const dayIso = (d: number) => new Date(start + d * DAY_MS).toISOString();

  const remediate = async (...args: string[]) => {
    const run = await runCli(['remediate', '--format', 'json', ...args], { ...account.clients(), sleep: async () => undefined });
    return { ...run, result: run.stdout ? (JSON.parse(run.stdout) as RemediateResult) : undefined };
  };
  const keyStates = async (user: string) =>
    Object.fromEntries(((await account.iam.send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status]));
  /** The user's tags; a signed record reads "<time> (signed)". */
  const tags = async (user: string) =>
    Object.fromEntries(((await account.iam.send(new ListUserTagsCommand({ UserName: user }))).Tags ?? []).map((t) => [t.Key, (t.Value ?? '').replace(/^(\S+) v1 [A-Za-z0-9+/]{43}=$/, '$1 (signed)')]));
  /** What the CLI says on standard error when the account has the record key but no keyage rule. */
  const NO_RULE = "keyage: using keyage's defaults (no keyage rule is deployed in us-east-1): MaxAccessKeyAge 90 (default), ExemptionTag none (default), GracePeriodDays 14 (default); flags override.\n";

  beforeEach(async () => {
    account = await newMotoAccount();
    await recordKeyOf(account); // the record key, as the member stack creates it
    bob = await createUserWithKeys(account.iam, 'bob', 2);
    await createUserWithKeys(account.iam, 'svc', 1, [{ Key: 'keyage-exempt', Value: 'true' }]);
    start = Date.now() + 1000; // day N is N whole days after the keys were created, whatever moto's clock precision
    calls = recordCommands(account.iam);
  });

  afterEach(() => {
    for (const c of Object.values(account.clients())) c.destroy();
  });

  it('a dry run (the default) prints the plan, sends no write call and changes nothing; exit 1', async () => {
    const run = await remediate('--user', 'bob', '--replay', '--now', dayIso(91), '--delete');
    expect(run.stderr).toBe(NO_RULE);
    expect(run.code).toBe(1);
    expect(run.result?.dryRun).toBe(true);
    expect(run.result?.deactivation?.actions.map((a) => [a.accessKeyId, a.action, a.applied])).toEqual(bob.accessKeyIds.map((id) => [id, 'deactivate', false]));
    expect(run.result?.deletion?.actions.map((a) => a.action)).toEqual(['keep', 'keep']);
    expect(calls.map((c) => c.commandName).filter((n) => WRITES.includes(n))).toEqual([]);
    expect(await keyStates('bob')).toEqual(Object.fromEntries(bob.accessKeyIds.map((id) => [id, 'Active'])));
    expect(await tags('bob')).toEqual({});
  });

  it('--apply does exactly what the dry run printed, records the deactivation at --now, and exits 0', async () => {
    const now = dayIso(91);
    const dry = await remediate('--user', 'bob', '--now', now);
    const planned = dry.result?.deactivation?.actions.filter((a) => a.action !== 'keep').map((a) => [a.accessKeyId, a.action]);
    const applied = await remediate('--user', 'bob', '--replay', '--now', now, '--apply');
    expect(applied.code).toBe(0);
    expect(applied.result?.dryRun).toBe(false);
    expect(applied.result?.deactivation?.actions.filter((a) => a.applied).map((a) => [a.accessKeyId, a.action])).toEqual(planned);
    // What applying adds: applied, the record's time and what the record is (signed by the record key);
    // and its reasons report the act, where the dry run's said what keyage would do.
    expect(applied.result?.deactivation?.actions.map(({ applied: _applied, deactivatedAt: _at, record: _record, reason: _reason, ...rest }) => rest)).toEqual(
      dry.result?.deactivation?.actions.map(({ applied: _applied, deactivatedAt: _at, record: _record, reason: _reason, ...rest }) => rest),
    );
    expect(dry.result?.deactivation?.actions.map((a) => a.reason.replace(/^.*limit 90\. /, ''))).toEqual(['keyage would deactivate it.', 'keyage would deactivate it.']);
    expect(applied.result?.deactivation?.actions.map((a) => a.reason.replace(/^.*limit 90\. /, ''))).toEqual(['Deactivating it.', 'Deactivating it.']);
    expect(applied.result?.deactivation?.actions.map((a) => a.record)).toEqual(['verified', 'verified']);
    expect(await keyStates('bob')).toEqual(Object.fromEntries(bob.accessKeyIds.map((id) => [id, 'Inactive'])));
    expect(await tags('bob')).toEqual(Object.fromEntries(bob.accessKeyIds.map((id) => [`keyage:deactivated:${id}`, `${now} (signed)`])));
    expect(calls.filter((c) => c.commandName === 'UpdateAccessKeyCommand').map((c) => c.input)).toEqual(
      bob.accessKeyIds.map((id) => ({ UserName: 'bob', AccessKeyId: id, Status: 'Inactive' })),
    );
  });

  it('replays a key life with --now: deactivated on day 91, kept through the grace period, deleted after it', async () => {
    expect((await remediate('--user', 'bob', '--replay', '--now', dayIso(91), '--apply')).code).toBe(0);

    const during = await remediate('--user', 'bob', '--replay', '--now', dayIso(91 + 13), '--delete', '--apply');
    expect(during.result?.deletion?.actions.map((a) => [a.action, a.applied])).toEqual([
      ['keep', false],
      ['keep', false],
    ]);
    expect(during.result?.deletion?.actions[0]?.reason).toContain('grace period of 14 days ends on');
    expect(Object.keys(await keyStates('bob'))).toHaveLength(2);

    const dry = await remediate('--user', 'bob', '--replay', '--now', dayIso(91 + 14), '--delete');
    expect(dry.result?.deletion?.actions.map((a) => [a.accessKeyId, a.action, a.applied])).toEqual(bob.accessKeyIds.map((id) => [id, 'delete', false]));
    expect(Object.keys(await keyStates('bob'))).toHaveLength(2);

    const after = await remediate('--user', 'bob', '--replay', '--now', dayIso(91 + 14), '--delete', '--apply');
    expect(after.code).toBe(0);
    expect(after.result?.deletion?.actions.map((a) => [a.accessKeyId, a.action, a.applied])).toEqual(bob.accessKeyIds.map((id) => [id, 'delete', true]));
    expect(await keyStates('bob')).toEqual({});
    expect(await tags('bob')).toEqual({});
  });

  it('--grace-days sets the grace period of the delete stage', async () => {
    await remediate('--user', 'bob', '--replay', '--now', dayIso(91), '--apply');
    const run = await remediate('--user', 'bob', '--replay', '--now', dayIso(91 + 3), '--delete', '--grace-days', '3');
    expect(run.result?.parameters.graceDays).toBe(3);
    expect(run.result?.deletion?.actions.map((a) => a.action)).toEqual(['delete', 'delete']);
  });

  it('keys younger than the limit are kept: exit 0, nothing changed even with --apply', async () => {
    const run = await remediate('--user', 'bob', '--replay', '--now', dayIso(90), '--apply');
    expect(run.code).toBe(0);
    expect(run.result?.deactivation?.actions.map((a) => a.action)).toEqual(['keep', 'keep']);
    expect(calls.map((c) => c.commandName).filter((n) => WRITES.includes(n))).toEqual([]);
  });

  it('an exempt user is left alone with --exemption-tag, even with --apply', async () => {
    const run = await remediate('--user', 'svc', '--replay', '--now', dayIso(400), '--apply', '--exemption-tag', 'keyage-exempt=true');
    expect(run.code).toBe(0);
    expect(run.result?.deactivation?.exempt).toBe(true);
    expect(run.result?.deactivation?.actions.map((a) => a.action)).toEqual(['keep']);
    expect(Object.values(await keyStates('svc'))).toEqual(['Active']);
  });

  it('an unknown user: exit 2 with a clear message, nothing on standard output', async () => {
    const run = await remediate('--user', 'nobody', '--apply');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`${NO_RULE}keyage: IAM user nobody does not exist in this account.\n`);
  });

  it('the table of a dry run shows every key, what is planned and the summary line', async () => {
    const run = await runCli(['remediate', '--user', 'bob', '--now', dayIso(91)], account.clients());
    expect(run.stdout).toContain('DRY RUN: nothing was changed. Run again with --apply');
    for (const id of bob.accessKeyIds) expect(run.stdout).toMatch(new RegExp(`^deactivate\\s+\\d\\s+${id}\\s+Active\\s+91d\\s+never\\s+-\\s+deactivate\\s+planned\\s`, 'm'));
    expect(run.stdout).toContain('Stage 1 (deactivate): DRY RUN, nothing changed: user bob: would deactivate 2 keys');
  });
});

describeWithMoto('keyage remediate against moto_server: the deployed rule decides by default', () => {
  it('without --exemption-tag, the deployed rule\'s ExemptionTag protects an exempt user even with --apply', async () => {
    const account = await newMotoAccount();
    await recordKeyOf(account);
    await createUserWithKeys(account.iam, 'svc', 1, [{ Key: 'keyage-exempt', Value: 'true' }]);
    await deployKeyageRule(account, { MaxAccessKeyAge: '90', ExemptionTag: 'keyage-exempt=true' });
    const run = await runCli(['remediate', '--format', 'json', '--user', 'svc', '--replay', '--now', new Date(Date.now() + 400 * DAY_MS).toISOString(), '--apply'], { ...account.clients(), sleep: async () => undefined });
    const result = JSON.parse(run.stdout) as RemediateResult;
    expect(run.code).toBe(0);
    expect(result.deactivation).toMatchObject({ exempt: true, actions: [expect.objectContaining({ action: 'keep', applied: false })] });
    expect(result.parameters.sources.exemptionTag).toBe('deployed rule keyage-access-key-age-conformance-pack-abcdefghi');
    expect(run.stderr).toContain('keyage: using the deployed rule keyage-access-key-age-conformance-pack-abcdefghi in us-east-1');
    const keys = (await account.iam.send(new ListAccessKeysCommand({ UserName: 'svc' }))).AccessKeyMetadata ?? [];
    expect(keys.map((k) => k.Status)).toEqual(['Active']);
  });
});
