import 'reflect-metadata';
import { parse } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildAppSchema } from '../src/server/schema';
import { createOperationAnalyzer, operationCost } from '../src/server/limits';

/*
 * What admission costs per request: computing an operation's cost from scratch (a walk of the
 * document against the schema) against the cached analysis every request now goes through. The
 * document is the README's feed page, paged with a different `after` each time (which must not
 * defeat the cache). Run: `node dist/bench/operation-cost.js` after `npx tsc -p .`.
 */
const FEED_PAGE = `query FeedPage($first: Int!, $after: String) {
  feed(mode: LATEST, first: $first, after: $after) {
    edges { node { rank reason post { id title author { handle } tags { name } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function main(): Promise<void> {
  const schema = await buildAppSchema(createPubSub());
  const document = parse(FEED_PAGE);
  const analyze = createOperationAnalyzer(schema);
  const n = 20_000;
  const time = (fn: (i: number) => unknown) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    return Number(process.hrtime.bigint() - start) / n / 1000;
  };
  console.log('round  from scratch µs/op  cached µs/op  ratio');
  for (let round = 1; round <= 3; round++) {
    const fresh = time((i) => operationCost(schema, document, { first: 20, after: `cursor-${i % 50}` }, undefined));
    const cached = time((i) => analyze(document, { first: 20, after: `cursor-${i % 50}` }, undefined));
    console.log(`${round}      ${fresh.toFixed(2).padStart(18)}  ${cached.toFixed(2).padStart(12)}  ${(fresh / cached).toFixed(0)}×`);
  }
}

void main();
