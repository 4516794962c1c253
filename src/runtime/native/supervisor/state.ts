/**
 * The state file `<name>.json` (what was started, by which workspace, with which pid and start
 * time) and the exit records `<name>.<runId>.exit` the wrapper writes: reading them, and resolving
 * them into a ProcessState (running only when the recorded leader is alive, is the process that
 * was started — same start time, same boot — and has no exit record).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { bootId, groupLive, procStart } from '../../../core/proc.js';
import type { ProcessExit, ProcessState } from '../types.js';
import { readJson, validPid } from './files.js';
import { exitFile, isExitOf, realRoot, stateFile, type SupervisorPaths } from './paths.js';

/** What `<name>.json` holds. */
export interface StateFile {
  name: string;
  kind: 'daemon' | 'job';
  pid: number;
  startedAt: number;
  /** Field 22 of /proc/<pid>/stat at start; null when the process had already ended. */
  procStart: string | null;
  bootId: string;
  /**
   * This run's id: its exit record is `<name>.<runId>.exit`, so the wrapper of another run of the
   * same name (an orphan of a race) never marks this one exited. Absent in older state files
   * (their record is `<name>.exit`).
   */
  runId?: string;
  /**
   * The workspace root (realpath) of the supervisor that started it: a state file copied into
   * another workspace names a process that is not that workspace's (never reported running there,
   * never signalled). Absent in older state files (trusted).
   */
  root?: string;
  labels: Record<string, string>;
  /** For humans (`cat .helfy/run/api.json`); the environment is never stored. */
  commandLine: string;
  cwd: string;
  user?: string;
  stopSignal: NodeJS.Signals;
  graceS: number;
  logFile: string;
}

/** A state file, or undefined when missing or not one (a pid that is no process-group id is never trusted). */
export async function readState(file: string): Promise<StateFile | undefined> {
  const s = await readJson<StateFile>(file);
  return s && validPid(s.pid) && typeof s.name === 'string' && s.name ? s : undefined;
}

/** The exit record of the run `s` (its time: `at`, else the file's mtime); undefined when there is none that parses. */
export async function readExit(p: SupervisorPaths, s: Pick<StateFile, 'name' | 'runId'>): Promise<ProcessExit | undefined> {
  const f = exitFile(p, s.name, s.runId);
  const rec = await readJson<{ code: number | null; signal: string | null; at?: number }>(f);
  if (!rec || (rec.code === undefined && rec.signal === undefined)) return undefined;
  let at = rec.at;
  if (at === undefined) {
    try {
      at = Math.round((await stat(f)).mtimeMs);
    } catch {
      at = Date.now();
    }
  }
  return { code: rec.code ?? null, signal: rec.signal ?? null, at };
}

/** Removes every exit record of `name` (all runs). */
export async function removeExits(p: SupervisorPaths, name: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(p.dirs.run);
  } catch {
    return;
  }
  for (const f of names) if (isExitOf(name, f)) await rm(join(p.dirs.run, f), { force: true });
}

/** The state file was written for this workspace (a copied `.helfy` names another's processes). */
export function ofThisWorkspace(p: SupervisorPaths, s: StateFile): boolean {
  return s.root === undefined || s.root === realRoot(p);
}

/** The recorded group leader is alive and is the process we started (same start time, same boot). */
export function leaderAlive(p: SupervisorPaths, s: StateFile): boolean {
  if (!ofThisWorkspace(p, s) || s.bootId !== bootId()) return false;
  const now = procStart(s.pid);
  return now !== undefined && s.procStart !== null && now === s.procStart;
}

/** Something of our process group is left (the leader, or children that outlived it). */
export function groupOurs(p: SupervisorPaths, s: StateFile): boolean {
  if (!ofThisWorkspace(p, s) || s.bootId !== bootId()) return false;
  if (leaderAlive(p, s)) return true;
  // A pid still in use as a process group id is never handed to a new process, so with the
  // leader gone (not reused: procStart undefined) a live group with its id is what it left.
  return procStart(s.pid) === undefined && groupLive(s.pid);
}

/** What the supervisor reports for the state file `s`. */
export async function resolveState(p: SupervisorPaths, s: StateFile): Promise<ProcessState> {
  // Liveness first, the record second: the wrapper writes the record just before it exits, so
  // a leader seen dead has its record (if any) complete, and a record seen means it has ended.
  const alive = leaderAlive(p, s);
  const exit = ofThisWorkspace(p, s) ? await readExit(p, s) : undefined;
  const running = alive && !exit;
  return {
    name: s.name,
    kind: s.kind,
    state: running ? 'running' : 'exited',
    pid: s.pid,
    startedAt: s.startedAt,
    ...(!running && exit ? { exit } : {}),
    labels: s.labels ?? {},
    logFile: s.logFile,
  };
}

/** Supervisor.list: every state file of the run folder (sorted by name), resolved. */
export async function listStates(p: SupervisorPaths): Promise<ProcessState[]> {
  let names: string[];
  try {
    names = await readdir(p.dirs.run);
  } catch {
    return [];
  }
  const out: ProcessState[] = [];
  for (const n of names.filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort()) {
    const s = await readState(join(p.dirs.run, n));
    if (s) out.push(await resolveState(p, s));
  }
  return out;
}

/** Supervisor.get (the name already checked). */
export async function getState(p: SupervisorPaths, name: string): Promise<ProcessState | undefined> {
  const s = await readState(stateFile(p, name));
  return s ? resolveState(p, s) : undefined;
}
