import { InvalidEventError, InvalidParameterError } from '../../../lib/errors';
import { isExempt, parseEvaluationRefreshDays, parseExemptionTag, parseMaxAccessKeyAge, parseRuleParameters } from '../../../rules/access-key-age/parameters';

describe('parseRuleParameters', () => {
  it('defaults MaxAccessKeyAge to 90, EvaluationRefreshDays to 30 and sets no exemption when parameters are absent or empty', () => {
    for (const raw of [undefined, null, '', '{}', {}]) {
      expect(parseRuleParameters(raw)).toEqual({ maxAccessKeyAgeDays: 90, evaluationRefreshDays: 30 });
    }
  });

  it('reads every parameter from the JSON string AWS Config sends', () => {
    expect(parseRuleParameters('{"MaxAccessKeyAge":"45","ExemptionTag":"keyage-exempt=true","EvaluationRefreshDays":"7"}')).toEqual({
      maxAccessKeyAgeDays: 45,
      exemptionTag: { key: 'keyage-exempt', value: 'true' },
      evaluationRefreshDays: 7,
    });
  });

  it('an empty ExemptionTag means no exemption, and an empty MaxAccessKeyAge or EvaluationRefreshDays the default', () => {
    expect(parseRuleParameters({ MaxAccessKeyAge: ' ', ExemptionTag: '', EvaluationRefreshDays: '' })).toEqual({ maxAccessKeyAgeDays: 90, evaluationRefreshDays: 30 });
  });

  it('names all three parameters when one is unknown', () => {
    expect(() => parseRuleParameters({ RefreshDays: '5' })).toThrow(
      /the rule's parameters are MaxAccessKeyAge, ExemptionTag and EvaluationRefreshDays/,
    );
    expect(() => parseRuleParameters({ evaluationrefreshdays: '5' })).toThrow(/did you mean EvaluationRefreshDays\?/);
  });

  it('rejects an unknown parameter, suggesting the right spelling', () => {
    const err = (() => {
      try {
        parseRuleParameters({ maxaccesskeyage: '30' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InvalidParameterError);
    expect((err as InvalidParameterError).parameter).toBe('maxaccesskeyage');
    expect((err as Error).message).toContain('did you mean MaxAccessKeyAge?');
  });

  it.each(['not json', '[]', '42', 'null'])('rejects ruleParameters %j that are not a JSON object', (raw) => {
    if (raw === 'null') {
      expect(() => parseRuleParameters(JSON.parse(raw))).not.toThrow(); // null means "no parameters"
      return;
    }
    expect(() => parseRuleParameters(raw)).toThrow(InvalidEventError);
  });
});

describe('parseEvaluationRefreshDays', () => {
  it.each([
    [undefined, 30],
    ['', 30],
    ['0', 0],
    [' 1 ', 1],
    ['30', 30],
    ['60', 60],
    [14, 14],
  ])('%j gives %i days', (value, days) => {
    expect(parseEvaluationRefreshDays(value)).toBe(days);
  });

  it.each(['61', '-1', '1.5', 'abc', '30d', 61, 2.5, -3, true, {}])('refuses %j, naming the parameter, the value and the range 0 to 60', (value) => {
    expect(() => parseEvaluationRefreshDays(value)).toThrow(InvalidParameterError);
    expect(() => parseEvaluationRefreshDays(value)).toThrow(/EvaluationRefreshDays: .*Allowed: a whole number of days from 0 to 60 \(default 30; 0 puts every evaluation on every sweep/);
  });

  it('names the surface that passed the value', () => {
    expect(() => parseEvaluationRefreshDays('90', 'keyage.evaluationRefreshDays')).toThrow(/keyage\.evaluationRefreshDays: "90"/);
  });
});

describe('parseMaxAccessKeyAge', () => {
  it.each([
    ['90', 90],
    [' 30 ', 30],
    [1, 1],
    ['3650', 3650],
    ['090', 90],
  ])('accepts %j as %d days', (value, days) => {
    expect(parseMaxAccessKeyAge(value)).toBe(days);
  });

  it.each(['abc', '0', '-5', '1.5', '1e2', '3651', 0, -5, 1.5, Number.NaN, true, {}, ['90']])('rejects %j naming the parameter, the value and what is allowed', (value) => {
    expect(() => parseMaxAccessKeyAge(value)).toThrow(InvalidParameterError);
    expect(() => parseMaxAccessKeyAge(value)).toThrow(/^Invalid value for parameter MaxAccessKeyAge: .+\. Allowed: a whole number of days from 1 to 3650 \(default 90\)\.$/);
  });

  it('names the option the caller knows, e.g. a CLI flag', () => {
    expect(() => parseMaxAccessKeyAge('x', '--max-age')).toThrow(/parameter --max-age: "x"/);
  });
});

describe('parseExemptionTag', () => {
  it.each([
    ['keyage-exempt', { key: 'keyage-exempt' }],
    ['team=platform', { key: 'team', value: 'platform' }],
    ['owner=', { key: 'owner', value: '' }],
    ['a=b=c', { key: 'a', value: 'b=c' }],
  ])('reads %j', (text, tag) => {
    expect(parseExemptionTag(text)).toEqual(tag);
  });

  it.each(['=value', 'aws:cloudformation:stack-name', 'bad!key', 'x'.repeat(129), 42])('rejects %j', (value) => {
    expect(() => parseExemptionTag(value)).toThrow(InvalidParameterError);
  });

  it.each(['aws:cloudformation:stack-name', 'AWS:exempt=yes', 'Aws:x'])('refusing %j names the rule it breaks: keys starting with aws: are reserved by AWS', (value) => {
    expect(() => parseExemptionTag(value, '--exemption-tag')).toThrow(
      `Invalid value for parameter --exemption-tag: ${JSON.stringify(value)}. Allowed: a key of your own, since tag keys starting with aws: (in any letter case) are reserved by AWS and cannot be added to a user; in all, a tag key of 1-128 characters not starting with aws:, optionally followed by =value`,
    );
  });

  it('every refusal says what is allowed, the aws: rule included', () => {
    expect(() => parseExemptionTag('bad!key')).toThrow(/Allowed: a tag key of 1-128 characters not starting with aws: \(tag keys starting with aws: are reserved by AWS\)/);
  });

  it('accepts a tag of 256 characters in all and refuses 257, the most an AWS Config StaticValue holds', () => {
    const key = 'k'.repeat(128);
    expect(parseExemptionTag(`${key}=${'v'.repeat(127)}`)).toEqual({ key, value: 'v'.repeat(127) });
    expect(() => parseExemptionTag(`${key}=${'v'.repeat(128)}`)).toThrow(/at most 256 characters in all/);
    // Spaces around "=" are not counted: the tag is passed on as key=value.
    expect(parseExemptionTag(` ${key} = ${'v'.repeat(127)} `)).toEqual({ key, value: 'v'.repeat(127) });
  });
});

describe('isExempt', () => {
  it('matches the key case-insensitively, as IAM treats tag keys, and the value exactly', () => {
    expect(isExempt([{ Key: 'Keyage-Exempt', Value: 'x' }], { key: 'keyage-exempt' })).toBe(true);
    expect(isExempt([{ Key: 'keyage-exempt', Value: 'True' }], { key: 'keyage-exempt', value: 'true' })).toBe(false);
    expect(isExempt([{ Key: 'keyage-exempt', Value: 'true' }], { key: 'keyage-exempt', value: 'true' })).toBe(true);
  });

  it('is false without an exemption parameter or without tags', () => {
    expect(isExempt([{ Key: 'keyage-exempt', Value: 'true' }], undefined)).toBe(false);
    expect(isExempt(undefined, { key: 'keyage-exempt' })).toBe(false);
  });
});
