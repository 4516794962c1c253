/**
 * The backup folder on disk: where it is, what it holds, the `.partial` lock of a running
 * backup, and the per-file sha256 check. Files only (node:fs), no drivers, no Docker.
 *
 * A backup is written into `<id>.partial/` with a `lock.json` (pid, host, which services it
 * stopped) and renamed to `<id>/` once manifest.json is complete, so a listing never shows a
 * half backup. A `.partial` whose pid is gone (kill -9, power loss) is stale: the next `helfy
 * backup …` / `helfy restore` starts the services its lock says were stopped, and `backup prune`
 * deletes it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { HelfyConfig } from '../config/load.js';
import { HelfyError } from '../core/errors.js';
import { pidAlive } from '../core/proc.js';
import { idTime, MANIFEST_FILE, MANIFEST_SUM_FILE, manifestSumLine, manifestSumProblem, parseManifest, PARTIAL_SUFFIX, totalBytes, type Manifest } from './manifest.js';
import { writeFileAtomic } from '../core/atomic-write.js';

export const LOCK_FILE = 'lock.json';
export const VERIFY_FILE = 'verified.json';

/** HELFY_BACKUP_DIR (relative: to the workspace), else `<workspace>/backups`. */
export function backupRoot(cfg: Pick<HelfyConfig, 'root' | 'values'>): string {
  const raw = cfg.values.find((v) => v.key === ('HELFY_BACKUP_DIR' as never))?.raw;
  if (!raw) return join(cfg.root, 'backups');
  return isAbsolute(raw) ? raw : resolve(cfg.root, raw);
}

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  project: string;
  /** Services this backup stopped and must start again (updated as it goes). */
  stopped: string[];
}

export interface VerifyRecord {
  at: string;
  ok: boolean;
  restoreTest: boolean;
  problems: string[];
}

export interface BackupEntry {
  id: string;
  dir: string;
  manifest: Manifest;
  bytes: number;
  verified?: VerifyRecord;
}

export interface PartialEntry {
  id: string;
  dir: string;
  lock?: LockInfo;
  /** The process that wrote it is gone (or it has no readable lock and is older than a day). */
  stale: boolean;
}

/** Whether the process a lock or record names is gone: same host and its pid dead; another host's: older than a day. */
export function holderGone(info: { pid?: unknown; host?: unknown; startedAt?: unknown }, now = Date.now()): boolean {
  if (typeof info.pid !== 'number') return true;
  if (info.host !== hostname()) return now - Date.parse(String(info.startedAt)) > 86_400_000;
  return !pidAlive(info.pid);
}

/**
 * Whether any project lock (`.lock-<project>.json`, src/backup/lock.ts) in `root` is held by a live
 * process. A backup holds its project's lock from before it creates its `.partial` until it is done.
 */
async function anyLiveProjectLock(root: string): Promise<boolean> {
  for (const n of await readdir(root).catch(() => [] as string[])) {
    if (!n.startsWith('.lock-') || !n.endsWith('.json')) continue;
    let info: unknown;
    try {
      info = JSON.parse(await readFile(join(root, n), 'utf8'));
    } catch {
      // Just created and not written yet (live), or left empty by a crash (acquireProjectLock takes
      // such a lock over after 5 s, and so it counts as nobody's here).
      const m = await stat(join(root, n)).then((x) => x.mtimeMs, () => 0);
      if (m && Date.now() - m < 5000) return true;
      continue;
    }
    if (info && typeof info === 'object' && !holderGone(info)) return true;
  }
  return false;
}

/**
 * A `.partial` is stale when the process its lock names is gone. Without a readable lock (a crash
 * before its first write): when no backup of any project holds a lock in the folder, or after a day.
 */
async function isStale(root: string, lock: LockInfo | undefined, mtimeMs: number): Promise<boolean> {
  if (!lock) return Date.now() - mtimeMs > 86_400_000 || !(await anyLiveProjectLock(root));
  return holderGone(lock);
}

export interface ScanResult {
  backups: BackupEntry[];
  partials: PartialEntry[];
  damaged: { id: string; reason: string }[];
  /** With `project`: complete backups of other projects in the same folder (a shared HELFY_BACKUP_DIR). */
  others: BackupEntry[];
}

/**
 * The backups in `root`, oldest first. With `project`, only that project's (manifest.project;
 * for a `.partial`, its lock's project: one without a readable lock is kept, it can be anyone's);
 * the other projects' complete backups come back in `others`.
 */
export async function scanBackups(root: string, project?: string): Promise<ScanResult> {
  const backups: BackupEntry[] = [];
  const others: BackupEntry[] = [];
  const partials: PartialEntry[] = [];
  const damaged: { id: string; reason: string }[] = [];
  if (!existsSync(root)) return { backups, partials, damaged, others };
  for (const d of await readdir(root, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const dir = join(root, d.name);
    if (d.name.endsWith(PARTIAL_SUFFIX)) {
      const id = d.name.slice(0, -PARTIAL_SUFFIX.length);
      let lock: LockInfo | undefined;
      try {
        lock = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as LockInfo;
      } catch {
        lock = undefined;
      }
      if (project !== undefined && lock?.project !== undefined && lock.project !== project) continue;
      partials.push({ id, dir, lock, stale: await isStale(root, lock, (await stat(dir)).mtimeMs) });
      continue;
    }
    if (!idTime(d.name)) continue;
    const mf = join(dir, MANIFEST_FILE);
    if (!existsSync(mf)) {
      damaged.push({ id: d.name, reason: 'no manifest.json' });
      continue;
    }
    try {
      const text = await readFile(mf, 'utf8');
      const manifest = parseManifest(text, d.name);
      const sum = await readFile(join(dir, MANIFEST_SUM_FILE), 'utf8').catch(() => undefined);
      const problem = manifestSumProblem(text, sum, manifest.format);
      if (problem) {
        damaged.push({ id: d.name, reason: problem });
        continue;
      }
      let verified: VerifyRecord | undefined;
      try {
        verified = JSON.parse(readFileSync(join(dir, VERIFY_FILE), 'utf8')) as VerifyRecord;
      } catch {
        verified = undefined;
      }
      const entry = { id: d.name, dir, manifest, bytes: totalBytes(manifest), ...(verified ? { verified } : {}) };
      (project !== undefined && manifest.project !== project ? others : backups).push(entry);
    } catch (e) {
      damaged.push({ id: d.name, reason: (e as Error).message });
    }
  }
  backups.sort((a, b) => a.id.localeCompare(b.id));
  others.sort((a, b) => a.id.localeCompare(b.id));
  return { backups, partials, damaged, others };
}

/**
 * A backup by id (any project's: restoring another workspace's backup is allowed, the prompt
 * names its project) or `latest` (the newest of `project` only).
 */
export async function findBackup(root: string, id: string, project?: string): Promise<BackupEntry> {
  const { backups, partials, others, damaged } = await scanBackups(root, project);
  const hit = backups.find((b) => b.id === id) ?? others.find((b) => b.id === id) ?? (id === 'latest' ? backups[backups.length - 1] : undefined);
  if (hit) return hit;
  if (id === 'latest' && others.length) {
    throw new HelfyError('USAGE', `no backup of ${project} in ${root} (${others.length} of other projects: ${[...new Set(others.map((b) => b.manifest.project))].join(', ')})`, {
      hint: '`latest` means the newest backup of this project; name another project\'s backup by its id (`helfy backup list` shows them).',
    });
  }
  const bad = damaged.find((b) => b.id === id);
  if (bad) throw new HelfyError('BACKUP_DAMAGED', `backup ${id} is damaged: ${bad.reason}`, { hint: 'Nothing was changed. Restore another backup (`helfy backup list`).' });
  const partial = partials.some((p) => p.id === id);
  throw new HelfyError('USAGE', partial ? `backup ${id} is incomplete (${id}${PARTIAL_SUFFIX})` : `no backup ${id} in ${root}`, {
    hint: partial ? 'It was interrupted; `helfy backup prune` removes it once its process is gone.' : '`helfy backup list` shows the backups.',
  });
}

/** Creates `<root>/<id>.partial/` with its lock (fails if it exists). */
export async function createPartial(root: string, id: string, lock: LockInfo): Promise<string> {
  await mkdir(root, { recursive: true });
  if (existsSync(join(root, id))) throw new HelfyError('USAGE', `backup ${id} exists already`, { hint: 'Pick another --name, or wait a second.' });
  const dir = join(root, `${id}${PARTIAL_SUFFIX}`);
  try {
    await mkdir(dir);
  } catch (e) {
    throw new HelfyError('FS_ERROR', `cannot create ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'Check HELFY_BACKUP_DIR and its permissions.' });
  }
  await writeLock(dir, lock);
  return dir;
}

/** Rewrites the lock (temp file + rename): a kill -9 mid-write leaves the old lock or the new one, never a truncated file. */
export async function writeLock(dir: string, lock: LockInfo): Promise<void> {
  await writeFileAtomic(join(dir, LOCK_FILE), `${JSON.stringify(lock, null, 2)}\n`);
}

/** Writes the manifest and its checksum (temp file + rename each), drops the lock and renames the folder to its id. */
export async function completePartial(dir: string, root: string, manifest: Manifest): Promise<string> {
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFileAtomic(join(dir, MANIFEST_FILE), text);
  await writeFileAtomic(join(dir, MANIFEST_SUM_FILE), manifestSumLine(text));
  await rm(join(dir, LOCK_FILE), { force: true });
  const final = join(root, manifest.id);
  await rename(dir, final);
  return final;
}

export async function writeVerifyRecord(dir: string, rec: VerifyRecord): Promise<void> {
  await writeFileAtomic(join(dir, VERIFY_FILE), `${JSON.stringify(rec, null, 2)}\n`);
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await new Promise<void>((res, rej) => {
    createReadStream(file).on('data', (c) => h.update(c)).on('end', () => res()).on('error', rej);
  });
  return h.digest('hex');
}

export interface FileCheck {
  name: string;
  ok: boolean;
  /** Why not: `missing`, `size 123 ≠ 456`, `sha256 mismatch`. */
  problem?: string;
}

/** Every file of the manifest against its size and sha256. */
export async function checkFiles(dir: string, m: Manifest): Promise<FileCheck[]> {
  const out: FileCheck[] = [];
  for (const f of m.files) {
    const p = join(dir, f.name);
    let size: number;
    try {
      size = (await stat(p)).size;
    } catch {
      out.push({ name: f.name, ok: false, problem: 'missing' });
      continue;
    }
    if (size !== f.bytes) {
      out.push({ name: f.name, ok: false, problem: `size ${size} bytes, manifest says ${f.bytes}` });
      continue;
    }
    const sum = await sha256File(p);
    out.push(sum === f.sha256 ? { name: f.name, ok: true } : { name: f.name, ok: false, problem: `sha256 ${sum}, manifest says ${f.sha256} (the file was changed or damaged)` });
  }
  return out;
}

/**
 * `<root>/.writers-down-<project>.json`, the restore's record. While a restore runs it names the
 * process (`running`), the writers it stops, whether it has begun replacing data (`touched`) and
 * whether Neo4j is stopped for its load, so a restore killed with -9 can be recovered (backup.ts
 * recoverInterruptedRestore). Afterwards it stays only when writers were left stopped on purpose
 * (they would run on half-restored data): the next successful restore starts them again (`helfy
 * up` does anyway).
 */
export interface DownRecord {
  restore: string;
  at: string;
  writers: string[];
  /** The restore holding it now; absent once it ended (failed with writers left stopped). */
  running?: { pid: number; host: string };
  /** Some database was dropped or is being loaded (or an earlier restore left data partial). */
  touched?: boolean;
  /** Neo4j is stopped for the load. */
  neo4jStopped?: boolean;
}

function downFile(root: string, project: string): string {
  return join(root, `.writers-down-${project.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
}

export async function writeDownRecord(root: string, project: string, rec: DownRecord): Promise<void> {
  await writeFileAtomic(downFile(root, project), `${JSON.stringify(rec, null, 2)}\n`);
}

export async function readDownRecord(root: string, project: string): Promise<DownRecord | undefined> {
  try {
    return JSON.parse(await readFile(downFile(root, project), 'utf8')) as DownRecord;
  } catch {
    return undefined;
  }
}

export async function clearDownRecord(root: string, project: string): Promise<void> {
  await rm(downFile(root, project), { force: true });
}
