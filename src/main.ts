import 'reflect-metadata';
import { loadConfig } from './config';
import { createAppContext } from './context/app-context';
import { createLogger } from './shared/logger';
import { seedDemoCommunity } from './cli/seed';
import { DemoPoster } from './modules/demo/demo-poster';
import { startServer } from './server/http';

async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const app = await createAppContext(config, log);
  if (config.seedDemo) {
    const seeded = await seedDemoCommunity(app);
    if (seeded) log.info(seeded, 'seeded a demo community');
  }
  const server = await startServer(app, config.port, config.host);
  log.info({ url: server.url, database: app.database.kind, pubsub: app.pubSub.transport, startupMs: Date.now() - started }, 'ready');
  console.log(`Colloquy is ready at ${server.url} (started in ${Date.now() - started} ms)`);
  console.log(`Moderation console: ${server.url.replace(/\/graphql$/, '/console')}`);
  const demo = config.demo.enabled ? new DemoPoster(app, config.demo.intervalMs) : null;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    const force = setTimeout(() => process.exit(1), 15_000).unref();
    await demo?.stop().catch((err) => log.error({ err }, 'demo stop failed'));
    await server.close().catch((err) => log.error({ err }, 'server close failed'));
    await app.dispose().catch((err) => log.error({ err }, 'dispose failed'));
    clearTimeout(force);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Started once a signal can stop it; the server is already serving meanwhile.
  demo?.start().then(
    () => log.info({ intervalMs: config.demo.intervalMs }, 'demo mode: demo accounts keep posting (DEMO_MODE=false turns it off)'),
    (err) => log.error({ err }, 'demo mode failed to start'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
