import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../support/harness';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ wsKeepAliveMs: 150 });
});
afterAll(() => t.close());

/** A bare graphql-transport-ws connection, acknowledged; `autoPong: false` plays a dead peer. */
async function connect(autoPong: boolean): Promise<{ socket: WebSocket; closed: Promise<number>; pings: () => number }> {
  const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { autoPong });
  let pings = 0;
  socket.on('ping', () => pings++);
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    socket.on('message', (data) => (JSON.parse(String(data)).type === 'connection_ack' ? resolve() : undefined));
    socket.on('error', reject);
  });
  return { socket, closed, pings: () => pings };
}

describe('WebSocket keep-alive', () => {
  it('drops a peer that stops answering pings, and keeps one that answers', async () => {
    const dead = await connect(false);
    const alive = await connect(true);
    // Terminated, not closed with a frame: a dead peer could not take part in a closing handshake.
    expect(await dead.closed).toBe(1006);
    expect(dead.pings()).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 600)); // several more heartbeats
    expect(alive.socket.readyState).toBe(WebSocket.OPEN);
    expect(alive.pings()).toBeGreaterThanOrEqual(3);
    alive.socket.close();
    await alive.closed;
  });
});
