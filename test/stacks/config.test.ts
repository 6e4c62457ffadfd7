/**
 * The deployment settings: defaults, every validation with the setting it names, the settings
 * file, and the shipped cdk.json and example file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidParameterError } from '../../lib/errors';
import { SETTING_NAMES, loadKeyageSettings, parseKeyageSettings } from '../../stacks/config';
import { PROJECT_ROOT } from '../../stacks/project';

const ORG = { organizationId: 'o-a1b2c3d4e5', organizationalUnitIds: ['ou-a1b2-c3d4e5f6'], regions: ['eu-west-1'] };

/** Expect `raw` to be refused with an InvalidParameterError naming `setting`. */
function expectRefused(raw: unknown, setting: string, allowed?: RegExp): void {
  let error: unknown;
  try {
    parseKeyageSettings(raw);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(InvalidParameterError);
  const e = error as InvalidParameterError;
  expect(e.parameter).toBe(setting);
  expect(e.message).toContain(`parameter ${setting}:`);
  if (allowed) expect(e.allowed).toMatch(allowed);
}

describe('keyage settings', () => {
  describe('defaults', () => {
    it('are safe with no settings at all: 90 days, no exemption, no automatic remediation or deletion, daily sweep', () => {
      expect(parseKeyageSettings(undefined)).toEqual({
        member: {
          maxAccessKeyAge: 90,
          exemptionTag: '',
          evaluationRefreshDays: 30,
          maximumExecutionFrequency: 'TwentyFour_Hours',
          automaticRemediation: false,
          remediationDryRun: false,
          maximumAutomaticAttempts: 3,
          retryAttemptSeconds: 600,
          concurrentExecutionRatePercentage: 10,
          errorPercentage: 10,
          graceDays: 14,
          automaticDeletion: false,
          deletionSchedule: 'cron(0 6 * * ? *)',
          scheduleTimezone: 'UTC',
          logLevel: 'info',
          recordSignerRoleNames: [],
        },
        tags: {},
      });
    });

    it('read the roles that may sign records by hand, and refuse anything but IAM role names', () => {
      expect(parseKeyageSettings({ recordSignerRoleNames: ['SecurityOperators', 'ops/BreakGlass'] }).member.recordSignerRoleNames).toEqual(['SecurityOperators', 'ops/BreakGlass']);
      expect(() => parseKeyageSettings({ recordSignerRoleNames: ['arn:aws:iam::123456789012:role/X'] })).toThrow(/keyage\.recordSignerRoleNames.*a list of IAM role names/);
      expect(() => parseKeyageSettings({ recordSignerRoleNames: 'has space' })).toThrow(/keyage\.recordSignerRoleNames/);
    });

    it('fill the organization settings: one Region, SELF, counts (3 failures, 10 at once) with soft tolerance, Regions in order, stacks deleted on removal, org-named buckets, no aggregator', () => {
      expect(parseKeyageSettings(ORG).organization).toEqual({
        ...ORG,
        allowMultipleRegions: false,
        deploymentRegion: 'eu-west-1',
        callAs: 'SELF',
        stackSetName: 'keyage',
        failureToleranceCount: 3,
        maxConcurrentCount: 10,
        concurrencyMode: 'SOFT_FAILURE_TOLERANCE',
        regionConcurrency: 'SEQUENTIAL',
        retainStacksOnAccountRemoval: false,
        assetBucketPrefix: 'keyage-assets-o-a1b2c3d4e5',
        configAggregator: false,
      });
    });

    it('take a percentage instead of a count when one is given, and refuse both at once', () => {
      const s = parseKeyageSettings({ ...ORG, failureTolerancePercentage: 20, maxConcurrentPercentage: 50 }).organization;
      expect(s).toMatchObject({ failureTolerancePercentage: 20, maxConcurrentPercentage: 50 });
      expect(s).not.toHaveProperty('failureToleranceCount');
      expect(s).not.toHaveProperty('maxConcurrentCount');
      expectRefused({ ...ORG, failureToleranceCount: 1, failureTolerancePercentage: 10 }, 'keyage.failureTolerancePercentage', /either keyage.failureToleranceCount or keyage.failureTolerancePercentage, not both/);
      expectRefused({ ...ORG, maxConcurrentCount: 5, maxConcurrentPercentage: 10 }, 'keyage.maxConcurrentPercentage', /not both/);
    });

    it('accept the string forms the CDK -c option gives ("true", "30", "ou-a,ou-b")', () => {
      const s = parseKeyageSettings({
        ...ORG,
        organizationalUnitIds: 'ou-a1b2-c3d4e5f6, r-ab12',
        automaticRemediation: 'true',
        maxAccessKeyAge: '30',
        graceDays: '7',
      });
      expect(s.member).toMatchObject({ automaticRemediation: true, maxAccessKeyAge: 30, graceDays: 7 });
      expect(s.organization?.organizationalUnitIds).toEqual(['ou-a1b2-c3d4e5f6', 'r-ab12']);
    });

    it('normalize the exemption tag the way the rule reads it', () => {
      expect(parseKeyageSettings({ exemptionTag: ' keyage-exempt = yes ' }).member.exemptionTag).toBe('keyage-exempt=yes');
    });
  });

  describe('a wrong value fails with the name of the setting', () => {
    it.each([
      ['maxAccessKeyAge 0', { maxAccessKeyAge: 0 }, 'keyage.maxAccessKeyAge', /1 to 3650/],
      ['maxAccessKeyAge 3651', { maxAccessKeyAge: 3651 }, 'keyage.maxAccessKeyAge', /1 to 3650/],
      ['maxAccessKeyAge "abc"', { maxAccessKeyAge: 'abc' }, 'keyage.maxAccessKeyAge', /whole number/],
      ['maxAccessKeyAge 1.5', { maxAccessKeyAge: 1.5 }, 'keyage.maxAccessKeyAge', /whole number/],
      ['graceDays 0', { graceDays: 0 }, 'keyage.graceDays', /1 to 3650/],
      ['evaluationRefreshDays 61', { evaluationRefreshDays: 61 }, 'keyage.evaluationRefreshDays', /0 to 60/],
      ['evaluationRefreshDays -1', { evaluationRefreshDays: -1 }, 'keyage.evaluationRefreshDays', /0 to 60/],
      ['evaluationRefreshDays "monthly"', { evaluationRefreshDays: 'monthly' }, 'keyage.evaluationRefreshDays', /whole number of days/],
      ['exemptionTag aws:reserved', { exemptionTag: 'aws:reserved' }, 'keyage.exemptionTag', /tag key/],
      ['automaticRemediation "yes"', { automaticRemediation: 'yes' }, 'keyage.automaticRemediation', /true or false/],
      ['automaticDeletion 1', { automaticDeletion: 1 }, 'keyage.automaticDeletion', /true or false/],
      ['maximumExecutionFrequency Daily', { maximumExecutionFrequency: 'Daily' }, 'keyage.maximumExecutionFrequency', /TwentyFour_Hours/],
      ['maximumAutomaticAttempts 26', { maximumAutomaticAttempts: 26 }, 'keyage.maximumAutomaticAttempts', /1 to 25/],
      ['errorPercentage 0', { errorPercentage: 0 }, 'keyage.errorPercentage', /1 to 100/],
      ['deletionSchedule "daily"', { deletionSchedule: 'daily' }, 'keyage.deletionSchedule', /cron\(/],
      ['notificationEmail "security"', { notificationEmail: 'security' }, 'keyage.notificationEmail', /e-mail/],
      ['logLevel "verbose"', { logLevel: 'verbose' }, 'keyage.logLevel', /debug, info, warn, error/],
      ['exemptionTag of 257 characters', { exemptionTag: `${'k'.repeat(128)}=${'v'.repeat(128)}` }, 'keyage.exemptionTag', /at most 256 characters in all/],
      ['centralEventBusArn "keyage-bus"', { centralEventBusArn: 'keyage-bus' }, 'keyage.centralEventBusArn', /arn:aws:events:REGION:ACCOUNT:event-bus\/NAME/],
      ['centralEventBusArn of an SNS topic', { centralEventBusArn: 'arn:aws:sns:eu-west-1:111122223333:keyage' }, 'keyage.centralEventBusArn', /event bus/],
    ])('%s', (_name, raw, setting, allowed) => {
      expectRefused(raw, setting, allowed);
    });

    it.each([
      ['organizationId "org-1"', { ...ORG, organizationId: 'org-1' }, 'keyage.organizationId', /o-/],
      ['organizationalUnitIds ["ou-1"]', { ...ORG, organizationalUnitIds: ['ou-1'] }, 'keyage.organizationalUnitIds', /ou-ab12-cd34ef56/],
      ['organizationalUnitIds []', { ...ORG, organizationalUnitIds: [] }, 'keyage.organizationalUnitIds', /non-empty/],
      ['organizationalUnitIds listed twice', { ...ORG, organizationalUnitIds: ['ou-a1b2-c3d4e5f6', 'ou-a1b2-c3d4e5f6'] }, 'keyage.organizationalUnitIds', /once/],
      ['regions ["Europe"]', { ...ORG, regions: ['Europe'] }, 'keyage.regions', /an AWS Region code; keyage knows af-south-1, .*eu-west-1/],
      ['regions ["eu-westt-1"] (a typo)', { ...ORG, regions: ['eu-westt-1'] }, 'keyage.regions', /did you mean eu-west-1\?/],
      ['regions ["eu-west-9"] (no such Region)', { ...ORG, regions: ['eu-west-9'] }, 'keyage.regions', /an AWS Region code/],
      ['deploymentRegion "us-east-7"', { ...ORG, deploymentRegion: 'us-east-7' }, 'keyage.deploymentRegion', /an AWS Region code/],
      ['deploymentRegion of another partition', { ...ORG, deploymentRegion: 'cn-north-1' }, 'keyage.deploymentRegion', /same partition \(aws\)/],
      ['failureToleranceCount -1', { ...ORG, failureToleranceCount: -1 }, 'keyage.failureToleranceCount', /0 to 10000/],
      ['maxConcurrentCount 0', { ...ORG, maxConcurrentCount: 0 }, 'keyage.maxConcurrentCount', /1 to 10000/],
      ['concurrencyMode "LOOSE"', { ...ORG, concurrencyMode: 'LOOSE' }, 'keyage.concurrencyMode', /SOFT_FAILURE_TOLERANCE, STRICT_FAILURE_TOLERANCE/],
      ['regionConcurrency "ALL"', { ...ORG, regionConcurrency: 'ALL' }, 'keyage.regionConcurrency', /SEQUENTIAL, PARALLEL/],
      ['configAggregator "yes"', { ...ORG, configAggregator: 'yes' }, 'keyage.configAggregator', /true or false/],
      ['callAs "ADMIN"', { ...ORG, callAs: 'ADMIN' }, 'keyage.callAs', /SELF, DELEGATED_ADMIN/],
      ['failureTolerancePercentage 101', { ...ORG, failureTolerancePercentage: 101 }, 'keyage.failureTolerancePercentage', /0 to 100/],
      ['maxConcurrentPercentage 0', { ...ORG, maxConcurrentPercentage: 0 }, 'keyage.maxConcurrentPercentage', /1 to 100/],
      ['assetBucketPrefix "Keyage_Assets"', { ...ORG, assetBucketPrefix: 'Keyage_Assets' }, 'keyage.assetBucketPrefix', /lower-case/],
      ['assetBucketPrefix too long for the Region suffix', { ...ORG, assetBucketPrefix: 'k'.repeat(60) }, 'keyage.assetBucketPrefix', /at most 63 characters/],
    ])('%s', (_name, raw, setting, allowed) => {
      expectRefused(raw, setting, allowed);
    });

    it('refuses a missing organizationId when other organization settings are given', () => {
      expectRefused({ organizationalUnitIds: ['ou-a1b2-c3d4e5f6'], regions: ['eu-west-1'] }, 'keyage.organizationId', /required/);
    });

    it('refuses missing organizationalUnitIds and regions', () => {
      expectRefused({ organizationId: 'o-a1b2c3d4e5', regions: ['eu-west-1'] }, 'keyage.organizationalUnitIds', /required/);
      expectRefused({ organizationId: 'o-a1b2c3d4e5', organizationalUnitIds: ['r-ab12'] }, 'keyage.regions', /required/);
    });

    it('accepts every Region of one partition, and refuses Regions of two partitions in one StackSet', () => {
      expect(parseKeyageSettings({ ...ORG, regions: ['us-gov-west-1'] }).organization?.deploymentRegion).toBe('us-gov-west-1');
      expect(parseKeyageSettings({ ...ORG, regions: ['ap-southeast-7'] }).organization?.regions).toEqual(['ap-southeast-7']);
      expectRefused({ ...ORG, regions: ['eu-west-1', 'cn-north-1'], allowMultipleRegions: true }, 'keyage.regions', /one partition .*found aws and aws-cn/);
    });

    it('refuses a second Region unless allowMultipleRegions says so, because IAM findings would be duplicated', () => {
      expectRefused({ ...ORG, regions: ['eu-west-1', 'us-east-1'] }, 'keyage.regions', /ONE Region.*duplicates every finding/);
      expect(parseKeyageSettings({ ...ORG, regions: ['eu-west-1', 'us-east-1'], allowMultipleRegions: true }).organization?.regions).toEqual(['eu-west-1', 'us-east-1']);
    });

    it('refuses an unknown setting, suggesting the known one it resembles', () => {
      expectRefused({ MaxAccessKeyAge: 90 }, 'keyage.MaxAccessKeyAge', /did you mean maxAccessKeyAge\?/);
      expectRefused({ maxAge: 90 }, 'keyage.maxAge', /a known setting/);
    });
  });

  describe('resource tags', () => {
    it('are taken as an object (or its JSON text from -c), key by key', () => {
      expect(parseKeyageSettings({ tags: { owner: 'security', 'cost-center': 'sec 001' } }).tags).toEqual({ owner: 'security', 'cost-center': 'sec 001' });
      expect(parseKeyageSettings({ tags: '{"owner":"security"}' }).tags).toEqual({ owner: 'security' });
    });

    it.each([
      ['a key of AWS', { 'aws:owner': 'x' }, 'keyage.tags.aws:owner'],
      ["a key of keyage's own", { 'keyage:version': '9' }, 'keyage.tags.keyage:version'],
      ['a value that is not a string', { owner: 7 }, 'keyage.tags.owner'],
      ['a value of 257 characters', { owner: 'x'.repeat(257) }, 'keyage.tags.owner'],
      ['a key with a forbidden character', { 'own!er': 'x' }, 'keyage.tags.own!er'],
    ])('refuse %s, naming the tag', (_name, tags, setting) => {
      expectRefused({ tags }, setting, /at most 40 tags/);
    });

    it('refuse more than 40 tags and anything but an object', () => {
      expectRefused({ tags: Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`t${i}`, 'v'])) }, 'keyage.tags', /at most 40 tags/);
      expectRefused({ tags: ['owner'] }, 'keyage.tags', /an object/);
    });
  });

  describe('loading from the CDK context and a settings file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyage-config-'));

    it('overlays the file named by keyageConfigFile on the keyage context object', () => {
      writeFileSync(join(dir, 'settings.json'), JSON.stringify({ ...ORG, maxAccessKeyAge: 60 }));
      const context: Record<string, unknown> = { keyage: { maxAccessKeyAge: 90, graceDays: 21 }, keyageConfigFile: 'settings.json' };
      const s = loadKeyageSettings((k) => context[k], dir);
      expect(s.member.maxAccessKeyAge).toBe(60);
      expect(s.member.graceDays).toBe(21);
      expect(s.organization?.organizationId).toBe(ORG.organizationId);
    });

    it('reads a keyage context given as a JSON string (-c keyage=...)', () => {
      const s = loadKeyageSettings((k) => (k === 'keyage' ? '{"maxAccessKeyAge":"45"}' : undefined), dir);
      expect(s.member.maxAccessKeyAge).toBe(45);
    });

    it('names keyageConfigFile when the file is missing or is not JSON', () => {
      expect(() => loadKeyageSettings((k) => (k === 'keyageConfigFile' ? 'missing.json' : undefined), dir)).toThrow(
        /parameter keyageConfigFile: "missing.json". Allowed: the path of a readable JSON settings file/,
      );
      writeFileSync(join(dir, 'broken.json'), '{ "maxAccessKeyAge": ');
      expect(() => loadKeyageSettings((k) => (k === 'keyageConfigFile' ? 'broken.json' : undefined), dir)).toThrow(/keyageConfigFile \(.*broken.json\).*a JSON object of settings/);
    });

    it('accepts the shipped cdk.json context and the example settings file', () => {
      const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
      expect(loadKeyageSettings((k) => cdkJson.context[k]).organization).toBeUndefined();
      const example = loadKeyageSettings((k) => (k === 'keyageConfigFile' ? 'stacks/keyage.config.example.json' : undefined), PROJECT_ROOT);
      expect(example.organization?.organizationalUnitIds).toEqual(['ou-a1b2-c3d4e5f6', 'ou-a1b2-g7h8i9j0']);
      expect(example.member.notificationEmail).toBe('security@example.com');
      expect(example.organization).toMatchObject({ failureToleranceCount: 3, maxConcurrentCount: 10, concurrencyMode: 'SOFT_FAILURE_TOLERANCE', configAggregator: true });
      expect(example.tags).toEqual({ owner: 'security-engineering', 'cost-center': 'sec-001' });
    });

    it('documents every setting in docs/deployment.md', () => {
      const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'deployment.md'), 'utf8');
      expect(SETTING_NAMES.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
    });
  });
});
