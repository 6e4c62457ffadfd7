/**
 * GetCredentialReport read without the SDK's XML parser over `Content`, against moto_server:
 * moto's real HTTP answer reads as the SDK reads it, and a sweep that decides from the report
 * so read judges every user as a sweep that reads every user live.
 */
import { GenerateCredentialReportCommand, GetCredentialReportCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { AwsCaller } from '../../../lib/aws-call';
import { createLogger } from '../../../lib/log';
import { getCredentialReportCommand } from '../../../rules/access-key-age/credential-report-answer';
import { parseRuleParameters } from '../../../rules/access-key-age/parameters';
import { DAY_MS } from '../../../rules/access-key-age/policy';
import { sweepAccount } from '../../../rules/access-key-age/sweep';
import { createUserWithKeys, describeWithMoto, type MotoAccount, newMotoAccount } from '../../harness/moto';
import { recordCommands } from '../../harness/record';

describeWithMoto('GetCredentialReport read without the SDK’s XML parser, against moto_server', () => {
  let account: MotoAccount;

  beforeAll(async () => {
    account = await newMotoAccount();
    // 0, 1 and 2 keys, one of them made inactive, and names with the characters IAM allows
    for (let i = 0; i < 24; i++) {
      const user = await createUserWithKeys(account.iam, `report-user-${i}${i % 5 === 0 ? '+ops=x.y@z_w-v' : ''}`, i % 3);
      if (i % 4 === 0 && user.accessKeyIds[0]) {
        await account.iam.send(new UpdateAccessKeyCommand({ UserName: user.userName, AccessKeyId: user.accessKeyIds[0], Status: 'Inactive' }));
      }
    }
    for (let state = ''; state !== 'COMPLETE'; ) {
      state = (await account.iam.send(new GenerateCredentialReportCommand({}))).State ?? '';
    }
  });

  afterAll(() => account.iam.destroy());

  it('moto’s answer reads exactly as the SDK reads it, request ID apart', async () => {
    const sdk = await account.iam.send(new GetCredentialReportCommand({}));
    const lean = await account.iam.send(getCredentialReportCommand());
    const withoutRequestId = <T extends { $metadata: object }>(o: T) => ({ ...o, $metadata: { ...o.$metadata, requestId: 'ignored' } });
    expect(withoutRequestId(lean)).toStrictEqual(withoutRequestId(sdk));
    expect(Buffer.from(lean.Content ?? []).toString('utf8').split('\n')[0]).toMatch(/^user,arn,user_creation_time,/);
  });

  it.each([30, 100])('%i days on, the sweep from the report judges every user as the sweep that reads every user live', async (days) => {
    const now = new Date(Date.now() + days * DAY_MS);
    const reader = () => ({ iam: account.iam, caller: new AwsCaller(), log: createLogger({ level: 'error', sink: () => undefined }) });
    const calls = recordCommands(account.iam);
    // moto stamps every report 2015-02-02; accept it as fresh, the way IAM's real stamp would be
    const fromReport = await sweepAccount(reader(), parseRuleParameters({}), { now, maxReportAgeMs: Number.POSITIVE_INFINITY, sleep: async () => undefined });
    const live = await sweepAccount(reader(), parseRuleParameters({}), { now, useCredentialReport: false });
    expect(fromReport.report.used).toBe(true);
    expect(calls.filter((c) => c.commandName === 'GetCredentialReportCommand')).toHaveLength(1);
    const verdicts = (r: typeof live) => Object.fromEntries(r.users.map((u) => [u.userId, u.compliance]));
    expect(verdicts(fromReport)).toEqual(verdicts(live));
    expect(Object.keys(verdicts(live))).toHaveLength(24);
    expect(new Set(Object.values(verdicts(live)))).toEqual(new Set(days === 30 ? ['COMPLIANT'] : ['COMPLIANT', 'NON_COMPLIANT']));
    // from the report, only the 16 users with a key (active or not) over the limit are read live
    expect(fromReport.readLive).toBe(days === 30 ? 0 : 16);
  });
});
