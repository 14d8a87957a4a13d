import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';

/** The moderation console's bundle, written by `npm run build` (esbuild) next to the compiled server. */
const CANDIDATE_DIRS = [
  path.resolve(__dirname, '../../console'), // dist/src/server → dist/console
  path.resolve(__dirname, '../../dist/console'), // src/server under ts-jest → dist/console
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Flat file names only: nothing that could climb out of the bundle folder. */
const ASSET_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/** What a Host header may look like before it is echoed into the policy. */
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function consoleDir(): string | null {
  return CANDIDATE_DIRS.find((d) => existsSync(path.join(d, 'index.html'))) ?? null;
}

/**
 * The console only talks to this server: its own scripts and styles, and GraphQL over HTTP and
 * WebSocket on this host. Older browsers do not count ws: as 'self', hence the explicit origins.
 */
function securityHeaders(req: http.IncomingMessage): Record<string, string> {
  const host = req.headers.host && HOST.test(req.headers.host) ? req.headers.host : null;
  const sockets = host ? ` ws://${host} wss://${host}` : '';
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self'${sockets}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}

function notFound(res: http.ServerResponse, message: string): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(message);
}

/** Serves `/console` (the page) and `/console/<asset>`; anything else under it is a 404. */
export async function serveConsole(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    return void res.end('Method not allowed');
  }
  // The page links its assets by absolute path, so it works at /console and /console/ alike.
  const name = url.pathname === '/console' || url.pathname === '/console/' ? 'index.html' : url.pathname.slice('/console/'.length);
  const type = TYPES[path.extname(name)];
  if (!ASSET_NAME.test(name) || !type) return notFound(res, 'No such console asset');
  const dir = consoleDir();
  if (!dir) return notFound(res, 'The console is not built; run `npm run build`');
  let body: Buffer;
  try {
    body = await readFile(path.join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return notFound(res, 'No such console asset');
    throw err;
  }
  res.writeHead(200, { 'content-type': type, 'content-length': String(body.length), ...securityHeaders(req) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
