import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openCliContext, runCli } from './cli-context';
import { importStackExchange } from '../modules/import/stackexchange';

const USAGE = `Usage: npm run --silent import:stackexchange -- <dump folder> [--site NAME] [--batch-size N]`;

/**
 * Imports a Stack Exchange data dump into the database the server uses (DATABASE_URL or the
 * embedded PostgreSQL under the data folder) and prints one JSON line of counts.
 */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { site: { type: 'string' }, 'batch-size': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
  if (values.help || positionals.length !== 1 || (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0))) {
    console.error(USAGE);
    return 2;
  }
  const dir = positionals[0];
  if (!existsSync(dir)) {
    console.error(`${dir}: no such folder\n${USAGE}`);
    return 2;
  }
  const app = await openCliContext();
  try {
    const started = Date.now();
    const summary = await importStackExchange(app.db, dir, { site: values.site, batchSize });
    console.log(JSON.stringify({ ok: true, ...summary, durationMs: Date.now() - started }));
    return 0;
  } finally {
    await app.dispose();
  }
}

runCli(main);
