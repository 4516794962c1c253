/**
 * The scaffold record, `apps/.helfy-scaffold.json`: per app, the template it came from, helfy's
 * version, a hash of the whole file set and the sha256 of every file as it was written. It is the
 * base of the three-way comparison `helfy apps update` makes (base = what was scaffolded, the
 * workspace file = the developer's, the template = the new version), so a developer's edit can be
 * told from a template change. It lives beside the apps (committed with the workspace, outside
 * both build contexts, so it never changes an image tag).
 */
import { readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppName } from '../config/apps.js';
import { PACKAGE_ROOT } from '../config/paths.js';
import { HelfyError } from '../core/errors.js';

export const MANIFEST_FILE = 'apps/.helfy-scaffold.json';

export interface AppRecord {
  /** Where the files came from, relative to helfy's package (templates/api). */
  template: string;
  helfyVersion: string;
  /** Hash of the whole template file set at that time. */
  templateHash: string;
  scaffoldedAt: string;
  updatedAt?: string;
  /** Relative path → sha256 of the file as helfy wrote it. */
  files: Record<string, string>;
}

export interface Manifest {
  version: 1;
  apps: Partial<Record<AppName, AppRecord>>;
}

export function helfyVersion(): string {
  try {
    return String(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

export function readManifest(root: string): Manifest {
  const file = join(root, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { version: 1, apps: {} };
  }
  try {
    const m = JSON.parse(text) as Manifest;
    if (m?.version !== 1 || typeof m.apps !== 'object' || m.apps === null) throw new Error('not a version 1 scaffold record');
    for (const [app, r] of Object.entries(m.apps)) {
      if (!r || typeof r.files !== 'object' || r.files === null) throw new Error(`apps.${app}.files is missing`);
    }
    return m;
  } catch (e) {
    throw new HelfyError('CONFIG_INVALID', `${MANIFEST_FILE} is not a valid scaffold record (${(e as Error).message})`, {
      hint: `Restore it from version control; without it helfy cannot tell your edits from template changes.`,
    });
  }
}

/** Writes the record atomically (temporary file, then rename). */
export async function writeManifest(root: string, m: Manifest): Promise<void> {
  const file = join(root, MANIFEST_FILE);
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, `${JSON.stringify(m, null, 2)}\n`, { mode: 0o644 });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new HelfyError('FS_ERROR', `cannot write ${MANIFEST_FILE}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'Check free disk space and permissions.', cause: e });
  }
}
