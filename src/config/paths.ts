/** Paths inside the installed helfy package (the same from src/ under vitest and from dist/). */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** The nearest folder upwards holding package.json: src/config/ in tests, dist/(chunks/) when built. */
function packageRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`helfy: no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** The package root: the folder holding package.json, migrations/, templates/, compose/. */
export const PACKAGE_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));

export const BUNDLED_MIGRATIONS = join(PACKAGE_ROOT, 'migrations');

/** Migration folders: the bundled ones, or `<dir>/postgres` and `<dir>/neo4j` of HELFY_MIGRATIONS_DIR. */
export function migrationDirs(root: string, override?: string): { postgres: string; neo4j: string; base: string } {
  const base = override ? (isAbsolute(override) ? override : resolve(root, override)) : BUNDLED_MIGRATIONS;
  return { base, postgres: join(base, 'postgres'), neo4j: join(base, 'neo4j') };
}
