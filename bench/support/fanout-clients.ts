import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/**
 * Many graphql-ws (graphql-transport-ws protocol) subscribers in one child process of
 * bench:fanout. A bare `ws` client speaking the protocol, not graphql-ws's client: at thousands of
 * sockets per process the client's own cost would otherwise be most of what is measured. Arrival
 * times are wall-clock (timeOrigin + now) so they compare with the orchestrator's send time.
 */

export type ClientCommand =
  | { cmd: 'connect'; url: string; tokens: string[]; count: number; query: string; concurrency: number; timeoutMs: number }
  | { cmd: 'arm' }
  | { cmd: 'collect'; expected: number; timeoutMs: number }
  | { cmd: 'close' };

export interface ConnectResult { subscribed: number; failed: number; errors: string[] }
export interface CollectResult { arrivals: number[]; wrong: number; errors: string[]; closed: number }

const wallNow = () => performance.timeOrigin + performance.now();

function main() {
  const sockets: WebSocket[] = [];
  let armed: Array<{ at: number; raw: string }> = [];
  const errors: string[] = [];
  let closed = 0;
  const note = (e: string) => errors.length < 5 && errors.push(e.slice(0, 300));

  function open(url: string, token: string, query: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url, 'graphql-transport-ws');
      const timer = setTimeout(() => {
        note('connect timeout');
        ws.terminate();
        resolve(false);
      }, timeoutMs);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      ws.on('message', (data) => {
        const raw = String(data);
        // Only the measured event needs its time; the type test before parsing keeps this cheap.
        if (raw.includes('"type":"next"')) return void armed.push({ at: wallNow(), raw });
        const m = JSON.parse(raw) as { type: string; payload?: unknown };
        if (m.type === 'connection_ack') {
          ws.send(JSON.stringify({ id: randomUUID(), type: 'subscribe', payload: { query } }));
          sockets.push(ws);
          clearTimeout(timer);
          resolve(true);
        } else if (m.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
        else if (m.type === 'error' || m.type === 'complete') note(raw);
      });
      ws.on('error', (e) => note(String(e)));
      ws.on('close', (code, reason) => {
        closed++;
        if (code !== 1000 && code !== 1001) note(`closed ${code} ${reason}`);
        clearTimeout(timer);
        resolve(false);
      });
    });
  }

  async function connect(c: Extract<ClientCommand, { cmd: 'connect' }>): Promise<ConnectResult> {
    let next = 0;
    let subscribed = 0;
    let failed = 0;
    // Bounded concurrency: a burst of thousands of handshakes would only queue in the kernel.
    await Promise.all(Array.from({ length: Math.min(c.concurrency, c.count) }, async () => {
      while (next < c.count) {
        const i = next++;
        if (await open(c.url, c.tokens[i % c.tokens.length], c.query, c.timeoutMs)) subscribed++;
        else failed++;
      }
    }));
    return { subscribed, failed, errors: errors.splice(0) };
  }

  async function collect(c: Extract<ClientCommand, { cmd: 'collect' }>): Promise<CollectResult> {
    const deadline = Date.now() + c.timeoutMs;
    while (armed.length < c.expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const got = armed;
    armed = [];
    let wrong = 0;
    for (const g of got) {
      const m = JSON.parse(g.raw) as { payload?: { data?: { moderationVerdicts?: { sequence?: string } } } };
      if (!m.payload?.data?.moderationVerdicts?.sequence) {
        wrong++;
        note(g.raw);
      }
    }
    return { arrivals: got.map((g) => g.at), wrong, errors: errors.splice(0), closed };
  }

  process.on('message', (c: ClientCommand & { seq: number }) => {
    const reply = (p: Promise<unknown>) =>
      p.then((result) => process.send!({ seq: c.seq, ok: true, result }), (err: unknown) => process.send!({ seq: c.seq, ok: false, error: String(err) }));
    switch (c.cmd) {
      case 'connect':
        return reply(connect(c));
      case 'arm':
        armed = [];
        return reply(Promise.resolve(true));
      case 'collect':
        return reply(collect(c));
      case 'close':
        for (const ws of sockets) ws.close(1000);
        return reply(new Promise((r) => setTimeout(r, 500))).then(() => process.exit(0));
    }
  });
  process.once('disconnect', () => process.exit(0));
}

if (require.main === module) main();
