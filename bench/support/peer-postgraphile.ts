import './peer-polyfill';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

/**
 * The peer: PostGraphile 5 with its default (Amber) preset over the same database, in a process
 * of its own. The parent sends `{ url }` and gets back `{ type: 'ready', url }`.
 */
async function serve(databaseUrl: string): Promise<void> {
  const preset: GraphileConfig.Preset = {
    extends: [PostGraphileAmberPreset],
    // By default only indexed columns can filter and order; Colloquy's visibility rules filter on
    // status and deleted_at, which its partial indexes cover without being plain column indexes.
    disablePlugins: ['PgIndexBehaviorsPlugin'],
    // The same pool size as Colloquy's TypeORM data source (ormconfig.ts).
    pgServices: [makePgService({ connectionString: databaseUrl, schemas: ['public'], poolConfig: { max: 10 } })],
    grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false },
    grafast: { explain: false },
  };
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  server.on('error', (err) => {
    console.error(err);
    process.exit(1);
  });
  await serv.addTo(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void Promise.resolve(pgl.release()).finally(() => process.exit(0));
  };
  process.once('disconnect', stop);
  process.once('SIGTERM', stop);
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd === 'stop') stop();
    if (m.cmd === 'cpu') process.send!({ type: 'cpu', usage: process.cpuUsage() });
  });
  process.send!({ type: 'ready', url: `http://127.0.0.1:${port}/graphql` });
}

process.once('message', (m: { url: string }) => {
  serve(m.url).catch((err) => {
    process.send!({ type: 'failed', error: String((err as Error).stack ?? err) });
    process.exit(1);
  });
});
