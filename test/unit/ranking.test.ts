import { hotRank, wilsonLowerBound } from '../../src/modules/posts/ranking';

describe('hot ranking', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const later = (hours: number) => new Date(t0.getTime() + hours * 3600_000);

  it('ranks a newer post above an older one with the same score', () => {
    expect(hotRank(5, later(1))).toBeGreaterThan(hotRank(5, t0));
  });

  it('trades ten times the votes for 12.5 hours of age', () => {
    expect(hotRank(100, t0)).toBeCloseTo(hotRank(10, later(12.5)), 5);
  });

  it('sinks posts with a negative score below fresh posts with none', () => {
    expect(hotRank(-10, t0)).toBeLessThan(hotRank(0, t0));
  });
});

describe('Wilson lower bound', () => {
  it('is zero without votes and below the raw ratio with few', () => {
    expect(wilsonLowerBound(0, 0)).toBe(0);
    expect(wilsonLowerBound(1, 0)).toBeLessThan(1);
  });

  it('prefers 90 up / 10 down over 1 up / 0 down', () => {
    expect(wilsonLowerBound(90, 10)).toBeGreaterThan(wilsonLowerBound(1, 0));
  });

  it('matches the published value for 5 up / 1 down', () => {
    // (p + z²/2n − z√(p(1−p)/n + z²/4n²)) / (1 + z²/n) with p = 5/6, n = 6, z = 1.96
    expect(wilsonLowerBound(5, 1)).toBeCloseTo(0.4365, 3);
  });
});
