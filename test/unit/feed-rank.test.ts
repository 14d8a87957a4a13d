import { type Candidate, applyRules, diversify, mergeCandidates, mixFresh } from '../../src/modules/feed/rank';

const now = new Date('2026-06-01T12:00:00Z');
const c = (postId: number, source: Candidate['source'], score: number, extra: Partial<Candidate> = {}): Candidate => ({
  postId, authorId: postId * 10, source, score, reason: `${source} ${postId}`, tags: [], publishedAt: now, ...extra,
});
const none = { tags: new Map<string, number>(), authors: new Map<number, number>() };

describe('feed ranking', () => {
  it('adds up a post\'s sources and keeps the reason of the strongest one', () => {
    const ranked = mergeCandidates([c(1, 'HOT', 1), c(1, 'FOLLOWED_USER', 1), c(2, 'FOLLOWED_TAG', 1)], none, now);
    expect(ranked.map((r) => r.postId)).toEqual([1, 2]);
    expect(ranked[0].reason).toBe('FOLLOWED_USER 1');
  });

  it('prefers fresher posts when sources agree', () => {
    const old = new Date(now.getTime() - 96 * 3_600_000);
    const ranked = mergeCandidates([c(1, 'HOT', 1, { publishedAt: old }), c(2, 'HOT', 1)], none, now);
    expect(ranked[0].postId).toBe(2);
  });

  it('halves posts that share a dismissed tag or author, once per dismissal', () => {
    const plain = mergeCandidates([c(1, 'CONTENT', 1, { tags: ['rust'] })], none, now)[0].score;
    const once = mergeCandidates([c(1, 'CONTENT', 1, { tags: ['rust'] })], { tags: new Map([['rust', 1]]), authors: new Map() }, now)[0].score;
    const twice = mergeCandidates([c(1, 'CONTENT', 1, { tags: ['rust'] })], { tags: new Map([['rust', 1]]), authors: new Map([[10, 1]]) }, now)[0].score;
    expect(once).toBeCloseTo(plain / 2);
    expect(twice).toBeCloseTo(plain / 4);
  });

  it('drops the viewer\'s own, seen and dismissed posts', () => {
    const ranked = mergeCandidates([c(1, 'HOT', 1), c(2, 'HOT', 0.9), c(3, 'HOT', 0.8), c(4, 'HOT', 0.7)], none, now);
    const kept = applyRules(ranked, { viewerId: 10, seen: new Set([2]), dismissed: new Set([3]) });
    expect(kept.map((r) => r.postId)).toEqual([4]);
  });

  it('keeps one author from appearing twice within three items, without losing any item', () => {
    const ranked = [1, 2, 3, 4, 5].map((postId, i) => ({ postId, authorId: i < 3 ? 7 : postId, score: 5 - i, reason: '' }));
    const out = diversify(ranked);
    expect(out.map((r) => r.postId)).toEqual([1, 4, 5, 2, 3]);
    expect(new Set(out.map((r) => r.postId)).size).toBe(5);
  });

  it('mixes a fresh post into every third place and never repeats one', () => {
    const r = (postId: number) => ({ postId, authorId: postId, score: 1, reason: '' });
    const out = mixFresh([r(1), r(2), r(3), r(4)], [r(9), r(2), r(8)]);
    expect(out.map((x) => x.postId)).toEqual([1, 2, 9, 3, 4, 8]);
  });
});
