/** The native runtime's "volumes": one folder per service under `.helfy/data`, with its size. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { VolumeInfo } from '../../../stack/runtime.js';

/** Bytes under `p` (symlinks not followed; what cannot be read counts 0). */
export async function dirSize(p: string): Promise<number> {
  let st;
  try {
    st = await lstat(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let names: string[];
  try {
    names = await readdir(p);
  } catch {
    return 0;
  }
  let total = 0;
  for (const n of names) total += await dirSize(join(p, n));
  return total;
}

/** The folders of `dataDir`, sorted, named relative to the workspace `root` (when inside it), with their sizes. */
export async function listVolumes(root: string, dataDir: string): Promise<VolumeInfo[]> {
  let entries: string[];
  try {
    entries = (await readdir(dataDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
  const rel = dataDir.startsWith(`${root}/`) ? dataDir.slice(root.length + 1) : dataDir;
  return Promise.all(entries.map(async (e) => ({ name: join(rel, e), size: await dirSize(join(dataDir, e)), labels: {} })));
}
