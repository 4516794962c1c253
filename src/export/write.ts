/**
 * Writes an export as a whole or not at all: every file goes into a temporary folder beside
 * `--out`, which then takes the place of `--out` by rename(2) (an existing one is moved aside
 * first and removed after). A failure removes the temporary folder: nothing half-written stays.
 *
 * An `--out` folder holding anything but an earlier export of the same kind (its
 * `.helfy-export.json` lists what it wrote) is refused unless `--force`, which replaces the folder.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile, chmod } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { HelfyError } from '../core/errors.js';
import type { ExportTarget } from './options.js';

export const MARKER = '.helfy-export.json';

export interface OutFile {
  path: string;
  content: string;
  mode?: number;
}

/** Files of a folder, recursively, relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

/** Why `out` may not be replaced (undefined when it may). */
export async function refusal(out: string, target: ExportTarget, workspace: string): Promise<HelfyError | undefined> {
  const ws = resolve(workspace);
  if (ws === out || ws.startsWith(out.endsWith(sep) ? out : out + sep)) {
    return new HelfyError('USAGE', `--out ${out} holds the workspace itself`, { hint: 'Write the export to a folder of its own, e.g. --out deploy/' + (target === 'kubernetes' ? 'k8s' : 'swarm') + '.' });
  }
  if (!existsSync(out)) return undefined;
  if (!statSync(out).isDirectory()) return new HelfyError('USAGE', `--out ${out} is a file, not a folder`, { hint: 'Pass a folder (it is created when missing).' });
  const present = await listFiles(out);
  if (!present.length) return undefined;
  let listed: string[] = [];
  try {
    const m = JSON.parse(readFileSync(join(out, MARKER), 'utf8')) as { target?: string; files?: string[] };
    if (m.target === target && Array.isArray(m.files)) listed = [...m.files, MARKER];
  } catch {
    listed = [];
  }
  const other = present.filter((f) => !listed.includes(f));
  if (!other.length) return undefined;
  return new HelfyError('OUTPUT_NOT_EMPTY', `--out ${out} holds ${other.length} file${other.length > 1 ? 's' : ''} that ${other.length > 1 ? 'are' : 'is'} not an earlier ${target} export (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''})`, {
    hint: 'Pick an empty or new folder, or pass --force to replace the folder and everything in it.',
    data: { files: other },
  });
}

export async function writeExport(out: string, target: ExportTarget, files: readonly OutFile[]): Promise<void> {
  const parent = dirname(out);
  const tag = `${process.pid}-${Date.now()}`;
  const tmp = join(parent, `.${basename(out)}.helfy-tmp-${tag}`);
  const old = join(parent, `.${basename(out)}.helfy-old-${tag}`);
  try {
    await mkdir(parent, { recursive: true });
    await mkdir(tmp, { mode: 0o755 });
    const all = [...files, { path: MARKER, content: `${JSON.stringify({ target, generatedBy: 'helfy export', files: files.map((f) => f.path) }, null, 2)}\n` }];
    for (const f of all) {
      const file = join(tmp, f.path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, f.content, { mode: f.mode ?? 0o644, flag: 'wx' });
      await chmod(file, f.mode ?? 0o644);
    }
    if (existsSync(out)) await rename(out, old);
    try {
      await rename(tmp, out);
    } catch (e) {
      if (existsSync(old)) await rename(old, out);
      throw e;
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    const err = e as NodeJS.ErrnoException;
    throw new HelfyError('FS_ERROR', `cannot write the export to ${out}: ${err.code ?? err.message}`, {
      hint: err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS' ? 'Pick a folder you can write to.' : 'Check free disk space and the folder; nothing was written.',
      cause: e,
    });
  }
  await rm(old, { recursive: true, force: true }).catch(() => {});
}
