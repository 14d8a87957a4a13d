import Redis from 'ioredis';
import { BoundedQueryStore, RedisQueryStore } from '../../src/server/persisted-queries';

describe('persisted-query stores', () => {
  it('keeps the in-memory store under its size bound by dropping the least recently used queries', async () => {
    const store = new BoundedQueryStore(10);
    await store.set('a', 'aaaaa');
    await store.set('b', 'bbbbb');
    expect(await store.get('a')).toBe('aaaaa'); // now the most recently used
    await store.set('c', 'ccccc');
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe('aaaaa');
    expect(await store.get('c')).toBe('ccccc');
    await store.set('huge', 'x'.repeat(11));
    expect(await store.get('huge')).toBeUndefined();
    expect(await store.get('c')).toBe('ccccc');
  });

  it('reads an unreachable Redis as a miss instead of failing the request', async () => {
    // disconnectTimeout: ioredis waits that long (2 s by default) for a socket that never opened to
    // close, holding the test worker open past the end of the run.
    const redis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 1, commandTimeout: 300, retryStrategy: () => 50, disconnectTimeout: 100 });
    redis.on('error', () => undefined);
    try {
      const store = new RedisQueryStore(redis, 'test:');
      await expect(store.set('k', '{ __typename }')).resolves.toBeUndefined();
      await expect(store.get('k')).resolves.toBeUndefined();
    } finally {
      redis.disconnect();
    }
  });
});
