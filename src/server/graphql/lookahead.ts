import { type FieldNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';

/**
 * Names of the fields a query selects on a connection's items (`nodes { … }` and
 * `edges { node { … } }`), through fragments, so a list resolver can read what its items will
 * need in the same statement. `@skip`/`@include` are not evaluated: a field that might be
 * skipped counts as selected, which costs a little extra reading, never a missing field.
 */
export function connectionItemFields(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>): Set<string> {
  const names = new Set<string>();
  const eachField = (set: SelectionSetNode | undefined, visit: (field: FieldNode) => void): void => {
    for (const s of set?.selections ?? []) {
      if (s.kind === Kind.FIELD) visit(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) eachField(s.selectionSet, visit);
      else eachField(info.fragments[s.name.value]?.selectionSet, visit);
    }
  };
  const addItemFields = (item: FieldNode) => eachField(item.selectionSet, (f) => names.add(f.name.value));
  for (const root of info.fieldNodes) {
    eachField(root.selectionSet, (f) => {
      if (f.name.value === 'nodes') addItemFields(f);
      else if (f.name.value === 'edges') eachField(f.selectionSet, (e) => e.name.value === 'node' && addItemFields(e));
    });
  }
  return names;
}
