import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';

const dir = () => mkdtempSync(path.join(tmpdir(), 'colloquy-config-'));

describe('configuration', () => {
  it('defaults to port 4000 and an embedded database', () => {
    const c = loadConfig({ DATA_DIR: dir() });
    expect(c.port).toBe(4000);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
  });

  it('generates a token secret once in development and keeps it in the data folder', () => {
    const d = dir();
    const first = loadConfig({ DATA_DIR: d }).tokenSecret;
    expect(existsSync(path.join(d, 'token-secret'))).toBe(true);
    expect(readFileSync(path.join(d, 'token-secret'), 'utf8').trim()).toBe(first);
    expect(loadConfig({ DATA_DIR: d }).tokenSecret).toBe(first);
  });

  it('requires TOKEN_SECRET in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dir() })).toThrow(ConfigError);
    expect(loadConfig({ NODE_ENV: 'production', TOKEN_SECRET: 'x'.repeat(32) }).tokenSecret).toBe('x'.repeat(32));
  });

  it('rejects a malformed port', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATA_DIR: dir() })).toThrow(/PORT/);
  });
});
