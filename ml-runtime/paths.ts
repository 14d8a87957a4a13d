import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The project root: the nearest folder above this file holding package.json. Works the same from
 * compiled `dist/ml-runtime/*.js` and from the TypeScript sources run by ts-jest.
 */
export function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

export function defaultModelDir(name: string): string {
  return join(projectRoot(), 'ml-runtime', 'models', name);
}

/** Data lives beside the project, never inside it. */
export function defaultDataRoot(): string {
  return join(projectRoot(), '..', 'shared', 'datasets');
}
