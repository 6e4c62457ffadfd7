/**
 * The seeded population's plan: exactly the share of non-compliant users asked for, spread
 * evenly, with the key layout BENCHMARKS.md describes.
 */
import { plan } from '../../bench/seed';

const layout = (users: number, share: number) => Array.from({ length: users }, (_, i) => plan(i, users, share));

describe('plan', () => {
  it.each([
    [5000, 0.01, 50],
    [5000, 0.2, 1000],
    [1000, 0.01, 10],
    [1000, 0.2, 200],
    [100, 0.01, 1],
    [100, 0.2, 20],
    [100, 0.29, 29],
    [7, 0, 0],
    [7, 1, 7],
  ])('%i users at a share of %f give exactly %i NON_COMPLIANT users', (users, share, expected) => {
    expect(layout(users, share).filter((p) => p.expected === 'NON_COMPLIANT')).toHaveLength(expected);
  });

  it('spreads non-compliant users evenly: 1% of 5,000 is every 100th user', () => {
    const indexes = layout(5000, 0.01).flatMap((p, i) => (p.expected === 'NON_COMPLIANT' ? [i] : []));
    expect(indexes.slice(0, 3)).toEqual([99, 199, 299]);
    expect(indexes.at(-1)).toBe(4999);
  });

  it('gives each non-compliant user one old key, and every fourth a second, young key', () => {
    const nc = layout(1000, 0.2).filter((p) => p.expected === 'NON_COMPLIANT');
    expect(nc.every((p) => p.oldKeys === 1)).toBe(true);
    expect(nc.filter((p) => p.youngKeys === 1)).toHaveLength(50);
  });

  it('gives compliant users only young keys: none for 1 in 10, two for 1 in 5, one for the rest', () => {
    const ok = layout(1000, 0).filter((p) => p.expected === 'COMPLIANT');
    expect(ok.every((p) => p.oldKeys === 0)).toBe(true);
    expect([0, 1, 2].map((n) => ok.filter((p) => p.youngKeys === n).length)).toEqual([100, 700, 200]);
  });

  it('refuses a share outside 0–1', () => {
    expect(() => plan(0, 10, 1.5)).toThrow('the non-compliant share must be between 0 and 1, got 1.5');
  });
});
