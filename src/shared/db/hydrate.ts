import type { EntityMetadata, ObjectLiteral } from 'typeorm';

const cache = new WeakMap<EntityMetadata, Map<string, (row: Record<string, unknown>) => unknown>>();

/**
 * Turns the columns a query builder selected for `alias` (`alias_column` keys in `getRawMany`
 * rows) into an entity. TypeORM's generic transformer costs more than the statement itself on a
 * list page; for entities of plain columns, whose values pg already hands back typed (integers,
 * floats, booleans, text, Dates), a copy per column is all it does.
 */
export function rawHydrator<T extends ObjectLiteral>(metadata: EntityMetadata, alias: string): (row: Record<string, unknown>) => T {
  let byAlias = cache.get(metadata);
  if (!byAlias) cache.set(metadata, (byAlias = new Map()));
  let hydrate = byAlias.get(alias);
  if (!hydrate) {
    const columns = metadata.columns.map((c) => [c.propertyName, `${alias}_${c.databaseName}`] as const);
    const Entity = metadata.target as new () => Record<string, unknown>;
    hydrate = (row) => {
      const entity = new Entity();
      for (const [property, key] of columns) entity[property] = row[key];
      return entity;
    };
    byAlias.set(alias, hydrate);
  }
  return hydrate as (row: Record<string, unknown>) => T;
}
