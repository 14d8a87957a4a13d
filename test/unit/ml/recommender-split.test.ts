import { fromLists, itemsOf, parseLightGCN } from '../../../ml-runtime/recommender/interactions';
import { holdOut } from '../../../ml-runtime/recommender/split';

function graph() {
  return fromLists(Array.from({ length: 50 }, (_, u) => Array.from({ length: 3 + (u % 17) }, (_, k) => (u * 7 + k * 11) % 200)), 200);
}

describe('the validation split', () => {
  it('is deterministic for a seed and differs for another seed', () => {
    const a = holdOut(graph(), 0.2, 7);
    const b = holdOut(graph(), 0.2, 7);
    const c = holdOut(graph(), 0.2, 8);
    expect(Array.from(a.test.indices)).toEqual(Array.from(b.test.indices));
    expect(Array.from(a.train.indices)).toEqual(Array.from(b.train.indices));
    expect(Array.from(a.test.indices)).not.toEqual(Array.from(c.test.indices));
  });

  it("is disjoint, covers each user's items and holds out about 20% of each", () => {
    const x = graph();
    const { train, test } = holdOut(x, 0.2, 1);
    for (let u = 0; u < x.numUsers; u++) {
      const tr = Array.from(itemsOf(train, u));
      const te = Array.from(itemsOf(test, u));
      expect(tr.filter((i) => te.includes(i))).toEqual([]);
      expect([...tr, ...te].sort((p, q) => p - q)).toEqual(Array.from(itemsOf(x, u)));
      expect(te.length).toBe(Math.max(1, Math.round(0.2 * itemsOf(x, u).length)));
    }
  });

  it('reads LightGCN-format lines keyed by the user id on each line', () => {
    expect(parseLightGCN('0 1 2\n2 5\n\n')).toEqual([[1, 2], [], [5]]);
    expect(() => parseLightGCN('0 a')).toThrow(/line 1/);
  });
});
