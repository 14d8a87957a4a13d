import { Featuriser, normaliseWord } from '../../../ml-runtime/moderation/features';
import { tokenVectors } from '../../../ml-runtime/moderation/bag';

const small = { buckets: 1 << 10, minCharGram: 3, maxCharGram: 5, maxChars: 4000 };

describe('the moderation featuriser', () => {
  const f = new Featuriser(small);

  it('splits text into tokens whose offsets slice back to the original characters', () => {
    const text = 'Hey @Someone, look at https://ex.am/ple — it’s AWFUL!!! 😂';
    const { tokens } = f.featurise(text);
    expect(tokens.map((t) => text.slice(t.start, t.end))).toEqual([
      'Hey', '@Someone', ',', 'look', 'at', 'https://ex.am/ple', '—', 'it’s', 'AWFUL', '!', '!', '!', '😂',
    ]);
  });

  it('hashes the same word to the same features regardless of case, digits and elongation', () => {
    expect(normaliseWord('Sooooo')).toBe('soo');
    expect(normaliseWord('Call07123')).toBe('call00000');
    expect(Array.from(f.featurise('STUPID').ids)).toEqual(Array.from(f.featurise('stupid').ids));
    expect(Array.from(f.featurise('@alice').ids)).toEqual(Array.from(f.featurise('@bob').ids));
  });

  it('keeps every bucket id inside the table and ties each feature to a token', () => {
    const { ids, owners, tokens } = f.featurise('free entry win cash now');
    expect(ids.length).toBe(owners.length);
    for (const id of ids) expect(id >= 0 && id < small.buckets).toBe(true);
    for (const o of owners) {
      const t = o >= 0 ? o : -o - 1;
      expect(t).toBeLessThan(tokens.length);
      if (o < 0) expect(t).toBeGreaterThan(0);
    }
  });

  it('ignores text beyond maxChars', () => {
    const g = new Featuriser({ ...small, maxChars: 10 });
    expect(g.featurise('0123456789 tail words').tokens).toHaveLength(1);
  });

  it('splits the bag into token vectors that sum to the mean of the feature rows', () => {
    const dim = 4;
    const table = Float32Array.from({ length: small.buckets * dim }, (_, i) => Math.sin(i));
    const feats = f.featurise('you are awful');
    const tv = tokenVectors(table, dim, feats, 1 / feats.ids.length);
    const mean = new Float32Array(dim);
    for (const id of feats.ids) for (let d = 0; d < dim; d++) mean[d] += table[id * dim + d] / feats.ids.length;
    for (let d = 0; d < dim; d++) {
      let sum = 0;
      for (let t = 0; t < feats.tokens.length; t++) sum += tv[t * dim + d];
      expect(sum).toBeCloseTo(mean[d], 5);
    }
  });
});
