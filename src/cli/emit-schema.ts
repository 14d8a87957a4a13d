import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildAppSchema, printPublicSchema } from '../server/schema';

/** Writes schema/schema.graphql, the checked-in public contract (a test fails when it drifts). */
async function main(): Promise<void> {
  const schema = await buildAppSchema(createPubSub());
  const file = path.resolve('schema/schema.graphql');
  writeFileSync(file, printPublicSchema(schema));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
