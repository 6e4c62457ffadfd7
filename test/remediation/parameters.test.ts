import { InvalidEventError, InvalidParameterError } from '../../lib/errors';
import { parseDryRun, parseGracePeriodDays, parseRemediationPayload, parseUserTarget } from '../../remediation/parameters';

/** The error thrown by `fn`, which must throw. */
function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('parseDryRun', () => {
  it.each([
    ['true', true],
    ['false', false],
    ['FALSE', false],
    [true, true],
    [false, false],
    ['', true],
    [undefined, true],
  ])('reads %p as %p (absent or empty means a dry run)', (value, expected) => {
    expect(parseDryRun(value)).toBe(expected);
  });

  it('rejects anything else, naming the parameter and what is allowed', () => {
    const err = errorOf(() => parseDryRun('no', '--dry-run'));
    expect(err).toBeInstanceOf(InvalidParameterError);
    expect(err.message).toBe('Invalid value for parameter --dry-run: "no". Allowed: "true" or "false" (default "true": report the plan, change nothing).');
  });
});

describe('parseGracePeriodDays', () => {
  it('defaults to 14 days when empty or absent', () => {
    expect(parseGracePeriodDays('')).toBe(14);
    expect(parseGracePeriodDays(undefined)).toBe(14);
  });

  it('reads whole days given as a string or a number', () => {
    expect(parseGracePeriodDays('30')).toBe(30);
    expect(parseGracePeriodDays(1)).toBe(1);
  });

  it.each(['0', '-1', '1.5', 'two weeks', '3651', 0])('rejects %p with a message naming GracePeriodDays', (value) => {
    const err = errorOf(() => parseGracePeriodDays(value));
    expect(err).toBeInstanceOf(InvalidParameterError);
    expect(err.message).toContain('Invalid value for parameter GracePeriodDays');
    expect(err.message).toContain('a whole number of days from 1 to 3650 (default 14)');
  });
});

describe('parseUserTarget', () => {
  it('"*" means every user', () => {
    expect(parseUserTarget('*')).toEqual({ allUsers: true });
  });

  it('an AIDA… ID is a user ID; anything else that IAM allows in a name is a user name', () => {
    expect(parseUserTarget('AIDAJQABLZS4A3QDU576Q')).toEqual({ userId: 'AIDAJQABLZS4A3QDU576Q' });
    expect(parseUserTarget('deploy.bot@example')).toEqual({ userName: 'deploy.bot@example' });
  });

  it.each(['', ' ', 'a b', 'x'.repeat(65)])('rejects %p: "every user" must be asked for explicitly', (value) => {
    expect(() => parseUserTarget(value)).toThrow(InvalidParameterError);
  });
});

describe('parseRemediationPayload', () => {
  it('reads runbook 1\'s payload, all strings as SSM sends them', () => {
    expect(
      parseRemediationPayload({
        Operation: 'deactivate',
        IAMResourceId: 'AIDAJQABLZS4A3QDU576Q',
        MaxAccessKeyAge: '90',
        ExemptionTag: 'keyage-exempt=true',
        DryRun: 'false',
        AutomationExecutionId: 'a1b2',
      }),
    ).toEqual({
      operation: 'deactivate',
      userId: 'AIDAJQABLZS4A3QDU576Q',
      maxAccessKeyAgeDays: 90,
      exemptionTag: { key: 'keyage-exempt', value: 'true' },
      dryRun: false,
      automationExecutionId: 'a1b2',
    });
  });

  it('reads runbook 2\'s payload; an empty ExemptionTag means none', () => {
    expect(parseRemediationPayload({ Operation: 'delete', IAMUser: '*', GracePeriodDays: '14', ExemptionTag: '', DryRun: 'true' })).toEqual({
      operation: 'delete',
      target: { allUsers: true },
      graceDays: 14,
      dryRun: true,
    });
  });

  it('rejects a field the operation does not take (a typo in a runbook must fail)', () => {
    const err = errorOf(() => parseRemediationPayload({ Operation: 'deactivate', IAMResourceId: 'AIDAJQABLZS4A3QDU576Q', MaxAccessKeyAges: '90' }));
    expect(err).toBeInstanceOf(InvalidParameterError);
    expect(err.message).toContain('Invalid value for parameter MaxAccessKeyAges');
    expect(err.message).toContain("the deactivate payload's fields are Operation, IAMResourceId, MaxAccessKeyAge, ExemptionTag, DryRun, AutomationExecutionId");
  });

  it('rejects runbook 2\'s field in runbook 1\'s payload', () => {
    expect(() => parseRemediationPayload({ Operation: 'deactivate', IAMResourceId: 'AIDAJQABLZS4A3QDU576Q', GracePeriodDays: '14' })).toThrow('GracePeriodDays');
  });

  it('rejects an unknown operation, naming the allowed ones', () => {
    expect(() => parseRemediationPayload({ Operation: 'rotate' })).toThrow('Allowed: "deactivate" or "delete".');
  });

  it('rejects a missing or malformed user ID, naming IAMResourceId', () => {
    expect(() => parseRemediationPayload({ Operation: 'deactivate' })).toThrow('Invalid value for parameter IAMResourceId: undefined.');
    expect(() => parseRemediationPayload({ Operation: 'deactivate', IAMResourceId: 'AIDA"}' })).toThrow('IAMResourceId');
  });

  it('rejects a bad MaxAccessKeyAge with the rule\'s own message', () => {
    expect(() => parseRemediationPayload({ Operation: 'deactivate', IAMResourceId: 'AIDAJQABLZS4A3QDU576Q', MaxAccessKeyAge: 'ninety' })).toThrow(
      'Invalid value for parameter MaxAccessKeyAge: "ninety". Allowed: a whole number of days from 1 to 3650 (default 90).',
    );
  });

  it.each([null, 'deactivate', ['Operation']])('rejects a payload that is not an object: %p', (event) => {
    expect(() => parseRemediationPayload(event)).toThrow(InvalidEventError);
  });
});
