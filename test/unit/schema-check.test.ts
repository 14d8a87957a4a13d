import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkSchema, latestRelease } from '../../src/cli/schema-check';

const root = path.join(__dirname, '../../schema');
const release = latestRelease(path.join(root, 'released'));
const released = readFileSync(release.file, 'utf8');
const current = readFileSync(path.join(root, 'schema.graphql'), 'utf8');
const changelog = readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8');

/** The released schema with Tag.name (and its description) taken out. */
const withoutTagName = released.replace(/\n  """Lower-case name, e\.g\. `typescript`\."""\n  name: String!\n/, '\n');
const withUnreleased = (entries: string) => changelog.replace(/^## Unreleased\n/m, `## Unreleased\n\n${entries}\n`);
const deprecateTagName = (reason: string) =>
  released.replace(/(\n  """Lower-case name, e\.g\. `typescript`\."""\n  name: String!)/, `$1 @deprecated(reason: "${reason}")`);

describe('the schema breaking-change check (npm run schema:check)', () => {
  it('passes the checked-in schema against the newest released one with the checked-in changelog', async () => {
    const { problems } = await checkSchema({ released, current, changelog });
    expect(problems).toEqual([]);
    expect(changelog).toMatch(new RegExp(`^## ${release.version.replace(/\./g, '\\.')}\\b`, 'm'));
  });

  it('fails on a removed field that the changelog does not announce, naming its coordinate', async () => {
    expect(withoutTagName).not.toBe(released);
    const { problems } = await checkSchema({ released, current: withoutTagName, changelog });
    expect(problems).toEqual([expect.stringContaining('`Tag.name` is not announced')]);
  });

  it('accepts the same removal once announced under Unreleased', async () => {
    const announced = withUnreleased('- `Tag.name` is removed: tags are identified by `Tag.id`.');
    expect(await checkSchema({ released, current: withoutTagName, changelog: announced })).toMatchObject({ problems: [] });
  });

  it('does not count an announcement filed under an earlier release', async () => {
    const old = changelog.replace(/^(## v0\.1\.0.*\n)/m, '$1\n- `Tag.name` is removed.\n');
    expect((await checkSchema({ released, current: withoutTagName, changelog: old })).problems).toHaveLength(1);
  });

  it('fails on a deprecation whose reason does not say "Removal on YYYY-MM-DD"', async () => {
    const { problems } = await checkSchema({ released, current: deprecateTagName('Use id.'), changelog });
    expect(problems).toEqual([expect.stringContaining('`Tag.name` is deprecated without a date')]);
  });

  it('accepts a dated deprecation only when the changelog announces it with the same date', async () => {
    const current = deprecateTagName('Use id. Removal on 2027-04-01.');
    expect((await checkSchema({ released, current, changelog })).problems).toEqual([expect.stringContaining('newly deprecated')]);
    const wrongDate = withUnreleased('- `Tag.name` is deprecated. Removal on 2027-05-01.');
    expect((await checkSchema({ released, current, changelog: wrongDate })).problems).toHaveLength(1);
    const announced = withUnreleased('- `Tag.name` is deprecated in favour of `Tag.id`. Removal on 2027-04-01.');
    expect((await checkSchema({ released, current, changelog: announced })).problems).toEqual([]);
  });

  it('refuses to remove a deprecated field before the date its deprecation announced, and allows it from that day', async () => {
    const deprecated = deprecateTagName('Use id. Removal on 2027-04-01.');
    const announced = withUnreleased('- `Tag.name` is removed, as announced.');
    const early = await checkSchema({ released: deprecated, current: withoutTagName, changelog: announced, today: new Date('2027-03-31T12:00:00Z') });
    expect(early.problems).toEqual([expect.stringContaining('scheduled for removal on 2027-04-01')]);
    const onTime = await checkSchema({ released: deprecated, current: withoutTagName, changelog: announced, today: new Date('2027-04-01T12:00:00Z') });
    expect(onTime.problems).toEqual([]);
  });

  it('names argument coordinates the way the changelog may write them, Type.field(arg:)', async () => {
    const narrowed = released.replace(/(\n  tags\(\n(?:.*\n)*?\s+first: )Int\b/, '$1Int!');
    expect(narrowed).not.toBe(released);
    const { problems } = await checkSchema({ released, current: narrowed, changelog });
    expect(problems).toHaveLength(1);
    const announced = withUnreleased('- `Query.tags(first:)` is now required.');
    expect((await checkSchema({ released, current: narrowed, changelog: announced })).problems).toEqual([]);
  });
});
