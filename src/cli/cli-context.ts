import { loadConfig } from '../config';
import { type AppContext, createAppContext } from '../context/app-context';
import { createLogger } from '../shared/logger';

/**
 * The app context for command-line tools: the server's database selection, logs on stderr, and no
 * inference workers (no command needs them).
 */
export function openCliContext(): Promise<AppContext> {
  const config = loadConfig();
  return createAppContext({ ...config, inference: { ...config.inference, enabled: false } }, createLogger(config.logLevel, 2));
}

/** Runs a command's main and exits with its code; an unexpected error prints and exits 1. */
export function runCli(main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
