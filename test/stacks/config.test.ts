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
      });
    });

    it('read the roles that may sign records by hand, and refuse anything but IAM role names', () => {
      expect(parseKeyageSettings({ recordSignerRoleNames: ['SecurityOperators', 'ops/BreakGlass'] }).member.recordSignerRoleNames).toEqual(['SecurityOperators', 'ops/BreakGlass']);
      expect(() => parseKeyageSettings({ recordSignerRoleNames: ['arn:aws:iam::123456789012:role/X'] })).toThrow(/keyage\.recordSignerRoleNames.*a list of IAM role names/);
      expect(() => parseKeyageSettings({ recordSignerRoleNames: 'has space' })).toThrow(/keyage\.recordSignerRoleNames/);
    });

    it('fill the organization settings: one Region, SELF, tolerance 10%, concurrency 25%, stacks deleted on removal, org-named buckets', () => {
      expect(parseKeyageSettings(ORG).organization).toEqual({
        ...ORG,
        allowMultipleRegions: false,
        deploymentRegion: 'eu-west-1',
        callAs: 'SELF',
        stackSetName: 'keyage',
        failureTolerancePercentage: 10,
        maxConcurrentPercentage: 25,
        retainStacksOnAccountRemoval: false,
        assetBucketPrefix: 'keyage-assets-o-a1b2c3d4e5',
      });
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
      ['exemptionTag aws:reserved', { exemptionTag: 'aws:reserved' }, 'keyage.exemptionTag', /tag key/],
      ['automaticRemediation "yes"', { automaticRemediation: 'yes' }, 'keyage.automaticRemediation', /true or false/],
      ['automaticDeletion 1', { automaticDeletion: 1 }, 'keyage.automaticDeletion', /true or false/],
      ['maximumExecutionFrequency Daily', { maximumExecutionFrequency: 'Daily' }, 'keyage.maximumExecutionFrequency', /TwentyFour_Hours/],
      ['maximumAutomaticAttempts 26', { maximumAutomaticAttempts: 26 }, 'keyage.maximumAutomaticAttempts', /1 to 25/],
      ['errorPercentage 0', { errorPercentage: 0 }, 'keyage.errorPercentage', /1 to 100/],
      ['deletionSchedule "daily"', { deletionSchedule: 'daily' }, 'keyage.deletionSchedule', /cron\(/],
      ['notificationEmail "security"', { notificationEmail: 'security' }, 'keyage.notificationEmail', /e-mail/],
      ['logLevel "verbose"', { logLevel: 'verbose' }, 'keyage.logLevel', /debug, info, warn, error/],
    ])('%s', (_name, raw, setting, allowed) => {
      expectRefused(raw, setting, allowed);
    });

    it.each([
      ['organizationId "org-1"', { ...ORG, organizationId: 'org-1' }, 'keyage.organizationId', /o-/],
      ['organizationalUnitIds ["ou-1"]', { ...ORG, organizationalUnitIds: ['ou-1'] }, 'keyage.organizationalUnitIds', /ou-ab12-cd34ef56/],
      ['organizationalUnitIds []', { ...ORG, organizationalUnitIds: [] }, 'keyage.organizationalUnitIds', /non-empty/],
      ['organizationalUnitIds listed twice', { ...ORG, organizationalUnitIds: ['ou-a1b2-c3d4e5f6', 'ou-a1b2-c3d4e5f6'] }, 'keyage.organizationalUnitIds', /once/],
      ['regions ["Europe"]', { ...ORG, regions: ['Europe'] }, 'keyage.regions', /Region codes/],
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

    it('refuses a second Region unless allowMultipleRegions says so, because IAM findings would be duplicated', () => {
      expectRefused({ ...ORG, regions: ['eu-west-1', 'us-east-1'] }, 'keyage.regions', /ONE Region.*duplicates every finding/);
      expect(parseKeyageSettings({ ...ORG, regions: ['eu-west-1', 'us-east-1'], allowMultipleRegions: true }).organization?.regions).toEqual(['eu-west-1', 'us-east-1']);
    });

    it('refuses an unknown setting, suggesting the known one it resembles', () => {
      expectRefused({ MaxAccessKeyAge: 90 }, 'keyage.MaxAccessKeyAge', /did you mean maxAccessKeyAge\?/);
      expectRefused({ maxAge: 90 }, 'keyage.maxAge', /a known setting/);
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
    });

    it('documents every setting in docs/deployment.md', () => {
      const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'deployment.md'), 'utf8');
      expect(SETTING_NAMES.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
    });
  });
});
