import { DomainError } from '../../src/shared/errors';
import { expectGlobalId, fromGlobalId, toGlobalId } from '../../src/shared/global-id';
import { checkPageArgs } from '../../src/shared/pagination';

describe('global ids', () => {
  it('round-trips type and row id through an opaque string', () => {
    const id = toGlobalId('Post', 42);
    expect(id).not.toContain('42');
    expect(fromGlobalId(id)).toEqual({ type: 'Post', id: 42 });
  });

  it.each(['', 'abc', toGlobalId('Post', 1).slice(0, 3), Buffer.from('Secret:1').toString('base64url'), Buffer.from('Post:-3').toString('base64url')])(
    'rejects %p with BAD_USER_INPUT',
    (bad) => {
      expect(() => fromGlobalId(bad)).toThrow(DomainError);
    },
  );

  it('rejects an id of another type where one type is expected', () => {
    expect(() => expectGlobalId(toGlobalId('User', 1), 'Post')).toThrow(/not a Post id/);
  });
});

describe('page arguments', () => {
  it('defaults to 20 forward', () => {
    expect(checkPageArgs({})).toEqual({ size: 20, backward: false });
  });

  it('accepts 1 to 100 and pages backward with last', () => {
    expect(checkPageArgs({ first: 100 })).toEqual({ size: 100, backward: false });
    expect(checkPageArgs({ last: 1 })).toEqual({ size: 1, backward: true });
  });

  it.each([{ first: 0 }, { first: 101 }, { last: 1000 }, { first: 1, last: 1 }, { last: 2, after: 'x' }, { first: 2.5 }])(
    'rejects %p',
    (args) => {
      expect(() => checkPageArgs(args)).toThrow(DomainError);
    },
  );
});
