/**
 * Scaffolding the app templates into a workspace (`apps/api`, `apps/web`). Checked first, written
 * after: every app is copied into a temporary folder beside its target and renamed into place,
 * so a failure leaves no half-copied app. An existing helfy scaffold is never touched; a target
 * folder holding anything else is refused with the list of what is there.
 */
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { type AppName, templateAppDir, workspaceAppDir } from '../config/apps.js';
import { PACKAGE_ROOT } from '../config/paths.js';
import { HelfyError } from '../core/errors.js';
import { listAppFiles, setHash, snapshot } from './files.js';
import { type AppRecord, helfyVersion, type Manifest } from './manifest.js';

export type AppState =
  /** No folder (or an empty one): scaffold it. */
  | { app: AppName; dir: string; state: 'absent' }
  /** A folder helfy scaffolded (recorded in the manifest): keep it as it is. */
  | { app: AppName; dir: string; state: 'scaffolded' }
  /** A folder with files helfy did not put there. */
  | { app: AppName; dir: string; state: 'foreign'; files: string[] };

/** Every entry below `dir` (files and empty folders), relative, for the refusal message. */
function entriesOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && e.name !== 'node_modules' && e.name !== '.git') {
        const before = out.length;
        walk(join(abs, e.name), r);
        if (out.length === before) out.push(`${r}/`);
      } else out.push(e.isDirectory() ? `${r}/` : r);
    }
  };
  walk(dir, '');
  return out.sort();
}

export function inspectApp(root: string, app: AppName, manifest: Manifest): AppState {
  const dir = workspaceAppDir(root, app);
  if (!existsSync(dir)) return { app, dir, state: 'absent' };
  if (manifest.apps[app]) return { app, dir, state: 'scaffolded' };
  const files = entriesOf(dir);
  return files.length === 0 ? { app, dir, state: 'absent' } : { app, dir, state: 'foreign', files };
}

/** Refuses (exit 2, nothing written) when a target folder holds files that are not a helfy scaffold. */
export function assertNoForeign(states: AppState[], root: string): void {
  const foreign = states.filter((s): s is Extract<AppState, { state: 'foreign' }> => s.state === 'foreign');
  if (!foreign.length) return;
  const details: string[] = [];
  for (const f of foreign) {
    const rel = relative(root, f.dir);
    details.push(`${rel}/ holds ${f.files.length} file(s) helfy did not scaffold:`);
    for (const file of f.files.slice(0, 20)) details.push(`  ${rel}/${file}`);
    if (f.files.length > 20) details.push(`  … and ${f.files.length - 20} more`);
  }
  const names = foreign.map((f) => relative(root, f.dir)).join(', ');
  throw new HelfyError('USAGE', `cannot scaffold into ${names}: the folder already holds files that are not a helfy scaffold; nothing was written`, {
    hint: `Move ${foreign.length > 1 ? 'those folders' : 'that folder'} away (or empty ${foreign.length > 1 ? 'them' : 'it'}), or pass --no-apps to leave apps/ alone.`,
    details,
    data: { foreign: foreign.map((f) => ({ app: f.app, dir: f.dir, files: f.files })) },
  });
}

export interface PreparedApp {
  app: AppName;
  dir: string;
  tmp: string;
  record: AppRecord;
}

/** Copies the template into `apps/.helfy-tmp-<app>-…` (not yet in place). */
export async function prepareApp(root: string, app: AppName, templateDir = templateAppDir(app), now = new Date()): Promise<PreparedApp> {
  const dir = workspaceAppDir(root, app);
  const tmp = join(dirname(dir), `.helfy-tmp-${app}-${process.pid}-${now.getTime()}`);
  try {
    await mkdir(tmp, { recursive: true });
    for (const rel of listAppFiles(templateDir)) {
      await mkdir(dirname(join(tmp, rel)), { recursive: true });
      await copyFile(join(templateDir, rel), join(tmp, rel));
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    const err = e as NodeJS.ErrnoException;
    throw new HelfyError('FS_ERROR', `cannot copy the ${app} template into ${dirname(dir)}: ${err.code ?? err.message}`, { hint: 'Check free disk space and permissions.', cause: e });
  }
  // Hash what was written (not the template again): the record is the scaffold as it is on disk.
  const files = snapshot(tmp);
  const rel = relative(PACKAGE_ROOT, templateDir);
  const record: AppRecord = {
    template: rel.startsWith('..') ? templateDir : rel,
    helfyVersion: helfyVersion(),
    templateHash: setHash(files),
    scaffoldedAt: now.toISOString(),
    files,
  };
  return { app, dir, tmp, record };
}

/** Moves prepared apps into place (an empty target folder is replaced). */
export async function commitApps(prepared: PreparedApp[]): Promise<void> {
  const done: PreparedApp[] = [];
  try {
    for (const p of prepared) {
      if (existsSync(p.dir)) await rmdir(p.dir); // only ever an empty folder here (inspectApp)
      await rename(p.tmp, p.dir);
      done.push(p);
    }
  } catch (e) {
    // The targets were absent or empty before: take back the ones already moved, too.
    await Promise.all(done.map((p) => rm(p.dir, { recursive: true, force: true })));
    await discardApps(prepared.filter((p) => !done.includes(p)));
    throw new HelfyError('FS_ERROR', `cannot move the scaffolded apps into place: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'Check the apps/ folder, then run `helfy init --force`.', cause: e });
  }
}

export async function discardApps(prepared: PreparedApp[]): Promise<void> {
  await Promise.all(prepared.map((p) => rm(p.tmp, { recursive: true, force: true })));
}
