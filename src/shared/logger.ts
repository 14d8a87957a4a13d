import pino from 'pino';

export type Logger = pino.Logger;

/** Servers log to stdout; command-line tools pass 2 (stderr) so stdout carries only their result. */
export function createLogger(level: string, fd: 1 | 2 = 1): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(fd));
}
