import { bumpContentEpoch, cachedFeed, cachedScores, contentEpoch, type MemberFeed, storeFeed, storeScores } from '../../src/modules/feed/member-cache';

const feed = (key: string): MemberFeed => ({ key, builtAt: Date.now(), merged: [], seenKey: null, ranked: [], snapshotId: null });

describe('the per-member feed cache', () => {
  it('answers only for the same member and the same key', () => {
    const scope = {};
    const mine = feed('v1');
    storeFeed(scope, 7, mine);
    expect(cachedFeed(scope, 7, 'v1')).toBe(mine);
    expect(cachedFeed(scope, 7, 'v2')).toBeNull();
    expect(cachedFeed(scope, 8, 'v1')).toBeNull();
    expect(cachedFeed({}, 7, 'v1')).toBeNull();
  });

  it('forgets every ranking when content is published or taken down, but keeps recommender scores', () => {
    const scope = {};
    storeFeed(scope, 7, feed('v1'));
    storeScores(scope, 7, 'model:1,2', [{ postId: 3, score: 0.5 }]);
    const epoch = contentEpoch(scope);
    bumpContentEpoch(scope);
    expect(contentEpoch(scope)).toBe(epoch + 1);
    expect(cachedFeed(scope, 7, 'v1')).toBeNull();
    expect(cachedScores(scope, 7, 'model:1,2')).toEqual([{ postId: 3, score: 0.5 }]);
    expect(cachedScores(scope, 7, 'model:1,2,4')).toBeNull();
  });

  it('lets a ranking expire after a minute, and the anonymous one after five seconds', () => {
    const scope = {};
    storeFeed(scope, 7, { ...feed('v1'), builtAt: Date.now() - 61_000 });
    storeFeed(scope, null, { ...feed('0'), builtAt: Date.now() - 6_000 });
    storeFeed(scope, 8, { ...feed('v1'), builtAt: Date.now() - 6_000 });
    expect(cachedFeed(scope, 7, 'v1')).toBeNull();
    expect(cachedFeed(scope, null, '0')).toBeNull();
    expect(cachedFeed(scope, 8, 'v1')).not.toBeNull();
  });

  it('keeps at most 1,000 members, dropping the least recently used', () => {
    const scope = {};
    for (let id = 1; id <= 1_000; id++) storeFeed(scope, id, feed('v'));
    expect(cachedFeed(scope, 1, 'v')).not.toBeNull();
    storeFeed(scope, 1_001, feed('v'));
    expect(cachedFeed(scope, 1, 'v')).not.toBeNull();
    expect(cachedFeed(scope, 2, 'v')).toBeNull();
    expect(cachedFeed(scope, 1_001, 'v')).not.toBeNull();
  });
});
