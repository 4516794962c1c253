/**
 * Updating a scaffolded app from the template, three-way per file:
 * base = what was scaffolded (its hash in the manifest), here = the workspace file, new = the
 * template's file. The template did not change a file → nothing to do (an edit here stays). The
 * developer did not touch it → take the template's version (added, updated or deleted). Both
 * changed it → a conflict: the workspace file is kept and the template's version is written
 * beside it as `<file>.template`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { type AppName, templateAppDir, workspaceAppDir } from '../config/apps.js';
import { HelfyError } from '../core/errors.js';
import { hashContent, listAppFiles, setHash } from './files.js';
import { type AppRecord, helfyVersion } from './manifest.js';
import { writeFileAtomic } from '../core/atomic-write.js';

export const TEMPLATE_SUFFIX = '.template';

export type ChangeKind = 'add' | 'update' | 'delete' | 'conflict';

export interface FileChange {
  path: string;
  kind: ChangeKind;
  /** Why, in words (for conflicts: what each side did). */
  reason: string;
  /** Unified diff of the workspace file → what it becomes (conflicts: → the template's version). */
  diff: string;
  /** For a conflict: where the template's version is (or would be) written, relative to the app. */
  templateCopy?: string;
}

export interface UpdatePlan {
  app: AppName;
  dir: string;
  templateDir: string;
  changes: FileChange[];
  /** Files the template changed that already match here (recorded, nothing written). */
  alreadyCurrent: string[];
  /** The manifest record after the update. */
  record: AppRecord;
  /** path → hash of the workspace file when planned (absent: no file); applyUpdate re-checks it. */
  here: Record<string, string | undefined>;
}

const isBinary = (b: Buffer) => b.subarray(0, 8000).includes(0);

function unified(app: string, path: string, from: Buffer | undefined, to: Buffer | undefined, toLabel = 'template'): string {
  const a = from === undefined ? '/dev/null' : `a/apps/${app}/${path}`;
  const b = to === undefined ? '/dev/null' : `b/apps/${app}/${path}`;
  if ((from && isBinary(from)) || (to && isBinary(to))) return `Binary files ${a} and ${b} (${toLabel}) differ\n`;
  return createTwoFilesPatch(a, b, from?.toString('utf8') ?? '', to?.toString('utf8') ?? '', undefined, undefined, { context: 3 })
    .replace(/^=+\n/m, '')
    .replace(/^Index: .*\n/m, '');
}

export function planUpdate(root: string, app: AppName, base: AppRecord, templateDir = templateAppDir(app), now = new Date()): UpdatePlan {
  const dir = workspaceAppDir(root, app);
  const newFiles = new Map(listAppFiles(templateDir).map((rel) => [rel, readFileSync(join(templateDir, rel))]));
  const paths = [...new Set([...Object.keys(base.files), ...newFiles.keys()])].sort();
  const changes: FileChange[] = [];
  const alreadyCurrent: string[] = [];
  const files: Record<string, string> = {};
  const here: Record<string, string | undefined> = {};
  for (const path of paths) {
    const b = base.files[path];
    const nBuf = newFiles.get(path);
    const n = nBuf && hashContent(nBuf);
    const hereFile = join(dir, path);
    const hBuf = existsSync(hereFile) ? readFileSync(hereFile) : undefined;
    const h = hBuf && hashContent(hBuf);
    if (n) files[path] = n;
    if (n === b) {
      // The template did not change it: whatever the developer did stays.
      if (b) files[path] = b;
      continue;
    }
    if (h === n) {
      if (n) alreadyCurrent.push(path);
      continue;
    }
    here[path] = h;
    if (h === b) {
      // Untouched here (or absent on both sides before): take the template's version.
      const kind: ChangeKind = !n ? 'delete' : !h ? 'add' : 'update';
      const reason = kind === 'delete' ? 'removed from the template' : kind === 'add' ? 'new in the template' : 'changed in the template';
      changes.push({ path, kind, reason, diff: unified(app, path, hBuf, nBuf) });
      continue;
    }
    const reason = !b
      ? 'added here and in the template, with different contents'
      : !n
        ? 'edited here and removed from the template'
        : !h
          ? 'deleted here and changed in the template'
          : 'edited here and changed in the template';
    changes.push({ path, kind: 'conflict', reason, diff: unified(app, path, hBuf, nBuf), ...(nBuf ? { templateCopy: templateCopyName(dir, path, nBuf) } : {}) });
  }
  const record: AppRecord = { ...base, helfyVersion: helfyVersion(), templateHash: setHash(Object.fromEntries([...newFiles].map(([k, v]) => [k, hashContent(v)]))), updatedAt: now.toISOString(), files };
  return { app, dir, templateDir, changes, alreadyCurrent, record, here };
}

/**
 * Where a conflict's template version goes: `<file>.template`, unless a file of that name holds
 * something else (the developer's own, or an older template version): then `<file>.template.2`,
 * `.3`, ... — a file already holding exactly this version is reused. Never someone's file.
 */
export function templateCopyName(dir: string, path: string, content: Buffer): string {
  const want = hashContent(content);
  for (let i = 1; ; i++) {
    const name = `${path}${TEMPLATE_SUFFIX}${i === 1 ? '' : `.${i}`}`;
    const abs = join(dir, name);
    if (!existsSync(abs) || hashContent(readFileSync(abs)) === want) return name;
  }
}

const hashOf = (file: string): string | undefined => (existsSync(file) ? hashContent(readFileSync(file)) : undefined);

/** True when the update would write nothing and record nothing new. */
export function isUpToDate(plan: UpdatePlan, base: AppRecord): boolean {
  return plan.changes.length === 0 && plan.record.templateHash === base.templateHash;
}

async function writeAtomically(file: string, content: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, content);
}

/**
 * Writes a new file under `file`, never replacing one (link(2) refuses an existing name): false
 * when the name is taken.
 */
async function writeNew(file: string, content: Buffer): Promise<boolean> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.helfy-tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    await writeFile(tmp, content);
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The template's version of a conflict beside the workspace file, under a name nobody uses. */
async function writeTemplateCopy(plan: UpdatePlan, c: FileChange, content: Buffer): Promise<void> {
  for (;;) {
    const name = templateCopyName(plan.dir, c.path, content);
    const abs = join(plan.dir, name);
    // Reused: it already holds exactly this version.
    if (existsSync(abs) || (await writeNew(abs, content))) {
      c.templateCopy = name;
      return;
    }
  }
}

/**
 * Writes the plan: each file through a temporary name and a rename (never half-written); conflicts
 * only get their `.template` copy (never over an existing file of that name). Each file is
 * checked again just before it is written: one edited since the plan (e.g. while the prompt
 * waited) is not overwritten or deleted but becomes a conflict. The plan's changes are updated to
 * what was done (kind, reason, templateCopy); returns the paths that turned into conflicts. The
 * caller then records `plan.record` in the manifest.
 */
export async function applyUpdate(plan: UpdatePlan): Promise<string[]> {
  const late: string[] = [];
  try {
    for (const c of plan.changes) {
      const target = join(plan.dir, c.path);
      const content = c.kind === 'delete' ? undefined : existsSync(join(plan.templateDir, c.path)) ? readFileSync(join(plan.templateDir, c.path)) : undefined;
      const now = c.kind === 'conflict' ? undefined : hashOf(target);
      // Changed since the plan into exactly the template's version: nothing left to do.
      if (c.kind !== 'conflict' && now !== plan.here[c.path] && now === (content && hashContent(content))) continue;
      if (c.kind !== 'conflict' && now !== plan.here[c.path]) {
        late.push(c.path);
        c.kind = 'conflict';
        c.reason = 'edited here while the update waited';
        delete c.templateCopy;
      }
      if (c.kind === 'delete') await rm(target, { force: true });
      else if (c.kind === 'conflict') {
        if (content) await writeTemplateCopy(plan, c, content);
      } else await writeAtomically(target, content!);
    }
  } catch (e) {
    throw new HelfyError('FS_ERROR', `cannot update apps/${plan.app}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'Check free disk space and permissions; files already updated are complete, run `helfy apps update` again for the rest.',
      cause: e,
    });
  }
  return late;
}
