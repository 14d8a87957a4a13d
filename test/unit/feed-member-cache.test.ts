import { bumpContentEpoch, cachedFeed, cachedScores, changesSince, contentEpoch, isBehind, type MemberFeed, storeFeed, storeScores, waitsForNewPosts } from '../../src/modules/feed/member-cache';

const feed = (key: string): MemberFeed => ({ key, epoch: 0, builtAt: Date.now(), mergedAt: Date.now(), jitter: 0, parts: null, merged: [], seenKey: null, filter: null, ranked: [], snapshotId: null });

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

  it('keeps rankings when content is published or taken down, logging each change for them to catch up with', () => {
    const scope = {};
    const mine = feed('v1');
    storeFeed(scope, 7, mine);
    const epoch = contentEpoch(scope);
    bumpContentEpoch(scope, { kind: 'shown', postId: 40, authorId: 3, topLevel: true });
    bumpContentEpoch(scope, { kind: 'removed', postId: 12 });
    expect(contentEpoch(scope)).toBe(epoch + 2);
    expect(cachedFeed(scope, 7, 'v1')).toBe(mine);
    expect(changesSince(scope, epoch)).toEqual([{ kind: 'shown', postId: 40, authorId: 3, topLevel: true }, { kind: 'removed', postId: 12 }]);
    expect(changesSince(scope, epoch + 1)).toEqual([{ kind: 'removed', postId: 12 }]);
    expect(changesSince(scope, epoch + 2)).toEqual([]);
    expect(changesSince(scope, epoch + 3)).toBeNull();
  });

  it('forgets every ranking and the log on a change it cannot describe, but keeps recommender scores', () => {
    const scope = {};
    storeFeed(scope, 7, feed('v1'));
    storeScores(scope, 7, 'model:1,2', [{ postId: 3, score: 0.5 }]);
    bumpContentEpoch(scope, { kind: 'removed', postId: 12 });
    const before = contentEpoch(scope);
    bumpContentEpoch(scope, { kind: 'reset' });
    expect(cachedFeed(scope, 7, 'v1')).toBeNull();
    expect(changesSince(scope, before)).toBeNull();
    expect(changesSince(scope, contentEpoch(scope))).toEqual([]);
    expect(cachedScores(scope, 7, 'model:1,2')).toEqual([{ postId: 3, score: 0.5 }]);
    expect(cachedScores(scope, 7, 'model:1,2,4')).toBeNull();
  });

  it('remembers the last thousand changes, so an entry further behind is rebuilt', () => {
    const scope = {};
    const start = contentEpoch(scope);
    for (let i = 0; i < 1_001; i++) bumpContentEpoch(scope, { kind: 'removed', postId: i });
    expect(changesSince(scope, start)).toBeNull();
    const kept = changesSince(scope, start + 1);
    expect(kept).toHaveLength(1_000);
    expect(kept?.[0]).toEqual({ kind: 'removed', postId: 1 });
  });

  it('rebuilds a ranking after ten minutes, and the anonymous one after five seconds', () => {
    const scope = {};
    storeFeed(scope, 7, { ...feed('v1'), builtAt: Date.now() - 601_000 });
    storeFeed(scope, null, { ...feed('0'), builtAt: Date.now() - 6_000 });
    storeFeed(scope, 8, { ...feed('v1'), builtAt: Date.now() - 599_000 });
    expect(cachedFeed(scope, 7, 'v1')).toBeNull();
    expect(cachedFeed(scope, null, '0')).toBeNull();
    expect(cachedFeed(scope, 8, 'v1')).not.toBeNull();
  });

  it('catches a ranking up when content changed or it was merged more than a minute ago', () => {
    const now = Date.now();
    const fresh = { ...feed('v1'), epoch: 3, mergedAt: now - 59_000 };
    expect(isBehind(fresh, 3, now)).toBe(false);
    expect(isBehind(fresh, 4, now)).toBe(true);
    expect(isBehind({ ...fresh, mergedAt: now - 61_000 }, 3, now)).toBe(true);
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

  it('lets a ranking leave new posts out for half to all of the catch-up interval, by its own draw', () => {
    const now = Date.now();
    const merged = (ago: number, jitter: number) => ({ ...feed('v1'), mergedAt: now - ago, jitter });
    expect(waitsForNewPosts(merged(2_400, 0), 5_000, now)).toBe(true);
    expect(waitsForNewPosts(merged(2_600, 0), 5_000, now)).toBe(false);
    expect(waitsForNewPosts(merged(4_900, 0.99), 5_000, now)).toBe(true);
    expect(waitsForNewPosts(merged(5_000, 0.99), 5_000, now)).toBe(false);
    expect(waitsForNewPosts(merged(0, 0.5), 0, now)).toBe(false);
  });
});
