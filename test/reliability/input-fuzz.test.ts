/**
 * Hostile and malformed input, generated with fast-check: random and broken JSON, wrong types,
 * huge strings (1 MB), deeply nested values, unknown message types. The event parser, the
 * parameter parser and the whole rule Lambda must answer each with a named error — never an
 * evaluation, never an AWS call, never a TypeError or a stack overflow. The credential-report
 * reader must answer each broken report with a CredentialReportError.
 *
 * Seeded and bounded: a failure prints the seed and the shrunk counterexample to replay.
 */
import { ConfigServiceClient, GetComplianceDetailsByConfigRuleCommand, GetResourceConfigHistoryCommand, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import {
  GenerateCredentialReportCommand,
  GetAccountAuthorizationDetailsCommand,
  GetCredentialReportCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { CredentialReportError, InvalidEventError, InvalidParameterError, KeyageError } from '../../lib/errors';
import { createLogger } from '../../lib/log';
import { decodeCredentialReport, parseCredentialReport, reportRowKeys } from '../../rules/access-key-age/credential-report';
import { parseRuleEvent } from '../../rules/access-key-age/event';
import { createHandler } from '../../rules/access-key-age/handler';
import { MAX_MAX_ACCESS_KEY_AGE_DAYS, parseRuleParameters } from '../../rules/access-key-age/parameters';
import { evaluateAccessKeys } from '../../rules/access-key-age/policy';
import { fakeContext } from '../harness/context';
import { credentialReportCsv, REPORT_HEADER } from '../harness/credential-report';
import { changeEvent, oversizedEvent, scheduledEvent, userConfigurationItem } from '../harness/events';

const SEED = 0x0fa22;
/** A named error's message says what was wrong in a few lines, whatever the size of the input. */
const MAX_MESSAGE = 2000;

const MB = 1_048_576;
/** Huge and pathological strings, built once. */
const HUGE: readonly string[] = [
  'A'.repeat(MB),
  `{"MaxAccessKeyAge":"${'9'.repeat(MB)}"}`,
  '['.repeat(MB),
  `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
  `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
  '\u0000\u0001\u0002'.repeat(MB / 3),
  '\ud800'.repeat(1000),
  'é✓🔑'.repeat(MB / 8),
  `"${'x'.repeat(MB)}"`,
];
const DEEP_ARRAY_TEXT = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
const DEEP_OBJECT_TEXT = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
/** Values too deep for a recursive walk (JSON.stringify, String) to survive. */
const DEEP_ARRAY: unknown = JSON.parse(DEEP_ARRAY_TEXT);
const DEEP_OBJECT: unknown = JSON.parse(DEEP_OBJECT_TEXT);

/** JSON text of a generated value, the deep values written out without recursion. */
function toJson(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (v === DEEP_ARRAY ? '\u0000DEEP_ARRAY' : v === DEEP_OBJECT ? '\u0000DEEP_OBJECT' : v)) ?? 'null';
  return text.split('"\\u0000DEEP_ARRAY"').join(DEEP_ARRAY_TEXT).split('"\\u0000DEEP_OBJECT"').join(DEEP_OBJECT_TEXT);
}

const huge = fc.constantFrom(...HUGE);
/** 64 KB versions, for the CSV reader (whose parser takes about half a second per 1 MB field). */
const large = fc.constantFrom(...HUGE.map((h) => h.slice(0, 65_536)));
/** Values of the wrong type for any field. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.anything({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(DEEP_ARRAY, DEEP_OBJECT, Number.NaN, -0, Number.POSITIVE_INFINITY, 1e308, '', ' ', 'null', 'undefined', '{}', '[]', 'true') },
);
/** A JSON text broken somewhere: truncated, a character changed, or junk appended. */
function broken(text: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n)),
    fc.tuple(fc.nat({ max: Math.max(0, text.length - 1) }), fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\u0000', 'x')).map(([n, c]) => text.slice(0, n) + c + text.slice(n + 1)),
    fc.string({ maxLength: 5 }).map((junk) => `${text}${junk}}`),
  );
}

const FIELD_NAMES = ['invokingEvent', 'ruleParameters', 'resultToken', 'eventLeftScope', 'configRuleName', 'accountId', 'configRuleArn', 'executionRoleArn', 'version'];
const INVOKING_FIELDS = ['messageType', 'configurationItem', 'configurationItemSummary', 'notificationCreationTime', 'recordVersion', 'configurationItemDiff'];
const ITEM_FIELDS = ['resourceType', 'resourceId', 'resourceName', 'configurationItemStatus', 'configurationItemCaptureTime', 'configuration', 'awsAccountId'];
const UNKNOWN_MESSAGE_TYPES = [
  'ConfigurationSnapshotDeliveryCompleted',
  'ComplianceChangeNotification',
  'configurationitemchangenotification',
  'ScheduledNotification ',
  'OversizedConfigurationItemChangeNotificationX',
  '',
];

type Event = Record<string, unknown>;
type Mutation = (e: Event) => Event;

const patchInvoking = (patch: (inv: Record<string, unknown>) => unknown): Mutation => (e) => {
  let inv: unknown;
  try {
    inv = JSON.parse(String(e.invokingEvent));
  } catch {
    return e;
  }
  if (inv === null || typeof inv !== 'object' || Array.isArray(inv)) return e;
  try {
    return { ...e, invokingEvent: toJson(patch({ ...(inv as Record<string, unknown>) })) };
  } catch {
    return e; // already holds a value too deep to write out again; leave this mutation out
  }
};

/** One change to a valid event. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.constantFrom(...FIELD_NAMES), wrongValue).map(([k, v]): Mutation => (e) => ({ ...e, [k]: v })),
  fc.constantFrom(...FIELD_NAMES).map((k): Mutation => (e) => Object.fromEntries(Object.entries(e).filter(([n]) => n !== k))),
  fc.oneof(wrongValue, huge, fc.jsonValue().map(toJson), wrongValue.map(toJson)).map((v): Mutation => (e) => ({ ...e, invokingEvent: v })),
  fc.string({ maxLength: 20 }).chain((seed) => broken(JSON.stringify({ messageType: 'ScheduledNotification', notificationCreationTime: '2026-11-25T12:00:00.000Z', seed }))).map((v): Mutation => (e) => ({ ...e, invokingEvent: v })),
  fc.oneof(fc.constantFrom(...UNKNOWN_MESSAGE_TYPES), fc.string({ maxLength: 40 }), wrongValue).map((t): Mutation => patchInvoking((inv) => ({ ...inv, messageType: t }))),
  fc.tuple(fc.constantFrom(...INVOKING_FIELDS), wrongValue).map(([k, v]): Mutation => patchInvoking((inv) => ({ ...inv, [k]: v }))),
  fc.tuple(fc.constantFrom(...ITEM_FIELDS), wrongValue, fc.boolean()).map(([k, v, summary]): Mutation =>
    patchInvoking((inv) => {
      const where = summary ? 'configurationItemSummary' : 'configurationItem';
      const item = inv[where];
      return item && typeof item === 'object' ? { ...inv, [where]: { ...(item as object), [k]: v } } : inv;
    }),
  ),
  fc.oneof(
    wrongValue,
    fc.dictionary(fc.oneof(fc.constantFrom('MaxAccessKeyAge', 'ExemptionTag', 'maxAccessKeyAge', 'MaxAccessKeyAge '), fc.string({ maxLength: 30 }), huge), wrongValue, { maxKeys: 3 }).map(toJson),
    broken('{"MaxAccessKeyAge":"90","ExemptionTag":"keyage-exempt=true"}'),
  ).map((v): Mutation => (e) => ({ ...e, ruleParameters: v })),
);

/** A valid event of each kind, then 1 to 4 changes. */
const hostileEvent: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: wrongValue },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom<() => Event>(
          () => changeEvent(userConfigurationItem(), { MaxAccessKeyAge: '90' }),
          () => oversizedEvent({}, {}),
          () => scheduledEvent({ ExemptionTag: 'keyage-exempt=true' }),
          () => changeEvent(userConfigurationItem({ configurationItemStatus: 'ResourceDeleted' })),
        ),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
      )
      .map(([base, ms]) => ms.reduce((e, m) => m(e), base())),
  },
);

/** Counts printed once at the end (docs/reliability.md quotes them). */
const figures: Record<string, Record<string, number>> = {};
const tally = (test: string, outcome: string) => {
  const t = (figures[test] ??= {});
  t[outcome] = (t[outcome] ?? 0) + 1;
};
afterAll(() => process.stdout.write(`[keyage reliability] fuzz figures ${JSON.stringify(figures)}\n`));

/** Runs `fn`; returns the error it threw (or undefined). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err;
  }
}

function expectNamedError(err: unknown, classes: readonly (abstract new (...args: never[]) => Error)[]): void {
  if (!classes.some((c) => err instanceof c)) {
    throw new Error(`expected ${classes.map((c) => c.name).join(' or ')}, got ${err instanceof Error ? `${err.name}: ${err.message.slice(0, 300)}` : String(err)}`);
  }
  expect((err as Error).message.length).toBeLessThanOrEqual(MAX_MESSAGE);
}

describe('parseRuleParameters (fuzzed)', () => {
  it('answers any value with valid parameters or an InvalidParameterError / InvalidEventError of bounded length', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          wrongValue,
          fc.dictionary(fc.oneof(fc.constantFrom('MaxAccessKeyAge', 'ExemptionTag'), fc.string({ maxLength: 20 }), huge), wrongValue, { maxKeys: 3 }),
          fc.dictionary(fc.constantFrom('MaxAccessKeyAge', 'ExemptionTag'), wrongValue, { maxKeys: 2 }).map(toJson),
          broken('{"MaxAccessKeyAge":"90","ExemptionTag":"team=platform"}'),
        ),
        (raw) => {
          let parsed: ReturnType<typeof parseRuleParameters> | undefined;
          const err = thrownBy(() => {
            parsed = parseRuleParameters(raw);
          });
          tally('parameters', err === undefined ? 'accepted' : (err as Error).name);
          if (err === undefined) {
            expect(Number.isInteger(parsed?.maxAccessKeyAgeDays)).toBe(true);
            expect(parsed?.maxAccessKeyAgeDays).toBeGreaterThanOrEqual(1);
            expect(parsed?.maxAccessKeyAgeDays).toBeLessThanOrEqual(MAX_MAX_ACCESS_KEY_AGE_DAYS);
          } else {
            expectNamedError(err, [InvalidParameterError, InvalidEventError]);
          }
        },
      ),
      { seed: SEED, numRuns: 800 },
    );
  });

  it.each<[string, unknown]>([
    ['a value nested 20,000 arrays deep', { MaxAccessKeyAge: DEEP_ARRAY }],
    ['an exemption tag nested 20,000 objects deep', { ExemptionTag: DEEP_OBJECT }],
    ['an unknown parameter whose value is nested 20,000 deep', `{"Other":${DEEP_ARRAY_TEXT}}`],
    ['a parameter name of 1 MB', { ['N'.repeat(MB)]: '90' }],
    ['a MaxAccessKeyAge of a million digits', { MaxAccessKeyAge: '9'.repeat(MB) }],
    ['an ExemptionTag of 1 MB', { ExemptionTag: 'k'.repeat(MB) }],
  ])('%s is a named error with a short message', (_label, raw) => {
    expectNamedError(thrownBy(() => parseRuleParameters(raw)), [InvalidParameterError, InvalidEventError]);
  });
});

describe('parseRuleEvent (fuzzed)', () => {
  it('answers any event with a parsed event or an InvalidEventError of bounded length', () => {
    fc.assert(
      fc.property(hostileEvent, (event) => {
        const err = thrownBy(() => parseRuleEvent(event));
        tally('events', err === undefined ? 'accepted' : (err as Error).name);
        if (err !== undefined) expectNamedError(err, [InvalidEventError]);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it.each(UNKNOWN_MESSAGE_TYPES)('the unknown message type %j is an InvalidEventError naming the allowed types', (messageType) => {
    const event = patchInvoking((inv) => ({ ...inv, messageType }))(scheduledEvent());
    const err = thrownBy(() => parseRuleEvent(event));
    expectNamedError(err, [InvalidEventError]);
    expect((err as Error).message).toMatch(/expected one of ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification, ScheduledNotification/);
  });
});

describe('the rule Lambda on hostile events (fuzzed)', () => {
  const iamMock = mockClient(IAMClient);
  const configMock = mockClient(ConfigServiceClient);
  const NOW = new Date('2026-11-25T12:00:00Z');
  const rule = createHandler({
    iam: new IAMClient({ region: 'us-east-1' }),
    config: new ConfigServiceClient({ region: 'us-east-1' }),
    now: () => NOW,
    wallClock: () => NOW,
    sleep: async () => undefined,
    retry: { maxAttempts: 2 },
    log: createLogger({ level: 'error', sink: () => undefined }),
  });

  function resetMocks(): void {
    iamMock.reset();
    configMock.reset();
    const user = { UserName: 'alice', UserId: 'AIDAEXAMPLEALICE00001', Arn: 'arn:aws:iam::123456789012:user/alice', CreateDate: NOW, Path: '/' };
    iamMock.on(GetUserCommand).rejects(new NoSuchEntityException({ message: 'The user with name x cannot be found.', $metadata: {} }));
    iamMock.on(ListUsersCommand).resolves({ Users: [user] });
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [{ ...user, Tags: [] }] });
    iamMock.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iamMock.on(GetCredentialReportCommand).resolves({ Content: Buffer.from(credentialReportCsv([])), GeneratedTime: NOW });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
    configMock.on(GetResourceConfigHistoryCommand).resolves({ configurationItems: [] });
  }

  it('a malformed event or bad parameter fails with the named error, before any AWS call and without any evaluation; a valid one never crashes', async () => {
    const seen = { malformed: 0, valid: 0 };
    await fc.assert(
      fc.asyncProperty(hostileEvent, async (event) => {
        resetMocks();
        const expected = thrownBy(() => parseRuleParameters(parseRuleEvent(event).ruleParameters));
        const err = await rule(event, fakeContext()).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (expected !== undefined) {
          seen.malformed++;
          tally('handler', (expected as Error).name);
          expectNamedError(err, [(expected as Error).constructor as new () => Error]);
          expect((err as Error).message).toBe((expected as Error).message);
          expect(configMock.commandCalls(PutEvaluationsCommand)).toHaveLength(0);
          expect(configMock.calls()).toHaveLength(0);
          expect(iamMock.calls()).toHaveLength(0);
        } else {
          seen.valid++;
          tally('handler', err === undefined ? 'evaluated' : `valid event, ${(err as Error).name}`);
          // A well-formed event may still fail (an oversized item Config no longer has): with a named error only.
          if (err !== undefined) expectNamedError(err, [KeyageError]);
        }
      }),
      { seed: SEED, numRuns: 600 },
    );
    expect(seen.malformed).toBeGreaterThan(400);
    expect(seen.valid).toBeGreaterThan(10);
  });
});

describe('the credential-report reader (fuzzed)', () => {
  const T = new Date('2026-06-01T10:00:00Z');
  const VALID = credentialReportCsv([
    { user: 'alice', created: new Date('2024-01-01T00:00:00Z'), keys: [{ active: true, lastRotated: T, lastUsed: T }, { active: false, lastRotated: T }] },
    { user: 'bob', created: new Date('2025-01-01T00:00:00Z'), keys: [undefined, { active: true, lastRotated: T, lastUsed: null }] },
    { user: 'carol "the admin"', created: new Date('2025-02-01T00:00:00Z') },
  ]);
  const CELLS = fc.oneof(
    fc.constantFrom('', 'N/A', 'true', 'false', 'TRUE', 'no_information', 'not_supported', '2026-13-45T99:99:99+00:00', '2026-06-01', '1717236000', '"', '""', ',', '\n', '\r\n', '\u0000', '<root_account>'),
    fc.string({ maxLength: 30 }),
    large,
  );

  /** One change to a valid report: a cell replaced, a line dropped or duplicated, a cut, bytes inserted. */
  const brokenReport: fc.Arbitrary<string> = fc.oneof(
    fc.tuple(fc.nat(), fc.nat(), CELLS).map(([l, c, v]) => {
      const lines = VALID.trimEnd().split('\n').map((line) => line.split(','));
      const line = lines[l % lines.length] as string[];
      line[c % line.length] = v;
      return lines.map((x) => x.join(',')).join('\n');
    }),
    fc.nat().map((n) => VALID.slice(0, n % VALID.length)),
    fc.tuple(fc.nat(), fc.string({ maxLength: 8 })).map(([n, s]) => VALID.slice(0, n % VALID.length) + s + VALID.slice(n % VALID.length)),
    fc.nat().map((l) => VALID.split('\n').filter((_, i) => i !== l % 5).join('\n')),
    fc.nat().map((l) => {
      const lines = VALID.split('\n');
      return [...lines.slice(0, (l % 4) + 1), lines[l % 4] ?? '', ...lines.slice((l % 4) + 1)].join('\n');
    }),
    fc.constantFrom(REPORT_HEADER.replace('access_key_1_active,', ''), `${REPORT_HEADER},extra`, `\uFEFF${VALID}`, VALID.replace(/\n/g, '\r\n'), VALID.replace(/,/g, ';')),
    fc.string({ maxLength: 200 }),
    large,
  );

  /** A report that parsed is good input for the policy: it never makes the policy throw. */
  function expectUsable(report: ReturnType<typeof parseCredentialReport>): void {
    for (const row of report.rows) {
      expect(row.keys.length).toBeLessThanOrEqual(2);
      for (const k of row.keys) expect(Number.isNaN(k.lastRotated.getTime())).toBe(false);
      evaluateAccessKeys(reportRowKeys(row), T, { maxAccessKeyAgeDays: 90 });
    }
  }

  it('parseCredentialReport answers any text with a usable report or a CredentialReportError', () => {
    fc.assert(
      fc.property(brokenReport, (csv) => {
        let report: ReturnType<typeof parseCredentialReport> | undefined;
        const err = thrownBy(() => {
          report = parseCredentialReport(csv);
        });
        tally('credentialReportCsv', err === undefined ? 'parsed' : (err as Error).name);
        if (err === undefined) expectUsable(report as ReturnType<typeof parseCredentialReport>);
        else expectNamedError(err, [CredentialReportError]);
      }),
      { seed: SEED, numRuns: 600 },
    );
    expect(figures.credentialReportCsv?.parsed).toBeGreaterThan(20);
    expect(figures.credentialReportCsv?.CredentialReportError).toBeGreaterThan(200);
  });

  it.each<[string, string]>([
    ['1 MB of one letter', 'A'.repeat(MB)],
    ['a valid report with a 1 MB user name', VALID.replace('alice', 'a'.repeat(MB))],
    ['1 MB of control bytes', '\u0001'.repeat(MB)],
  ])('%s is read or refused with a CredentialReportError, never a crash', (_label, csv) => {
    let report: ReturnType<typeof parseCredentialReport> | undefined;
    const err = thrownBy(() => {
      report = parseCredentialReport(csv);
    });
    if (err === undefined) expectUsable(report as ReturnType<typeof parseCredentialReport>);
    else expectNamedError(err, [CredentialReportError]);
  });

  it('decodeCredentialReport answers any bytes, base64 or JSON wrapper with a usable report or a CredentialReportError', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
      brokenReport.map((csv) => Buffer.from(csv, 'utf8').toString('base64')),
      brokenReport.map((csv) => JSON.stringify({ Content: Buffer.from(csv).toString('base64'), ReportFormat: 'text/csv', GeneratedTime: '2026-06-01T10:00:00Z' })),
      fc.record({ Content: wrongValue, GeneratedTime: wrongValue }, { requiredKeys: [] }).map(toJson),
      wrongValue.map((v) => `{"Content":${toJson(v)}`),
      brokenReport,
    );
    fc.assert(
      fc.property(input, (raw) => {
        let report: ReturnType<typeof parseCredentialReport> | undefined;
        const err = thrownBy(() => {
          report = decodeCredentialReport(raw, 'report.csv');
        });
        tally('credentialReportDecode', err === undefined ? 'parsed' : (err as Error).name);
        if (err === undefined) expectUsable(report as ReturnType<typeof parseCredentialReport>);
        else expectNamedError(err, [CredentialReportError]);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
