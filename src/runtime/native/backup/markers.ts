/**
 * The temp folders of the native backup runtime's one-offs and of `backup verify` (under
 * nativeBackupTmp), each with an `owner.json` marker: who made it, for which tag and project, and
 * the pid and start time of the process it runs. removeOneOffs and sweepVerifyLeftovers find them
 * again after a kill -9; a pid is only signalled while its start time still matches.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../core/atomic-write.js';
import { procStart } from '../../../core/proc.js';
import type { NativeBackupContext } from './context.js';

/** Kind of a marker in the temp folder: a dump/load one-off, verify's check, verify's scratch Neo4j. */
export type MarkerKind = 'oneoff' | 'check' | 'scratch';

export interface Marker {
  kind: MarkerKind;
  /** `<host>:<pid>` of the helfy process that made it. */
  owner: string;
  tag: string;
  project: string;
  /** The process it runs (absent until spawned). */
  pid?: number;
  /** Field 22 of /proc/<pid>/stat: the pid is only signalled while this still matches. */
  procStart?: string;
  /** The process is the leader of its own group (signal the group). */
  group?: boolean;
}

export const MARKER = 'owner.json';

/** A marked temp folder as newMarkerDir made it: `save` rewrites the marker (after a spawn). */
export interface MarkerDir {
  dir: string;
  marker: Marker;
  save(): Promise<void>;
}

/** A marked temp folder as readMarkers found it. */
export interface MarkedDir {
  dir: string;
  marker: Marker;
}

/** What the marker functions need of the context. */
export type MarkerPlace = Pick<NativeBackupContext, 'tmpRoot' | 'owner' | 'project'>;

/** `<kind>-<tag, made file-safe, at most 80 chars>-<pid>-<8 hex>`: the pid is read back by markerFromName. */
export function markerDirName(kind: MarkerKind, tag: string, pid: number, suffix: string): string {
  return `${kind}-${tag.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80)}-${pid}-${suffix}`;
}

export async function newMarkerDir(place: MarkerPlace, kind: MarkerKind, tag: string): Promise<MarkerDir> {
  await mkdir(place.tmpRoot, { recursive: true, mode: 0o700 });
  const dir = join(place.tmpRoot, markerDirName(kind, tag, process.pid, randomBytes(4).toString('hex')));
  await mkdir(dir, { mode: 0o700 });
  const marker: Marker = { kind, owner: place.owner, tag, project: place.project };
  // Rewritten with the child's pid after its spawn: temp file + rename, so a sweep never reads half of it.
  const save = () => writeFileAtomic(join(dir, MARKER), `${JSON.stringify(marker)}\n`, { mode: 0o600 });
  await save();
  return { dir, marker, save };
}

/** Records a spawned child's pid and start time in the marker (a failed save is ignored). */
export async function markSpawned(m: MarkerDir, pid: number): Promise<void> {
  m.marker.pid = pid;
  m.marker.procStart = procStart(pid);
  await m.save().catch(() => undefined);
}

/**
 * The marker of a folder whose owner.json cannot be read (created, killed before the marker was
 * written): only ours by name, owned by the pid in the name on this host; undefined for a name
 * that is not a marker folder's.
 */
export function markerFromName(name: string, project: string, host: string = hostname()): Marker | undefined {
  const m = /-(\d+)-[0-9a-f]{8}$/.exec(name);
  if (!m) return undefined;
  const kind: MarkerKind = name.startsWith('scratch-') ? 'scratch' : name.startsWith('check-') ? 'check' : 'oneoff';
  return { kind, owner: `${host}:${m[1]}`, tag: '', project };
}

/** The marked folders of this project under the temp root. */
export async function readMarkers(place: Pick<MarkerPlace, 'tmpRoot' | 'project'>): Promise<MarkedDir[]> {
  let names: string[];
  try {
    names = await readdir(place.tmpRoot);
  } catch {
    return [];
  }
  const out: MarkedDir[] = [];
  for (const n of names) {
    const dir = join(place.tmpRoot, n);
    try {
      const marker = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as Marker;
      if (marker.project === place.project) out.push({ dir, marker });
    } catch {
      // A folder without a readable marker (created, killed before the marker was written):
      // only ours by name; left for the sweep when its pid in the name is gone.
      const marker = markerFromName(n, place.project);
      if (marker) out.push({ dir, marker });
    }
  }
  return out;
}

/** Kills the marker's process (when it is still the same process) and removes its folder. */
export async function removeMarked(dir: string, m: Marker): Promise<boolean> {
  let killed = false;
  if (m.pid && m.procStart && procStart(m.pid) === m.procStart) {
    killed = await killAndWait(m.pid, Boolean(m.group), 'SIGKILL', 0);
  }
  await rm(dir, { recursive: true, force: true });
  return killed;
}

/** `signal` to the process (or its group), SIGKILL after `graceMs`; true when it was alive. */
export async function killAndWait(pid: number, group: boolean, signal: NodeJS.Signals, graceMs: number): Promise<boolean> {
  const start = procStart(pid);
  if (!start) return false;
  const alive = () => procStart(pid) === start;
  const send = (s: NodeJS.Signals) => {
    try {
      process.kill(group ? -pid : pid, s);
    } catch {
      /* gone */
    }
  };
  send(signal);
  const until = Date.now() + graceMs;
  while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  if (alive()) {
    send('SIGKILL');
    const hard = Date.now() + 5000;
    while (alive() && Date.now() < hard) await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** As under Docker: every one-off of this project (no tag), or those of one backup / restore / verify. */
export function isOneOffOf(marker: Marker, tag?: string): boolean {
  return !tag || marker.tag === tag;
}

/** Removes the marked folders of `tag` (all of this project's without one), killing their processes. */
export async function removeOneOffs(place: Pick<MarkerPlace, 'tmpRoot' | 'project'>, tag?: string): Promise<number> {
  let n = 0;
  for (const { dir, marker } of await readMarkers(place)) {
    if (!isOneOffOf(marker, tag)) continue;
    await removeMarked(dir, marker);
    n++;
  }
  return n;
}

/**
 * Removes the marked folders whose owner `isGone` says is dead: `containers` counts the processes
 * killed, `volumes` the folders removed (the Docker runtime's words).
 */
export async function sweepVerifyLeftovers(place: Pick<MarkerPlace, 'tmpRoot' | 'project'>, isGone: (owner: string) => boolean): Promise<{ containers: number; volumes: number }> {
  let containers = 0;
  let volumes = 0;
  for (const { dir, marker } of await readMarkers(place)) {
    if (!isGone(marker.owner)) continue;
    if (await removeMarked(dir, marker)) containers++;
    volumes++;
  }
  return { containers, volumes };
}
