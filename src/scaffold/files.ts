/**
 * Which files of an app template belong to a scaffold, and their hashes. A scaffold gets the
 * sources, package.json, lockfile, README, Dockerfile, .dockerignore, .gitignore — never what a
 * build or a test run leaves in a template folder (node_modules, dist, test artifacts, caches).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Folder or file names that are never part of a scaffold, wherever they are. */
const EXCLUDED_NAMES = new Set(['node_modules', 'dist', 'coverage', 'test-artifacts', '.cache', '.git', '.helfy', '.turbo', '.DS_Store']);
const EXCLUDED_PATTERNS = [/^\.env$/, /^\.env\..*/, /\.log$/, /\.tsbuildinfo$/, /^\.test-dist-/, /^\.helfy-tmp-/];

export function isExcludedName(name: string): boolean {
  return EXCLUDED_NAMES.has(name) || EXCLUDED_PATTERNS.some((re) => re.test(name));
}

/** Every scaffold file below `dir`, as sorted `/`-separated relative paths. */
export function listAppFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      if (isExcludedName(e.name)) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(abs, e.name), r);
      else if (e.isFile()) out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

export function hashContent(buf: Buffer | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** path → sha256 of every scaffold file below `dir`. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of listAppFiles(dir)) out[rel] = hashContent(readFileSync(join(dir, rel)));
  return out;
}

/** One hash for a whole file set (the "template version" recorded in the manifest). */
export function setHash(files: Record<string, string>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(files).sort()) h.update(`${k}\0${files[k]}\n`);
  return h.digest('hex').slice(0, 16);
}
