import { intArrayLiteral, textArrayLiteral } from '../../src/shared/db/array-literal';
import { startTestServer, type TestServer } from '../support/harness';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe('array literals built for PostgreSQL', () => {
  it('read back as the same integers and strings, quotes, backslashes, braces and all', async () => {
    const ints = [0, -7, 2147483647, 42, 42];
    const texts = ['because you follow #c++', 'say "hi"', 'back\\slash', '{braces}, commas', 'NULL', '', ' spaced ', 'ünïcødé 😂', 'say "hi"'];
    const [row] = await t.app.db.query(`SELECT $1::int[] AS ints, $2::text[] AS texts`, [intArrayLiteral(ints), textArrayLiteral(texts)]);
    expect(row.ints).toEqual(ints);
    expect(row.texts).toEqual(texts);
  });

  it('refuses a number that is not an integer rather than writing a malformed literal', () => {
    expect(() => intArrayLiteral([1, 2.5])).toThrow(TypeError);
    expect(() => intArrayLiteral([Number.NaN])).toThrow(TypeError);
  });
});
