import { parse } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildAppSchema } from '../../src/server/schema';
import { createOperationAnalyzer, operationCost } from '../../src/server/limits';
import { STAFF_ROOT_FIELDS } from '../../src/modules/access/scopes';

let schema: Awaited<ReturnType<typeof buildAppSchema>>;
beforeAll(async () => {
  schema = await buildAppSchema(createPubSub());
});

describe('operation analysis', () => {
  it('gives the cached cost the uncached computation gives, for each value of the variables that change it', () => {
    const analyze = createOperationAnalyzer(schema);
    const doc = parse(`query($n: Int, $after: String, $withTags: Boolean!) {
      posts(first: $n, after: $after) { nodes { id tags @include(if: $withTags) { name } } }
    }`);
    const cases = [
      { n: 10, after: null, withTags: false },
      { n: 50, after: null, withTags: false },
      { n: 10, after: 'abc', withTags: true },
      { n: 10, after: 'abc', withTags: false },
      { n: 50, after: 'xyz', withTags: true },
    ];
    for (const variables of cases) {
      expect(analyze(doc, variables, undefined)!.cost).toBe(operationCost(schema, doc, variables, undefined));
    }
    // Twice, so the second pass reads the cache.
    for (const variables of cases) {
      expect(analyze(doc, variables, undefined)!.cost).toBe(operationCost(schema, doc, variables, undefined));
    }
    expect(analyze(doc, cases[0], undefined)!.cost).not.toBe(analyze(doc, cases[1], undefined)!.cost);
  });

  it('tells the operations of one document apart', () => {
    const analyze = createOperationAnalyzer(schema);
    const doc = parse(`query Small { posts(first: 1) { nodes { id } } } mutation Write { markSeen(postIds: []) }`);
    expect(analyze(doc, {}, 'Small')).toMatchObject({ cost: 2, scopes: ['read'] });
    expect(analyze(doc, {}, 'Write')).toMatchObject({ scopes: ['write'] });
    expect(analyze(doc, {}, 'Missing')).toBeNull();
  });

  it('needs READ for queries, WRITE for mutations, MODERATE for staff fields, and nothing for rateLimit or introspection', () => {
    const analyze = createOperationAnalyzer(schema);
    const scopes = (q: string) => analyze(parse(q), {}, undefined)!.scopes.sort();
    expect(scopes(`{ viewer { id } }`)).toEqual(['read']);
    expect(scopes(`{ rateLimit { remaining } __typename }`)).toEqual([]);
    expect(scopes(`mutation { markSeen(postIds: []) }`)).toEqual(['write']);
    expect(scopes(`{ moderationQueue { nodes { subjectId } } posts { nodes { id } } }`)).toEqual(['moderate', 'read']);
    expect(scopes(`query { ...Root } fragment Root on Query { moderationPolicy { label } }`)).toEqual(['moderate']);
    expect(scopes(`subscription { moderationVerdicts { sequence } }`)).toEqual(['moderate']);
    expect(scopes(`subscription { postAdded { id } }`)).toEqual(['read']);
  });

  it('reads dryRun from a literal or a variable', () => {
    const analyze = createOperationAnalyzer(schema);
    const doc = parse(`query($dry: Boolean!) { rateLimit(dryRun: $dry) { cost } }`);
    expect(analyze(doc, { dry: true }, undefined)!.dryRun).toBe(true);
    expect(analyze(doc, { dry: false }, undefined)!.dryRun).toBe(false);
    expect(analyze(parse(`{ rateLimit(dryRun: true) { cost } }`), {}, undefined)!.dryRun).toBe(true);
    expect(analyze(parse(`{ rateLimit { cost } }`), {}, undefined)!.dryRun).toBe(false);
  });

  it('lists as staff-only every root field the schema describes as for moderators or admins, and only fields that exist', () => {
    const roots = [schema.getQueryType()!, schema.getMutationType()!, schema.getSubscriptionType()!];
    const described = roots.flatMap((type) => Object.values(type.getFields())
      .filter((f) => /moderators and admins only|admins only|for moderators and admins/i.test(f.description ?? ''))
      .map((f) => `${type.name}.${f.name}`));
    const existing = new Set(roots.flatMap((type) => Object.keys(type.getFields()).map((f) => `${type.name}.${f}`)));
    expect(described.length).toBeGreaterThan(3);
    for (const coordinate of described) expect(STAFF_ROOT_FIELDS).toContain(coordinate);
    for (const coordinate of STAFF_ROOT_FIELDS) expect(existing).toContain(coordinate);
  });
});
