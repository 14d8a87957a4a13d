import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { MemorySample } from './bench-server';

/**
 * The floor for bench:fanout, measured in the same run as Colloquy: a bare `ws` server that
 * speaks just enough graphql-transport-ws (ack the init, note the subscription id) and broadcasts
 * one pre-serialised verdict to every socket in a plain loop. No GraphQL, no auth, no database:
 * what delivery costs on this machine when nothing but the sockets is paid for.
 */

type Command = { cmd: 'memory' } | { cmd: 'broadcast' } | { cmd: 'stop' };

/** Parent side: forks the raw server and returns its URL and the commands the bench needs. */
export async function spawnRawBroadcastServer() {
  const child = fork(__filename, [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let seq = 0;
  const pending = new Map<number, (v: unknown) => void>();
  const exited = new Promise((r) => child.once('exit', r));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url: string }) => resolve(m.url));
    child.once('exit', (code) => reject(new Error(`raw broadcast server exited with ${code}`)));
  });
  child.on('message', (m: { seq?: number; result?: unknown }) => {
    if (m.seq === undefined) return;
    pending.get(m.seq)?.(m.result);
    pending.delete(m.seq);
  });
  const call = <T>(c: Command) => new Promise<T>((resolve) => {
    pending.set(++seq, resolve as (v: unknown) => void);
    child.send({ seq, ...c });
  });
  return {
    url,
    memory: () => call<MemorySample>({ cmd: 'memory' }),
    broadcast: () => call<number>({ cmd: 'broadcast' }),
    async stop() {
      if (child.exitCode !== null) return;
      await call({ cmd: 'stop' }).catch(() => undefined);
      await exited;
    },
  };
}

let sequence = 0;
/** A verdict as Colloquy renders it for the bench's selection, so frames are the same size. */
function verdict(): string {
  sequence++;
  return JSON.stringify({ data: { moderationVerdicts: {
    sequence: String(sequence), subjectId: 'UG9zdDox', type: 'HUMAN', action: 'HIDE', previousStatus: 'PUBLISHED', newStatus: 'HIDDEN',
    reason: 'bench', modelVersion: null, createdAt: new Date().toISOString(), scores: [],
  } } });
}

function serve(): void {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const subscribers = new Map<WebSocket, string>();
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; id?: string };
      if (m.type === 'connection_init') ws.send('{"type":"connection_ack"}');
      else if (m.type === 'subscribe') subscribers.set(ws, m.id!);
      else if (m.type === 'ping') ws.send('{"type":"pong"}');
    });
    ws.on('close', () => subscribers.delete(ws));
  });
  server.listen(0, '127.0.0.1', () => process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` }));
  process.on('message', (c: Command & { seq: number }) => {
    const reply = (result: unknown) => process.send!({ seq: c.seq, result });
    if (c.cmd === 'broadcast') {
      const payload = verdict();
      for (const [ws, id] of subscribers) ws.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
      reply(subscribers.size);
    } else if (c.cmd === 'memory') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      const u = process.memoryUsage();
      reply({ rss: u.rss, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, gc: Boolean(gc) } satisfies MemorySample);
    } else {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.close(() => {
        reply(true);
        process.exit(0);
      });
    }
  });
  process.once('disconnect', () => process.exit(0));
}

if (require.main === module) serve();
