/**
 * The native runtime's process supervisor: runs a ProcessSpec detached from helfy (its own
 * session and process group, output appended to .helfy/logs/<name>.log), so it survives helfy's
 * exit and a closed terminal, and answers later — from any helfy process — what runs, what ended
 * and how.
 *
 * Each process runs under a tiny /bin/sh wrapper (the group leader, whose pid is recorded):
 * it starts the command, waits for it, and writes `<name>.exit` ({code, signal}) when it ends, so a
 * job's exit code and a daemon's crash are known after the helfy that started them is gone. The
 * wrapper forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT to the command (it never leaves it orphaned);
 * `stop` signals every process of the group but the wrapper (so the command gets it once, and
 * grandchildren get it too), then SIGKILLs the whole group after the grace period. The state file `<name>.json` records
 * the leader's pid with its start time and the boot id: a pid that is alive but started at
 * another time, or was recorded before a reboot, is not ours (`exited`); nor is a state file
 * that records another workspace root (a copied `.helfy`): never reported running, never signalled.
 *
 * Each run has an id and its own exit record (`<name>.<runId>.exit`), so the wrapper of another
 * run of the same name never marks this one exited. start / stop / forget run under the workspace
 * lock (`withLock`, `.helfy/run/.lock`: holder pid + start time + what + since; stale → taken over
 * under a takeover guard; re-entrant in one async call chain), and start records the pid before
 * anything else can happen. A stop that cannot stop (EPERM, or a group alive 10 s after SIGKILL)
 * throws OPERATION_FAILED and records nothing: the process stays tracked.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants as fsc, existsSync, fchownSync, fstatSync, mkdirSync, openSync, realpathSync, statSync } from 'node:fs';
import { link, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { HelfyError } from '../../core/errors.js';
import { bootId, childrenOf, cmdline, groupLive, groupMembers, procStart, procStat } from './proc.js';
import type { LogLine, NativeDirs, ProcessExit, ProcessSpec, ProcessState, Supervisor } from './types.js';

/** Logs larger than this are rotated when their process (re)starts. */
export const ROTATE_BYTES = 10 * 1024 * 1024;
/** Rotated logs kept: `<name>.log.1` … `.log.3`. */
export const ROTATE_KEEP = 3;
/** readLog's default tail. */
const DEFAULT_TAIL = 200;

export interface SupervisorOptions {
  /** Rotation threshold in bytes (default 10 MB; tests pass a small one). */
  rotateBytes?: number;
  /** followLog's poll interval (default 250 ms). */
  pollMs?: number;
}

/** What `<name>.json` holds. */
interface StateFile {
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

/**
 * The wrapper, run as `sh -c WRAPPER <$0 label> <exit file> <keep PWD 0|1> <command…>`.
 * - Traps are set before the command starts, so a stop signal can never kill the wrapper alone.
 * - A background command of a non-interactive shell starts with SIGINT/SIGQUIT ignored (POSIX);
 *   the command is run through `env --default-signal=INT,QUIT` so it sees SIGINT (PostgreSQL's
 *   and Node's handlers are installed anyway, plain programs are not).
 * - `wait` returns early (>128) when a trapped signal arrives: loop while the command lives; the
 *   second `wait` picks up a status the shell reaped meanwhile (127 = nothing left to collect).
 * - dash exports PWD: removed unless the spec's env has it (the command gets exactly spec.env).
 * - The record is written with the builtin printf only (PATH is the spec's, maybe without
 *   coreutils); it is only trusted once it parses, and its time is the file's mtime. It is a new
 *   file per run, written with noclobber (`set -C`): never through a file or symlink planted there.
 */
const WRAPPER = [
  'x=$1; k=$2; shift 2',
  '[ "$k" = 1 ] || unset PWD',
  'c=',
  'for s in TERM INT HUP QUIT; do trap "[ -n \\"\\$c\\" ] && kill -$s \\$c 2>/dev/null" $s; done',
  '"$@" &',
  'c=$!',
  'while :; do',
  '  wait $c; s=$?',
  '  if kill -0 $c 2>/dev/null; then continue; fi',
  '  wait $c 2>/dev/null; t=$?; [ $t -ne 127 ] && s=$t',
  '  break',
  'done',
  'set -C',
  'if [ $s -gt 128 ]; then n=$(kill -l $((s - 128)) 2>/dev/null); printf \'{"code":null,"signal":"SIG%s"}\\n\' "$n" > "$x"',
  'else printf \'{"code":%d,"signal":null}\\n\' $s > "$x"; fi',
  'exit $s',
].join('\n');

function findOnPath(cmd: string): string | undefined {
  for (const d of (process.env.PATH || '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!d) continue;
    const p = join(d, cmd);
    try {
      accessSync(p, fsc.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

let envBin: { path: string; defaultSignal: boolean } | undefined;
/** coreutils `env` and whether it has --default-signal (coreutils 8.31+). */
function envTool(): { path: string; defaultSignal: boolean } {
  if (!envBin) {
    const path = findOnPath('env') ?? '/usr/bin/env';
    const r = spawnSync(path, ['--default-signal=INT', 'true'], { stdio: 'ignore', env: {} });
    envBin = { path, defaultSignal: r.status === 0 };
  }
  return envBin;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function userIds(user: string): { uid: number; gid: number } {
  const id = findOnPath('id') ?? '/usr/bin/id';
  const u = spawnSync(id, ['-u', user], { encoding: 'utf8' });
  const g = spawnSync(id, ['-g', user], { encoding: 'utf8' });
  const uid = Number(u.stdout?.trim());
  const gid = Number(g.stdout?.trim());
  if (u.status !== 0 || g.status !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new HelfyError('OPERATION_FAILED', `cannot run as user ${user}: no such user on this machine`, {
      hint: `create it (e.g. adduser --system ${user}) or run helfy as a regular user`,
    });
  }
  return { uid, gid };
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The last `n` lines of `file` (read from the end in chunks; a missing file has none). */
async function tailLines(file: string, n: number): Promise<string[]> {
  if (n <= 0) return [];
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = (await fh.stat()).size;
    const chunk = 64 * 1024;
    let pos = size;
    let text = '';
    let newlines = 0;
    while (pos > 0 && newlines <= n) {
      const len = Math.min(chunk, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      const s = buf.toString('latin1');
      for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) newlines++;
      text = s + text;
    }
    const lines = splitLines(Buffer.from(text, 'latin1').toString('utf8'));
    return lines.slice(-n);
  } finally {
    await fh.close();
  }
}

async function allLines(file: string): Promise<string[]> {
  try {
    return splitLines(await readFile(file, 'utf8'));
  } catch {
    return [];
  }
}

function splitLines(text: string): string[] {
  if (!text) return [];
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What `.helfy/run/.lock` holds: who works on the workspace, and since when. */
interface LockFile {
  pid: number;
  /** Field 22 of /proc/<pid>/stat of the holder (a reused pid is not the holder). */
  procStart: string | null;
  bootId: string;
  what: string;
  /** ms since epoch. */
  at: number;
  /** Unique per acquisition: a holder only ever removes its own lock. */
  token: string;
}

/** Lock files (absolute paths) held by the current async call chain: a nested withLock just runs. */
const heldLocks = new AsyncLocalStorage<ReadonlySet<string>>();
/** A takeover guard older than this was left by a helfy that died within its few-ms takeover. */
const GUARD_STALE_MS = 5000;
const LOCK_POLL_MS = 100;
/** How long start / stop / forget wait for another helfy's lock (an outer withLock makes them not wait at all). */
const START_LOCK_WAIT_MS = 30_000;
const STOP_LOCK_WAIT_MS = 90_000;
/** How long a SIGKILLed group may take to disappear before stop gives up. */
const KILL_WAIT_MS = 10_000;

/** The holder of `l` is alive: same pid, same start time, same boot. */
function lockHolderAlive(l: LockFile): boolean {
  if (l.bootId !== bootId()) return false;
  const now = procStart(l.pid);
  return now !== undefined && l.procStart !== null && now === l.procStart;
}

function isErrno(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === code;
}

/**
 * Creates `file` holding `data` only when no file of that name exists, and complete at the moment
 * its name appears: the content goes to a temp file first, then link(2) gives it the name. link
 * fails with EEXIST exactly like open(O_CREAT|O_EXCL), but a reader never sees a half-written lock.
 * False when the name is taken.
 */
async function createExclusive(file: string, data: string): Promise<boolean> {
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { flag: 'wx', mode: 0o644 });
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** A state file's pid is a real process-group id: 0, 1 and negatives would signal everything. */
function validPid(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isInteger(pid) && pid > 1;
}

async function readLock(file: string): Promise<LockFile | undefined> {
  const l = await readJson<LockFile>(file);
  return l && validPid(l.pid) && typeof l.token === 'string' ? l : undefined;
}

function lockTime(at: number): string {
  return new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Waits (briefly: at most 2 s) until the wrapper's child has exec'd the command. Until then it is
 * the shell's fork, with SIGINT ignored (a stop signal sent now could be lost) and not yet the
 * target user: after this, `start` has really started the command. Also done when the wrapper or
 * the command has already ended.
 */
async function untilExecd(wrapper: number, exitRecord: string, tools: string[]): Promise<void> {
  const own = cmdline(wrapper).join('\0');
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    if (procStart(wrapper) === undefined || existsSync(exitRecord)) return;
    for (const c of childrenOf(wrapper)) {
      const argv = cmdline(c);
      if (argv.length && argv.join('\0') !== own && !tools.includes(argv[0]!)) return;
    }
    await sleep(5);
  }
}

export function openSupervisor(root: string, opts: SupervisorOptions = {}): Supervisor {
  const rotateBytes = opts.rotateBytes ?? ROTATE_BYTES;
  const pollMs = opts.pollMs ?? 250;
  const base = join(root, '.helfy');
  const dirs: NativeDirs = { data: join(base, 'data'), logs: join(base, 'logs'), run: join(base, 'run') };
  const stateFile = (name: string) => join(dirs.run, `${name}.json`);
  /** The run's exit record (`<name>.<runId>.exit`; `<name>.exit` for a state file without a run id). */
  const exitFile = (name: string, runId?: string) => join(dirs.run, runId ? `${name}.${runId}.exit` : `${name}.exit`);
  const isExitOf = (name: string, f: string) => f === `${name}.exit` || (f.startsWith(`${name}.`) && /^[0-9a-f]{12}\.exit$/.test(f.slice(name.length + 1)));
  /** Every exit record of `name` (all runs). */
  async function removeExits(name: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(dirs.run);
    } catch {
      return;
    }
    for (const f of names) if (isExitOf(name, f)) await rm(join(dirs.run, f), { force: true });
  }
  /** The workspace root as the state files record it (symlinks resolved; as given while it does not exist). */
  let rootReal: string | undefined;
  const realRoot = () => {
    if (rootReal === undefined) {
      try {
        rootReal = realpathSync(root);
      } catch {
        return resolvePath(root);
      }
    }
    return rootReal;
  };
  /** The state file was written for this workspace (a copied `.helfy` names another's processes). */
  const ofThisWorkspace = (s: StateFile) => s.root === undefined || s.root === realRoot();
  const logFile = (name: string) => join(dirs.logs, `${name}.log`);

  function checkName(name: string): void {
    if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(name)) {
      throw new HelfyError('INTERNAL', `invalid process name "${name}" (letters, digits, . _ - only)`);
    }
  }

  async function readExit(s: Pick<StateFile, 'name' | 'runId'>): Promise<ProcessExit | undefined> {
    const f = exitFile(s.name, s.runId);
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

  /** The recorded group leader is alive and is the process we started (same start time, same boot). */
  function leaderAlive(s: StateFile): boolean {
    if (!ofThisWorkspace(s) || s.bootId !== bootId()) return false;
    const now = procStart(s.pid);
    return now !== undefined && s.procStart !== null && now === s.procStart;
  }

  /** Something of our process group is left (the leader, or children that outlived it). */
  function groupOurs(s: StateFile): boolean {
    if (!ofThisWorkspace(s) || s.bootId !== bootId()) return false;
    if (leaderAlive(s)) return true;
    // A pid still in use as a process group id is never handed to a new process, so with the
    // leader gone (not reused: procStart undefined) a live group with its id is what it left.
    return procStart(s.pid) === undefined && groupLive(s.pid);
  }

  async function resolve(s: StateFile): Promise<ProcessState> {
    // Liveness first, the record second: the wrapper writes the record just before it exits, so
    // a leader seen dead has its record (if any) complete, and a record seen means it has ended.
    const alive = leaderAlive(s);
    const exit = ofThisWorkspace(s) ? await readExit(s) : undefined;
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

  async function rotate(name: string): Promise<void> {
    const f = logFile(name);
    let size: number;
    try {
      size = (await stat(f)).size;
    } catch {
      return;
    }
    if (size <= rotateBytes) return;
    await rm(`${f}.${ROTATE_KEEP}`, { force: true });
    for (let i = ROTATE_KEEP - 1; i >= 1; i--) {
      if (existsSync(`${f}.${i}`)) await rename(`${f}.${i}`, `${f}.${i + 1}`);
    }
    await rename(f, `${f}.1`);
  }

  /** A state file, or undefined when missing or not one (a pid that is no process-group id is never trusted). */
  async function readState(file: string): Promise<StateFile | undefined> {
    const s = await readJson<StateFile>(file);
    return s && validPid(s.pid) && typeof s.name === 'string' && s.name ? s : undefined;
  }

  const lockFile = join(dirs.run, '.lock');
  const guardFile = join(dirs.run, '.lock.takeover');

  /**
   * Replaces the stale lock `seen` (dead holder) by `mine`, atomically: only the helfy holding the
   * takeover guard (created exclusively) may replace a lock, and it re-reads the lock under the
   * guard, so two helfys that both saw the same stale lock never both take it. True when taken.
   */
  async function takeOver(seen: LockFile, mine: LockFile): Promise<boolean> {
    const guard: LockFile = { ...mine, what: `taking over the lock of pid ${seen.pid}` };
    if (!(await createExclusive(guardFile, `${JSON.stringify(guard)}\n`))) {
      // Another helfy is taking it over right now; a guard left by one that died is removed.
      try {
        const g = await readLock(guardFile);
        const old = Date.now() - (await stat(guardFile)).mtimeMs > GUARD_STALE_MS;
        if (old && (!g || !lockHolderAlive(g))) await rm(guardFile, { force: true });
      } catch {
        /* gone meanwhile */
      }
      return false;
    }
    try {
      const now = await readLock(lockFile);
      if (!now || now.token !== seen.token) return false; // changed meanwhile: look again
      await writeFileAtomic(lockFile, `${JSON.stringify(mine, null, 2)}\n`);
      return true;
    } finally {
      await rm(guardFile, { force: true });
    }
  }

  /** Takes the lock file; when it cannot, the live holder if it saw one. */
  async function tryAcquire(mine: LockFile): Promise<{ ok: true } | { ok: false; holder?: LockFile }> {
    mkdirSync(dirs.run, { recursive: true });
    if (await createExclusive(lockFile, `${JSON.stringify(mine, null, 2)}\n`)) return { ok: true };
    const cur = await readLock(lockFile);
    if (!cur) {
      // Unreadable (not written by helfy, or emptied): a lock nobody can be holding.
      const raw = await readFile(lockFile, 'utf8').catch(() => undefined);
      if (raw === undefined) return { ok: false }; // released meanwhile
      return (await takeOverUnreadable(raw, mine)) ? { ok: true } : { ok: false };
    }
    if (lockHolderAlive(cur)) return { ok: false, holder: cur };
    return (await takeOver(cur, mine)) ? { ok: true } : { ok: false };
  }

  /** An unparsable lock file (not ours to trust) replaced under the takeover guard when unchanged. */
  async function takeOverUnreadable(raw: string, mine: LockFile): Promise<boolean> {
    if (!(await createExclusive(guardFile, `${JSON.stringify(mine)}\n`))) return false;
    try {
      const now = await readFile(lockFile, 'utf8').catch(() => undefined);
      if (now !== raw) return false;
      await writeFileAtomic(lockFile, `${JSON.stringify(mine, null, 2)}\n`);
      return true;
    } finally {
      await rm(guardFile, { force: true });
    }
  }

  async function release(mine: LockFile): Promise<void> {
    const cur = await readLock(lockFile);
    if (cur?.token === mine.token) await rm(lockFile, { force: true });
  }

  /** Opens the log for appending without following a symlink planted at its name; owned by `ids` when given (fchown of the fd). */
  function openLog(name: string, file: string, ids: { uid: number; gid: number } | undefined): number {
    let fd: number;
    try {
      fd = openSync(file, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT | fsc.O_NOFOLLOW | fsc.O_NONBLOCK, 0o640);
    } catch (e) {
      if (isErrno(e, 'ELOOP')) {
        throw new HelfyError('OPERATION_FAILED', `${name}: its log ${file} is a symbolic link; refusing to write through it`, {
          hint: `remove it (rm ${file}) and start again`,
        });
      }
      throw e;
    }
    try {
      if (!fstatSync(fd).isFile()) {
        throw new HelfyError('OPERATION_FAILED', `${name}: its log ${file} is not a regular file`, { hint: `remove it (rm ${file}) and start again` });
      }
      if (ids) fchownSync(fd, ids.uid, ids.gid);
      return fd;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  async function startLocked(spec: ProcessSpec): Promise<ProcessState> {
    const current = await readState(stateFile(spec.name));
    if (current && leaderAlive(current) && !(await readExit(current))) {
      throw new HelfyError('OPERATION_FAILED', `${spec.name} is already running (pid ${current.pid})`, {
        hint: `stop it first (helfy down ${spec.name}), or leave it running`,
        data: { name: spec.name, pid: current.pid },
      });
    }
    if (!isAbsolute(spec.command)) throw new HelfyError('INTERNAL', `${spec.name}: command must be an absolute path, got ${spec.command}`);
    try {
      accessSync(spec.command, fsc.X_OK);
    } catch {
      throw new HelfyError('TOOL_MISSING', `${spec.name}: ${spec.command} does not exist or is not executable`, {
        hint: 'install it, or point helfy at it with the matching HELFY_* setting',
      });
    }
    if (!existsSync(spec.cwd) || !statSync(spec.cwd).isDirectory()) {
      throw new HelfyError('OPERATION_FAILED', `${spec.name}: working folder ${spec.cwd} does not exist`);
    }
    // What a previous run left behind (its wrapper died, children of it live on, e.g. still
    // holding the port): stopped now, since the new state file would lose track of it.
    if (current && !leaderAlive(current) && groupOurs(current)) await stopLocked(spec.name, {});
    for (const d of [dirs.data, dirs.logs, dirs.run]) mkdirSync(d, { recursive: true });
    await rotate(spec.name);
    await removeExits(spec.name);

    const asUser = spec.user && isRoot() && spec.user !== 'root' ? spec.user : undefined;
    const ids = asUser ? userIds(asUser) : undefined;
    const log = logFile(spec.name);
    const fd = openLog(spec.name, log, ids);
    const prefix: string[] = [];
    try {
      if (asUser) {
        const setpriv = findOnPath('setpriv');
        if (!setpriv) {
          throw new HelfyError('TOOL_MISSING', `${spec.name} must run as user ${asUser}, and setpriv (util-linux) was not found`, {
            hint: 'install util-linux (apt-get install util-linux), or run helfy as a regular user',
          });
        }
        prefix.push(setpriv, `--reuid=${asUser}`, `--regid=${asUser}`, '--init-groups');
      }
      const env = envTool();
      prefix.push(env.path);
      if (env.defaultSignal) prefix.push('--default-signal=INT,QUIT');
      // `env` with `--` never reads the command as a VAR=value assignment.
      prefix.push('--');

      const runId = randomBytes(6).toString('hex');
      const exitRecord = exitFile(spec.name, runId);
      const child = spawn('/bin/sh', ['-c', WRAPPER, `helfy:${spec.name}`, exitRecord, 'PWD' in spec.env ? '1' : '0', ...prefix, spec.command, ...spec.args], {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      const pid = await new Promise<number>((res, rej) => {
        child.once('error', rej);
        child.once('spawn', () => res(child.pid!));
      });
      child.unref();
      // Recorded at once (before waiting for the exec): from here on the run is tracked, whatever
      // happens to this helfy, and a stop or a second start sees it.
      const state: StateFile = {
        name: spec.name,
        kind: spec.kind,
        pid,
        startedAt: Date.now(),
        procStart: procStart(pid) ?? null,
        bootId: bootId(),
        runId,
        root: realRoot(),
        labels: spec.labels,
        commandLine: [spec.command, ...spec.args].map(quoteArg).join(' '),
        cwd: spec.cwd,
        ...(asUser ? { user: asUser } : {}),
        stopSignal: spec.stopSignal ?? 'SIGTERM',
        graceS: spec.graceS,
        logFile: log,
      };
      await writeFileAtomic(stateFile(spec.name), `${JSON.stringify(state, null, 2)}\n`);
      await untilExecd(pid, exitRecord, prefix.slice(0, -1));
      return resolve(state);
    } finally {
      closeSync(fd);
    }
  }

  /** The group's live members with their /proc state letter, for a message ("4711 (D)"). */
  const describeGroup = (pgid: number) => groupMembers(pgid).map((p) => `${p} (${procStat(p)?.state ?? '?'})`).join(', ');

  async function stopLocked(name: string, o: { graceS?: number }): Promise<boolean> {
    const s = await readState(stateFile(name));
    if (!s || !groupOurs(s)) return false;
    const graceMs = (o.graceS ?? s.graceS) * 1000;
    const denied: number[] = [];
    const signal = (target: number, sig: NodeJS.Signals) => {
      try {
        process.kill(target, sig);
      } catch (e) {
        if (isErrno(e, 'EPERM')) denied.push(Math.abs(target)); // ESRCH: gone meanwhile
      }
    };
    const refuse = (why: string, hint: string): never => {
      // Nothing is recorded: the state stays (running, or its live group), so it is not forgotten.
      throw new HelfyError('OPERATION_FAILED', `could not stop ${name} (pid ${s.pid}): ${why}`, {
        hint,
        data: { name, pid: s.pid, members: groupMembers(s.pid) },
      });
    };
    const notAllowed = () =>
      refuse(
        `not allowed to signal ${[...new Set(denied)].join(', ')} (it runs as ${s.user ?? 'another user'}, helfy as uid ${process.getuid?.() ?? '?'})`,
        `run helfy as the user that started it${s.user ? ' or as root' : ''}`,
      );
    // The stop signal goes to every process of the group except the wrapper: the wrapper would
    // forward it to the command, which would then get it twice (a second SIGINT/SIGTERM is
    // "force quit" to some programs). Without a live wrapper, the group as a whole.
    if (leaderAlive(s)) {
      for (const p of groupMembers(s.pid)) if (p !== s.pid) signal(p, s.stopSignal || 'SIGTERM');
    } else {
      signal(-s.pid, s.stopSignal || 'SIGTERM');
    }
    if (denied.length) notAllowed();
    const deadline = Date.now() + graceMs;
    while (groupLive(s.pid) && Date.now() < deadline) await sleep(50);
    if (groupLive(s.pid)) {
      signal(-s.pid, 'SIGKILL');
      if (denied.length) notAllowed();
      const hard = Date.now() + KILL_WAIT_MS;
      while (groupLive(s.pid) && Date.now() < hard) await sleep(20);
      if (groupLive(s.pid)) {
        refuse(
          `still alive ${KILL_WAIT_MS / 1000} s after SIGKILL: ${describeGroup(s.pid)} (D = waiting on the kernel, e.g. a hung disk or NFS)`,
          `find out what it waits on (cat /proc/${s.pid}/stack, ps -o pid,stat,wchan -g ${s.pid}), then run this again`,
        );
      }
      // The wrapper died with its group and could not say how: the supervisor knows (the group is gone).
      if (!(await readExit(s))) {
        await writeFileAtomic(exitFile(name, s.runId), `${JSON.stringify({ code: null, signal: 'SIGKILL', at: Date.now() })}\n`);
      }
    }
    return true;
  }

  const sup: Supervisor = {
    dirs,

    async lockHolder() {
      const l = await readLock(lockFile);
      if (!l || l.pid === process.pid || !lockHolderAlive(l)) return undefined;
      return { pid: l.pid, what: l.what, at: l.at };
    },

    async withLock(what, fn, o = {}) {
      const held = heldLocks.getStore();
      if (held?.has(lockFile)) return fn();
      const mine: LockFile = {
        pid: process.pid,
        procStart: procStart(process.pid) ?? null,
        bootId: bootId(),
        what,
        at: Date.now(),
        token: randomBytes(8).toString('hex'),
      };
      const deadline = Date.now() + Math.max(0, o.waitMs ?? 0);
      let holder: LockFile | undefined;
      for (;;) {
        mine.at = Date.now();
        const r = await tryAcquire(mine).catch((e: unknown) => {
          if (isErrno(e, 'EACCES') || isErrno(e, 'EPERM') || isErrno(e, 'EROFS')) {
            throw new HelfyError('OPERATION_FAILED', `cannot take the workspace lock ${lockFile}: ${(e as NodeJS.ErrnoException).code === 'EROFS' ? 'read-only file system' : 'permission denied'}`, {
              hint: 'run helfy as the user that owns this workspace (and its .helfy folder)',
            });
          }
          throw e;
        });
        if (r.ok) break;
        if (r.holder) holder = r.holder;
        const late = Date.now() >= deadline;
        if (late && !holder && Date.now() >= deadline + 2000) {
          throw new HelfyError('OPERATION_FAILED', `the workspace lock ${lockFile} stays busy`, {
            hint: 'another helfy is probably starting or stopping services here: run this again in a moment',
          });
        }
        if (late && holder) {
          const self = holder.pid === process.pid;
          throw new HelfyError(
            'OPERATION_FAILED',
            self
              ? `this helfy (pid ${holder.pid}) is already working on this workspace: ${holder.what}, since ${lockTime(holder.at)}`
              : `another helfy (pid ${holder.pid}: ${holder.what}, since ${lockTime(holder.at)}) is working on this workspace`,
            {
              hint: `wait for it to finish and run this again${self ? '' : ` (if it hangs: kill ${holder.pid})`}; the lock is ${lockFile}`,
              data: { lock: lockFile, pid: holder.pid, what: holder.what, since: holder.at },
            },
          );
        }
        // No holder seen yet (the lock changed hands under us): look again right away once.
        await sleep(r.holder ? LOCK_POLL_MS : 10);
      }
      try {
        return await heldLocks.run(new Set([...(held ?? []), lockFile]), fn);
      } finally {
        await release(mine);
      }
    },

    start(spec) {
      checkName(spec.name);
      return sup.withLock(`starting ${spec.name}`, () => startLocked(spec), { waitMs: START_LOCK_WAIT_MS });
    },

    async list() {
      let names: string[];
      try {
        names = await readdir(dirs.run);
      } catch {
        return [];
      }
      const out: ProcessState[] = [];
      for (const n of names.filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort()) {
        const s = await readState(join(dirs.run, n));
        if (s) out.push(await resolve(s));
      }
      return out;
    },

    async get(name) {
      checkName(name);
      const s = await readState(stateFile(name));
      return s ? resolve(s) : undefined;
    },

    stop(name, o = {}) {
      checkName(name);
      return sup.withLock(`stopping ${name}`, () => stopLocked(name, o), { waitMs: STOP_LOCK_WAIT_MS });
    },

    forget(name) {
      checkName(name);
      return sup.withLock(`forgetting ${name}`, async () => {
        const s = await readState(stateFile(name));
        if (s && ((leaderAlive(s) && !(await readExit(s))) || groupOurs(s))) {
          throw new HelfyError('OPERATION_FAILED', `${name} is still running (pid ${s.pid}); stop it before forgetting it`);
        }
        await rm(stateFile(name), { force: true });
        await removeExits(name);
      }, { waitMs: STOP_LOCK_WAIT_MS });
    },

    async readLog(name, o = {}) {
      checkName(name);
      const f = logFile(name);
      let lines: string[];
      if (o.tail === undefined) {
        lines = [...(await allLines(`${f}.1`)), ...(await allLines(f))];
      } else {
        lines = await tailLines(f, o.tail);
        if (lines.length < o.tail) lines = [...(await tailLines(`${f}.1`, o.tail - lines.length)), ...lines];
      }
      return lines.map((text) => ({ stream: 'stdout' as const, text }));
    },

    async followLog(name, o, onLine, signal) {
      checkName(name);
      const f = logFile(name);
      const sizeOf = async () => {
        try {
          return (await stat(f)).size;
        } catch {
          return -1;
        }
      };
      // The size before the tail is read: a line written in between is shown twice rather than never.
      let pos = Math.max(0, await sizeOf());
      if (o.tail === undefined || o.tail > 0) (await sup.readLog(name, { tail: o.tail })).forEach(onLine);
      let partial = '';
      const emit = (text: string) => onLine({ stream: 'stdout', text });
      while (!signal.aborted) {
        const size = await sizeOf();
        if (size >= 0 && size < pos) pos = 0; // truncated or replaced (a restart rotated it)
        if (size > pos) {
          const fh = await open(f, 'r');
          try {
            const len = size - pos;
            const buf = Buffer.alloc(len);
            const { bytesRead } = await fh.read(buf, 0, len, pos);
            pos += bytesRead;
            const text = partial + buf.subarray(0, bytesRead).toString('utf8');
            const parts = text.split('\n');
            partial = parts.pop() ?? '';
            for (const l of parts) emit(l.replace(/\r$/, ''));
          } finally {
            await fh.close();
          }
          continue;
        }
        await new Promise<void>((r) => {
          const t = setTimeout(done, pollMs);
          function done() {
            clearTimeout(t);
            signal.removeEventListener('abort', done);
            r();
          }
          signal.addEventListener('abort', done, { once: true });
        });
      }
      if (partial) emit(partial);
    },
  };
  return sup;
}
