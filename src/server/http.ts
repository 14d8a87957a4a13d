import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { Counter, Histogram } from 'prom-client';
import type { AppContext } from '../context/app-context';
import { createRequestContext, resolveViewer, type RequestContext } from '../context/request-context';
import { DomainError } from '../shared/errors';
import { withQueryScope } from '../shared/db/query-counter';
import { createFormatError, toGraphQLError } from './errors';
import { depthRule } from './limits';
import { operationLimitsPlugin } from './rate-limit';
import { buildAppSchema } from './schema';
import { compiledExecution } from './executor';
import { serveConsole } from './console';
import { attachWebSocket, type WebSocketOptions } from './ws';
import { createPersistedQueries } from './persisted-queries';
import { getCachePlugins } from './get-cache';

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

const inputError = (message: string, reason: string, extra: Record<string, unknown> = {}) => ({
  errors: [{ message, extensions: { code: 'BAD_USER_INPUT', reason, ...extra } }],
});

/** HTTP and WebSocket GraphQL on one port and one path, plus health, readiness and metrics. */
export async function startServer(app: AppContext, port: number, host = '127.0.0.1', wsOptions: WebSocketOptions = {}): Promise<RunningServer> {
  const { config, log } = app;
  const schema = await buildAppSchema(app.pubSub.pubSub);
  const formatError = createFormatError(log, config.env === 'development');
  const persisted = createPersistedQueries(config.persistedQueries, { redisUrl: config.redisUrl, redisPrefix: config.redisPrefix });
  const exposeSqlCount = config.env !== 'production';

  const requests = new Counter({ name: 'colloquy_graphql_requests_total', help: 'GraphQL operations over HTTP', labelNames: ['status'], registers: [app.metrics] });
  const duration = new Histogram({ name: 'colloquy_graphql_request_duration_seconds', help: 'GraphQL HTTP request time', registers: [app.metrics], buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

  const apollo = new ApolloServer<RequestContext>({
    // A second build of the schema for Apollo to instrument; see compiledExecution.
    gateway: compiledExecution(schema, await buildAppSchema(app.pubSub.pubSub)),
    formatError,
    introspection: true,
    persistedQueries: persisted.apollo,
    // Apollo's CSRF check guards ambient credentials (cookies). Credentials here travel only in the
    // Authorization header, which another site cannot make a browser send, so the check would only
    // refuse plain GET queries, which the GraphQL-over-HTTP spec asks servers to accept.
    csrfPrevention: false,
    includeStacktraceInErrorResponses: config.env === 'development',
    validationRules: [depthRule(config.limits.maxDepth)],
    plugins: [
      ...getCachePlugins(config.getMaxAgeSeconds),
      operationLimitsPlugin(schema, exposeSqlCount),
    ],
  });
  await apollo.start();

  async function graphql(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    let body: unknown;
    if (req.method === 'POST') {
      // JSON only, as the GraphQL-over-HTTP spec says: another site's form can post text/plain or
      // form data without a CORS preflight, so those must not reach execution.
      if (req.headers['content-type']?.split(';')[0].trim().toLowerCase() !== 'application/json') {
        return sendJson(res, 415, inputError('A POST body must be sent as application/json', 'UNSUPPORTED_MEDIA_TYPE'));
      }
      let raw: string;
      try {
        raw = await readBody(req, config.limits.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          return sendJson(res, 413, inputError(`Request body exceeds ${config.limits.maxBodyBytes} bytes`, 'BODY_TOO_LARGE', { limit: config.limits.maxBodyBytes }));
        }
        throw err;
      }
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        return sendJson(res, 400, inputError('Request body is not valid JSON', 'INVALID_JSON'));
      }
    }
    const refused = persisted.refusal(req.method === 'POST' ? body : Object.fromEntries(url.searchParams));
    if (refused) return sendJson(res, refused.status, { errors: [formatError(refused.error.toJSON(), refused.error)] });
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);

    const started = process.hrtime.bigint();
    const execute = () =>
      apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async () => {
          try {
            const { viewer, expiresAt, credential } = await resolveViewer(app, req.headers.authorization);
            return createRequestContext(app, viewer, expiresAt ?? null, { credential, clientIp: req.socket.remoteAddress ?? null });
          } catch (err) {
            throw err instanceof DomainError ? toGraphQLError(err) : err;
          }
        },
      });
    // The SQL count lives in an AsyncLocalStorage scope, whose promise hooks tax every await of
    // every request; production does not report the count, so it does not pay for it.
    const out = await (exposeSqlCount ? withQueryScope(execute).result : execute());
    const status = out.status ?? 200;
    requests.inc({ status });
    duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    const outHeaders: Record<string, string> = {};
    for (const [k, v] of out.headers) outHeaders[k] = v;
    res.writeHead(status, outHeaders);
    if (out.body.kind === 'complete') res.end(out.body.string);
    else {
      for await (const chunk of out.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  let draining = false;
  const httpServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = async () => {
      if (url.pathname === '/graphql') return graphql(req, res, url);
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (url.pathname === '/console' || url.pathname.startsWith('/console/')) return serveConsole(req, res, url);
      if (url.pathname === '/readyz') {
        const db = await app.db.query('SELECT 1').then(() => 'ok', () => 'unavailable');
        const inference = app.inference?.health() ?? null;
        const ready = db === 'ok' && !draining && (inference === null || inference.ready);
        return sendJson(res, ready ? 200 : 503, {
          status: ready ? 'ready' : 'not ready',
          database: db,
          databaseKind: app.database.kind,
          pubsub: app.pubSub.transport,
          inference: inference
            ? { ready: inference.ready, backend: inference.backend, backendReason: inference.backendReason, workers: inference.workers, queueLength: inference.queueLength, models: inference.models, error: inference.error }
            : 'disabled',
          draining,
        });
      }
      if (url.pathname === '/metrics') {
        res.writeHead(200, { 'content-type': app.metrics.contentType });
        return res.end(await app.metrics.metrics());
      }
      sendJson(res, 404, { error: 'Not found; GraphQL is served at /graphql' });
    };
    route().catch((err) => {
      log.error({ err }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
  });

  const ws = attachWebSocket(app, httpServer, schema, formatError, { persistedQueries: persisted, ...wsOptions });
  await new Promise<void>((resolve) => httpServer.listen(port, host, resolve));
  const actual = (httpServer.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;

  return {
    port: actual,
    url: `http://${shownHost}:${actual}/graphql`,
    async close() {
      draining = true;
      await ws.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeIdleConnections();
      });
      await apollo.stop();
      await persisted.close();
    },
  };
}
