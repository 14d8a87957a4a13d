import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isInputObjectType, isInterfaceType, isObjectType, isEnumType } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildAppSchema, printPublicSchema } from '../../src/server/schema';

describe('the public schema', () => {
  it('matches the checked-in schema/schema.graphql (run `npm run schema:emit` after a change)', async () => {
    const schema = await buildAppSchema(createPubSub());
    const committed = readFileSync(path.join(__dirname, '../../schema/schema.graphql'), 'utf8');
    expect(printPublicSchema(schema)).toBe(committed);
  });

  it('describes every type, field, argument and enum value', async () => {
    const schema = await buildAppSchema(createPubSub());
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (isEnumType(type)) for (const v of type.getValues()) if (!v.description) missing.push(`${type.name}.${v.name}`);
    }
    expect(missing).toEqual([]);
  });
});
