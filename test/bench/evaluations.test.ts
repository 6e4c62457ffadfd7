/**
 * The evaluations benchmark (`npm run bench -- evaluations`): its command line, the list price
 * by tier, and a small run in which both strategies end with the policy's verdicts and the put-
 * changed one records far fewer evaluations. Counts only; no timing is asserted.
 */
import { formatEvaluations, listPriceUsd, parseEvaluationsCli, runEvaluationsScenario } from '../../bench/evaluations';
import { InvalidParameterError, KeyageError } from '../../lib/errors';

describe('parseEvaluationsCli', () => {
  it('defaults to 100, 1,000 and 5,000 users, 0.1% changing verdict a day, 60 days, the rule’s 30-day window', () => {
    expect(parseEvaluationsCli([])).toEqual({ users: [100, 1000, 5000], changeRate: 0.001, days: 60, refreshDays: 30, nonCompliantShare: 0.01, exemptShare: 0.01 });
  });

  it('reads percentages and lists', () => {
    expect(parseEvaluationsCli(['--users', '10,20', '--change-rate', '0.5%', '--days', '31', '--refresh-days', '7', '--exempt', '0'])).toMatchObject({ users: [10, 20], changeRate: 0.005, days: 31, refreshDays: 7, exemptShare: 0 });
  });

  it.each([
    [['--users', '0'], '--users'],
    [['--users', '5001'], '--users'],
    [['--change-rate', '2'], '--change-rate'],
    [['--days', '91'], '--days'],
    [['--refresh-days', '0'], '--refresh-days'],
    [['--refresh-days', '61'], '--refresh-days'],
  ])('%j is refused, naming %s', (argv, option) => {
    expect(() => parseEvaluationsCli(argv)).toThrow(InvalidParameterError);
    expect(() => parseEvaluationsCli(argv)).toThrow(new RegExp(`parameter ${option}:`));
  });

  it('an unknown option is a named error', () => {
    expect(() => parseEvaluationsCli(['--user', '5'])).toThrow(KeyageError);
  });
});

describe('listPriceUsd', () => {
  it.each([
    [0, 0],
    [150_000, 100_000 * 0.001 + 50_000 * 0.0008],
    [100_000, 100],
    [500_000, 100 + 400_000 * 0.0008],
    [600_000, 100 + 320 + 100_000 * 0.0005],
  ])('%i evaluations cost $%d at list price', (n, usd) => {
    expect(listPriceUsd(n)).toBeCloseTo(usd, 6);
  });
});

describe('runEvaluationsScenario', () => {
  it('200 users over 40 days: the same verdicts every day, and in month 2 one refresh per user plus the changes instead of a put per user per day', async () => {
    const s = await runEvaluationsScenario(200, { changeRate: 0.01, days: 40, refreshDays: 30, nonCompliantShare: 0.02, exemptShare: 0.02 });
    expect(s.sweepsIdentical).toBe(40);
    const [m1, m2] = s.months;
    expect(m1).toMatchObject({ days: [1, 30], verdictChanges: 60, putAll: { recorded: 30 * 200 } });
    // day 1 records everyone; then only the 2 changes a day (day 1's are in its full put)
    expect(m1?.putChanged.recorded).toBe(200 + 29 * 2);
    expect(m2).toMatchObject({ days: [31, 40], putAll: { recorded: 10 * 200 } });
    // day 31 refreshes every record of day 1 still unchanged; days 32-40 the changes and their refreshes
    expect(s.daily.putChanged[30]).toBeGreaterThan(150);
    expect(s.daily.putChanged.slice(31).every((n) => n <= 4)).toBe(true);
    // one read a sweep (200 evaluations: 2 pages), one PutEvaluations at least
    expect(m1?.putChanged.readCalls).toBe(1 + 29 * 2);
    expect(m1?.putAll.putCalls).toBe(30 * 2);
    expect(formatEvaluations([s])).toMatch(/200 +1 \(days 1-30\) +60 +6,000 +\$6\.00 +258 +\$0\.26/);
  });
});
