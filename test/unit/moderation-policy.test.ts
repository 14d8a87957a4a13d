import { backoffMs } from '../../src/modules/moderation/dispatcher';
import {
  DEFAULT_POLICY,
  type Policy,
  type Scores,
  checkPolicy,
  decide,
  effectiveBands,
  priorityOf,
  reporterAccuracy,
  trustOf,
} from '../../src/modules/moderation/policy';

const calm: Scores = { toxicity: 0.1, hate: 0.05, spam: 0.02 };
const scores = (s: Partial<Scores>): Scores => ({ ...calm, ...s });
const newcomer = { accountAgeDays: 0, reputation: 0, acceptedAnswers: 0, strikes: 0 };

describe('decide', () => {
  it('allows content whose every score is below its review band', () => {
    expect(decide(calm, DEFAULT_POLICY, 0)).toEqual({ action: 'ALLOW', status: 'PUBLISHED', label: null });
  });

  it('holds content for review from the review band on, inclusive', () => {
    expect(decide(scores({ spam: DEFAULT_POLICY.spam.review }), DEFAULT_POLICY, 0)).toEqual({ action: 'HOLD', status: 'PENDING_REVIEW', label: 'spam' });
    expect(decide(scores({ spam: DEFAULT_POLICY.spam.review - 0.001 }), DEFAULT_POLICY, 0).action).toBe('ALLOW');
  });

  it('hides content from the hide band on, inclusive', () => {
    expect(decide(scores({ toxicity: DEFAULT_POLICY.toxicity.hide }), DEFAULT_POLICY, 0)).toEqual({ action: 'HIDE', status: 'HIDDEN', label: 'toxicity' });
  });

  it('lets hiding win over holding whatever the label order', () => {
    // hate is held, spam (a later label) is hidden: the stronger action decides.
    const d = decide(scores({ hate: 0.6, spam: 0.99 }), DEFAULT_POLICY, 0);
    expect(d).toMatchObject({ action: 'HIDE', label: 'spam' });
    // toxicity (the first label) is hidden, hate is only held: a later hold must not undo the hide.
    expect(decide(scores({ toxicity: 0.99, hate: 0.6 }), DEFAULT_POLICY, 0)).toMatchObject({ action: 'HIDE', label: 'toxicity' });
  });

  it('names the label furthest past its band when several are held', () => {
    const policy: Policy = { toxicity: { review: 0.5, hide: 0.99 }, hate: { review: 0.5, hide: 0.99 }, spam: { review: 0.5, hide: 0.99 } };
    expect(decide({ toxicity: 0.6, hate: 0.8, spam: 0.7 }, policy, 0)).toMatchObject({ action: 'HOLD', label: 'hate' });
    expect(decide({ toxicity: 0.995, hate: 0.999, spam: 0.991 }, policy, 0)).toMatchObject({ action: 'HIDE', label: 'hate' });
  });

  it('gives a trusted author more room before review, but never before hiding', () => {
    const borderline = scores({ toxicity: 0.8 });
    expect(decide(borderline, DEFAULT_POLICY, 0).action).toBe('HOLD');
    expect(decide(borderline, DEFAULT_POLICY, 1).action).toBe('ALLOW');
    expect(decide(scores({ toxicity: 0.98 }), DEFAULT_POLICY, 1).action).toBe('HIDE');
  });

  it('holds everything under a policy whose review bands are zero', () => {
    const strict: Policy = { toxicity: { review: 0, hide: 1 }, hate: { review: 0, hide: 1 }, spam: { review: 0, hide: 1 } };
    expect(decide({ toxicity: 0, hate: 0, spam: 0 }, strict, 0).action).toBe('HOLD');
  });
});

describe('trustOf', () => {
  it('starts at zero for a new account', () => {
    expect(trustOf(newcomer)).toBe(0);
  });

  it('grows with account age, reputation and accepted answers, up to one', () => {
    expect(trustOf({ ...newcomer, accountAgeDays: 45 })).toBeCloseTo(0.5);
    expect(trustOf({ ...newcomer, reputation: 250 })).toBeCloseTo(0.5);
    expect(trustOf({ ...newcomer, acceptedAnswers: 2 })).toBeCloseTo(0.4);
    expect(trustOf({ accountAgeDays: 400, reputation: 10_000, acceptedAnswers: 50, strikes: 0 })).toBe(1);
  });

  it('does not let negative reputation go below zero', () => {
    expect(trustOf({ ...newcomer, reputation: -500 })).toBe(0);
  });

  it('drops to zero after any strike, however much was earned', () => {
    expect(trustOf({ accountAgeDays: 400, reputation: 10_000, acceptedAnswers: 50, strikes: 1 })).toBe(0);
  });
});

describe('effectiveBands', () => {
  it('keeps the bands for an untrusted author', () => {
    expect(effectiveBands({ review: 0.6, hide: 0.9 }, 0)).toEqual({ review: 0.6, hide: 0.9 });
  });

  it('moves the review band at most halfway to the hide band and leaves hiding alone', () => {
    expect(effectiveBands({ review: 0.6, hide: 1 }, 1)).toEqual({ review: 0.8, hide: 1 });
    expect(effectiveBands({ review: 0.6, hide: 1 }, 0.5).review).toBeCloseTo(0.7);
  });
});

describe('checkPolicy', () => {
  it('accepts the defaults and the extremes 0 ≤ review ≤ hide ≤ 1', () => {
    expect(checkPolicy(DEFAULT_POLICY)).toBeNull();
    expect(checkPolicy({ toxicity: { review: 0, hide: 0 }, hate: { review: 1, hide: 1 }, spam: { review: 0, hide: 1 } })).toBeNull();
  });

  it('rejects a review band above the hide band, out of range or missing, naming the label', () => {
    expect(checkPolicy({ ...DEFAULT_POLICY, spam: { review: 0.9, hide: 0.1 } })).toMatch(/^spam:/);
    expect(checkPolicy({ ...DEFAULT_POLICY, hate: { review: -0.1, hide: 0.5 } })).toMatch(/^hate:/);
    expect(checkPolicy({ ...DEFAULT_POLICY, toxicity: { review: 0.5, hide: 1.5 } })).toMatch(/^toxicity:/);
    expect(checkPolicy({ ...DEFAULT_POLICY, hate: { review: Number.NaN, hide: 0.5 } })).toMatch(/^hate:/);
    const { spam: _omitted, ...partial } = DEFAULT_POLICY;
    expect(checkPolicy(partial as Policy)).toMatch(/^spam:/);
  });
});

describe('reporterAccuracy', () => {
  it('gives an unknown reporter even odds', () => {
    expect(reporterAccuracy(0, 0)).toBe(0.5);
  });

  it('approaches the upheld share as reports are resolved', () => {
    expect(reporterAccuracy(9, 10)).toBeCloseTo(10 / 12);
    expect(reporterAccuracy(0, 10)).toBeCloseTo(1 / 12);
    expect(reporterAccuracy(99, 100)).toBeGreaterThan(reporterAccuracy(9, 10));
  });
});

describe('priorityOf', () => {
  const quiet = { scores: null, openReports: [], appealOpen: false, escalated: false };

  it('is zero without any signal', () => {
    expect(priorityOf(quiet)).toBe(0);
  });

  it('counts the strongest score, each report by its reporter’s accuracy, appeals and escalations', () => {
    expect(priorityOf({ ...quiet, scores: { toxicity: 0.2, hate: 0.9, spam: 0.4 } })).toBe(90);
    expect(priorityOf({ ...quiet, openReports: [1, 0.5] })).toBe(37.5);
    expect(priorityOf({ ...quiet, appealOpen: true })).toBe(40);
    expect(priorityOf({ ...quiet, escalated: true })).toBe(60);
    expect(priorityOf({ scores: { toxicity: 0.5, hate: 0, spam: 0 }, openReports: [0.5], appealOpen: true, escalated: true })).toBe(162.5);
  });

  it('ranks a report from an accurate reporter above one from a reporter usually overruled', () => {
    const accurate = priorityOf({ ...quiet, openReports: [reporterAccuracy(20, 20)] });
    const overruled = priorityOf({ ...quiet, openReports: [reporterAccuracy(0, 20)] });
    expect(accurate).toBeGreaterThan(overruled);
  });

  it('rounds to three decimals so equal signals sort equal', () => {
    expect(priorityOf({ ...quiet, scores: { toxicity: 0.123456789, hate: 0, spam: 0 } })).toBe(12.346);
  });
});

describe('backoffMs', () => {
  const base = 250;
  const max = 60_000;

  it('doubles with every attempt between half and all of the exponential delay', () => {
    expect(backoffMs(1, base, max, () => 1)).toBe(250);
    expect(backoffMs(1, base, max, () => 0)).toBe(125);
    expect(backoffMs(2, base, max, () => 1)).toBe(500);
    expect(backoffMs(5, base, max, () => 1)).toBe(4000);
    expect(backoffMs(5, base, max, () => 0.5)).toBe(3000);
  });

  it('treats attempt zero like the first', () => {
    expect(backoffMs(0, base, max, () => 1)).toBe(250);
  });

  it('is capped at the maximum however many attempts failed, so a job is retried forever, never dropped', () => {
    expect(backoffMs(30, base, max, () => 1)).toBe(max);
    expect(backoffMs(10_000, base, max, () => 1)).toBe(max);
    expect(backoffMs(10_000, base, max, () => 0)).toBe(max / 2);
  });

  it('spreads retries of jobs that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffMs(6, base, max)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });
});
