import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type DefinitionNode, type FragmentDefinitionNode, Kind, type OperationDefinitionNode, parse, print, visit } from 'graphql';
import { type PersistedQueryManifest, sha256 } from '../server/persisted-queries';

/** Every .graphql file under `dir`, recursively, in a stable order. */
function graphqlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.graphql'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/**
 * Apollo's persisted-query manifest for the operations in a folder of .graphql files. Each
 * operation's body carries the fragments it uses (from any file), so it runs on its own; its id is
 * the SHA-256 of the body, which is also what an APQ client would send as `sha256Hash`.
 */
export function buildManifest(dir: string): PersistedQueryManifest {
  const operations: OperationDefinitionNode[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const file of graphqlFiles(dir)) {
    for (const def of parse(readFileSync(file, 'utf8')).definitions) {
      if (def.kind === Kind.OPERATION_DEFINITION) {
        if (!def.name) throw new Error(`${file}: every operation needs a name`);
        operations.push(def);
      } else if (def.kind === Kind.FRAGMENT_DEFINITION) {
        if (fragments.has(def.name.value)) throw new Error(`${file}: fragment ${def.name.value} is defined twice`);
        fragments.set(def.name.value, def);
      }
    }
  }
  const names = new Set<string>();
  return {
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: operations.map((op) => {
      const name = op.name!.value;
      if (names.has(name)) throw new Error(`operation ${name} is defined twice`);
      names.add(name);
      const used = new Map<string, FragmentDefinitionNode>();
      const collect = (node: DefinitionNode) =>
        visit(node, {
          FragmentSpread(spread) {
            const fragment = fragments.get(spread.name.value);
            if (!fragment) throw new Error(`operation ${name} uses unknown fragment ${spread.name.value}`);
            if (!used.has(fragment.name.value)) {
              used.set(fragment.name.value, fragment);
              collect(fragment);
            }
          },
        });
      collect(op);
      const sorted = [...used.values()].sort((a, b) => a.name.value.localeCompare(b.name.value));
      const body = print({ kind: Kind.DOCUMENT, definitions: [op, ...sorted] });
      return { id: sha256(body), name, type: op.operation, body };
    }),
  };
}

if (require.main === module) {
  const [dir, out] = process.argv.slice(2);
  if (!dir || !out) {
    console.error('usage: npm run persisted:manifest -- <folder of .graphql operations> <manifest.json>');
    process.exit(2);
  }
  try {
    const manifest = buildManifest(dir);
    writeFileSync(out, JSON.stringify(manifest, null, 2) + '\n');
    console.log(`wrote ${manifest.operations.length} operations to ${out}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
