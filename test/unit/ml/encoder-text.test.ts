import { encoderInput, plainText } from '../../../ml-runtime/encoder/text';
import { LexicalSketch, fitIdf } from '../../../ml-runtime/encoder/lexical';
import { cosine } from '../../../ml-runtime/encoder/model';

const words = { buckets: 1 << 12, minCharGram: 1000, maxCharGram: 1000, maxChars: 4000 };

describe('what the text encoder reads', () => {
  it('keeps words, C++ and C# but drops markup, entities and punctuation', () => {
    expect(plainText('<p>Why does <code>std::vector&lt;int&gt;</code> fail in C++, not C#?</p>')).toBe('Why does std vector int fail in C++ not C#');
    expect(plainText("don't 'quote' me")).toBe("don't quote me");
  });

  it('puts the title first, twice, then the body', () => {
    expect(encoderInput('Merge dicts', '<p>In *Python*.</p>')).toBe('Merge dicts Merge dicts In Python');
    expect(encoderInput(null, 'Only a body.')).toBe('Only a body');
  });
});

describe('the lexical sketch', () => {
  const texts = [
    'mount an exfat partition on kubuntu', 'kubuntu will not mount my exfat partition', 'recent files in the scite editor',
    'the editor and the files', 'install a package with apt', 'my wifi drops after suspend', 'change the login screen background',
  ];
  // Wide, so that the projection's noise (about 1/√dim on a cosine) stays well below the effect.
  const sketch = new LexicalSketch({ dim: 1024, features: words, idf: fitIdf(texts, words) });
  const vector = (t: string) => {
    const v = new Float32Array(1024);
    sketch.sketch(t, v, 0);
    return v;
  };

  it('is deterministic: the same text always gives the same vector', () => {
    expect(Array.from(vector(texts[0]))).toEqual(Array.from(vector(texts[0])));
  });

  it('puts texts sharing rare words closer than texts sharing none', () => {
    expect(cosine(vector(texts[0]), vector(texts[1]))).toBeGreaterThan(cosine(vector(texts[0]), vector(texts[2])) + 0.2);
  });
});
