import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Change, CriticalityLevel, diff } from '@graphql-inspector/core';
import { buildSchema, type GraphQLSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType } from 'graphql';

/**
 * The published-contract check, after GitHub's breaking-change policy: a change that can break a
 * client (a removal, a narrowed type, a new required argument…) ships only when the changelog
 * announces it, and a removal comes with a date fixed in advance by a deprecation.
 *
 * Compares schema/schema.graphql with the newest schema/released/vX.Y.Z.graphql, and fails when
 * - a breaking change's coordinate is not named in the `## Unreleased` section of schema/CHANGELOG.md;
 * - a field, argument, input field or enum value is removed before the date its deprecation set;
 * - a `@deprecated` reason does not say "Removal on YYYY-MM-DD";
 * - a deprecation added since the release is not announced with the same removal date.
 */

const REMOVAL = /Removal on (\d{4}-\d{2}-\d{2})/;

export interface SchemaCheckInput {
  released: string;
  current: string;
  changelog: string;
  /** The day removals are compared with (today by default). */
  today?: Date;
}

export interface SchemaCheckResult {
  changes: Change[];
  problems: string[];
}

/** `Type.field.@deprecated` → `Type.field`; `Type.field(arg:)` → `Type.field.arg`. */
const coordinateOf = (change: Change) => (change.path ?? '').split('.@')[0];
const normalize = (coordinate: string) => coordinate.replace(/\((\w+):\)$/, '.$1');

/** The entries under `## Unreleased`: what the next release announces. */
function unreleasedEntries(changelog: string): string[] {
  const section = changelog.split(/^## /m).find((s) => /^Unreleased\b/i.test(s)) ?? '';
  return section.split(/^- /m).slice(1).map((entry) => entry.trim());
}

const coordinatesIn = (entry: string) => [...entry.matchAll(/`([^`]+)`/g)].map((m) => normalize(m[1]));

/** Every deprecation in a schema, by coordinate, with its reason. */
function deprecations(schema: GraphQLSchema): Map<string, string> {
  const found = new Map<string, string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (field.deprecationReason != null) found.set(`${type.name}.${field.name}`, field.deprecationReason);
        for (const arg of 'args' in field ? field.args : []) {
          if (arg.deprecationReason != null) found.set(`${type.name}.${field.name}.${arg.name}`, arg.deprecationReason);
        }
      }
    }
    if (isEnumType(type)) {
      for (const value of type.getValues()) if (value.deprecationReason != null) found.set(`${type.name}.${value.name}`, value.deprecationReason);
    }
  }
  return found;
}

export async function checkSchema({ released, current, changelog, today = new Date() }: SchemaCheckInput): Promise<SchemaCheckResult> {
  const before = buildSchema(released);
  const after = buildSchema(current);
  const changes = await diff(before, after);
  const entries = unreleasedEntries(changelog);
  const announced = (coordinate: string) => entries.filter((e) => coordinatesIn(e).includes(coordinate));
  const problems: string[] = [];
  const day = today.toISOString().slice(0, 10);
  const wasDeprecated = deprecations(before);

  for (const change of changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking)) {
    const coordinate = coordinateOf(change);
    if (announced(coordinate).length === 0) {
      problems.push(`${change.message}: breaking, and \`${coordinate}\` is not announced under "## Unreleased" in schema/CHANGELOG.md`);
    }
    const scheduled = wasDeprecated.get(coordinate)?.match(REMOVAL)?.[1];
    if (scheduled && day < scheduled) problems.push(`${change.message}: \`${coordinate}\` is scheduled for removal on ${scheduled}, not before`);
  }

  for (const [coordinate, reason] of deprecations(after)) {
    const date = reason.match(REMOVAL)?.[1];
    if (!date) {
      problems.push(`\`${coordinate}\` is deprecated without a date: its reason must say "Removal on YYYY-MM-DD" (got "${reason}")`);
      continue;
    }
    if (wasDeprecated.has(coordinate)) continue;
    if (!announced(coordinate).some((entry) => entry.includes(`Removal on ${date}`))) {
      problems.push(`\`${coordinate}\` is newly deprecated: announce it under "## Unreleased" in schema/CHANGELOG.md with "Removal on ${date}"`);
    }
  }
  return { changes, problems };
}

/** The newest schema/released/vX.Y.Z.graphql, by version number. */
export function latestRelease(dir: string): { version: string; file: string } {
  const versions = readdirSync(dir)
    .map((name) => name.match(/^v(\d+)\.(\d+)\.(\d+)\.graphql$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]) || Number(a[2]) - Number(b[2]) || Number(a[3]) - Number(b[3]));
  const newest = versions.at(-1);
  if (!newest) throw new Error(`no released schema (vX.Y.Z.graphql) in ${dir}`);
  return { version: `v${newest[1]}.${newest[2]}.${newest[3]}`, file: path.join(dir, newest[0]) };
}

async function main(): Promise<void> {
  const root = path.resolve('schema');
  const release = latestRelease(path.join(root, 'released'));
  const changelog = readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8');
  const { changes, problems } = await checkSchema({
    released: readFileSync(release.file, 'utf8'),
    current: readFileSync(path.join(root, 'schema.graphql'), 'utf8'),
    changelog,
  });
  if (!new RegExp(`^## ${release.version.replace(/\./g, '\\.')}\\b`, 'm').test(changelog)) {
    problems.push(`schema/CHANGELOG.md has no "## ${release.version}" section for the newest released schema`);
  }
  const count = (level: CriticalityLevel) => changes.filter((c) => c.criticality.level === level).length;
  console.log(
    `schema/schema.graphql against ${release.version}: ${count(CriticalityLevel.Breaking)} breaking, ` +
      `${count(CriticalityLevel.Dangerous)} dangerous, ${count(CriticalityLevel.NonBreaking)} safe change(s)`,
  );
  const verbose = process.argv.includes('--verbose');
  for (const c of changes) if (verbose || c.criticality.level !== CriticalityLevel.NonBreaking) console.log(`  ${c.criticality.level.padEnd(12)} ${c.message}`);
  if (problems.length) {
    console.error(`\n${problems.length} problem(s):`);
    for (const p of problems) console.error(`  - ${p}`);
    process.exit(1);
  }
  console.log('ok: no undeclared breaking change, every deprecation has a removal date');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
