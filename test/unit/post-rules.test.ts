import { DomainError } from '../../src/shared/errors';
import { allowedParents, checkTags, checkTitle, normaliseTags } from '../../src/modules/posts/post.rules';

const field = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof DomainError ? `${err.code}:${String(err.details?.field)}` : 'other';
  }
  return 'no error';
};

describe('post rules', () => {
  it('lower-cases, trims and de-duplicates tags', () => {
    expect(normaliseTags([' Rust', 'rust', 'C++', 'c#'])).toEqual(['rust', 'c++', 'c#']);
  });

  it('rejects tags with spaces or too many tags', () => {
    expect(field(() => normaliseTags(['two words']))).toBe('BAD_USER_INPUT:tags');
    expect(field(() => normaliseTags(['a', 'b', 'c', 'd', 'e', 'f']))).toBe('BAD_USER_INPUT:tags');
  });

  it('requires a title on questions, articles and discussions and forbids it elsewhere', () => {
    expect(checkTitle('QUESTION', '  Why is the sky blue?  ')).toBe('Why is the sky blue?');
    expect(field(() => checkTitle('ARTICLE', 'abc'))).toBe('BAD_USER_INPUT:title');
    expect(field(() => checkTitle('ANSWER', 'A title'))).toBe('BAD_USER_INPUT:title');
    expect(checkTitle('COMMENT', null)).toBeNull();
  });

  it('requires a tag on questions and refuses tags on answers', () => {
    expect(field(() => checkTags('QUESTION', []))).toBe('BAD_USER_INPUT:tags');
    expect(field(() => checkTags('ANSWER', ['x']))).toBe('BAD_USER_INPUT:tags');
    expect(checkTags('DISCUSSION', [])).toEqual([]);
  });

  it('hangs answers under questions only and comments under anything', () => {
    expect(allowedParents('ANSWER')).toEqual(['QUESTION']);
    expect(allowedParents('COMMENT')).toContain('COMMENT');
    expect(allowedParents('ARTICLE')).toBeNull();
  });
});
