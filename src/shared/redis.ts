import type Redis from 'ioredis';

/**
 * Closes an ioredis client whether or not it is connected. quit() needs a live connection: with
 * Redis unreachable it fails and ioredis goes on reconnecting, which keeps the process alive after
 * everything else has closed.
 */
export async function closeRedis(client: Redis | null | undefined): Promise<void> {
  if (!client) return;
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}
