/**
 * Starting a process: the checks before anything starts, the /bin/sh wrapper (group leader, exit
 * record), the `setpriv` / `env` prefix, the state file written as soon as the pid is known, and
 * the short wait until the command has really been exec'd.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants as fsc, existsSync, mkdirSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { writeFileAtomic } from '../../../core/atomic-write.js';
import { HelfyError } from '../../../core/errors.js';
import { bootId, childrenOf, cmdline, procStart } from '../../../core/proc.js';
import type { ProcessSpec, ProcessState } from '../types.js';
import { sleep } from './files.js';
import { openLog, rotateLog } from './logs.js';
import { exitFile, logFile, realRoot, stateFile, type SupervisorPaths } from './paths.js';
import { groupOurs, leaderAlive, readExit, readState, removeExits, resolveState, type StateFile } from './state.js';
import { stopLocked } from './stop.js';
import { envTool, findOnPath, isRoot, quoteArg, userIds } from './tools.js';

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
export const WRAPPER = [
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

/**
 * Waits (briefly: at most 2 s) until the wrapper's child has exec'd the command. Until then it is
 * the shell's fork, with SIGINT ignored (a stop signal sent now could be lost) and not yet the
 * target user: after this, `start` has really started the command. Also done when the wrapper or
 * the command has already ended.
 */
export async function untilExecd(wrapper: number, exitRecord: string, tools: string[]): Promise<void> {
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

/**
 * Refuses a start before anything happens: `spec.name` still running (per its state file
 * `current`), a command that is not an absolute path to an executable, a missing working folder.
 */
export async function checkStartable(p: SupervisorPaths, spec: ProcessSpec, current: StateFile | undefined): Promise<void> {
  if (current && leaderAlive(p, current) && !(await readExit(p, current))) {
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
}

/**
 * What the wrapper runs the command through: `setpriv` to `asUser` when given, then `env`
 * (with --default-signal=INT,QUIT when it has it) and `--`, so `env` never reads the command as a
 * VAR=value assignment.
 */
export function commandPrefix(name: string, asUser: string | undefined): string[] {
  const prefix: string[] = [];
  if (asUser) {
    const setpriv = findOnPath('setpriv');
    if (!setpriv) {
      throw new HelfyError('TOOL_MISSING', `${name} must run as user ${asUser}, and setpriv (util-linux) was not found`, {
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
  return prefix;
}

/** Spawns the wrapper for `spec` detached (own session and group, output to `fd`); its pid once spawned. */
export async function spawnWrapper(spec: ProcessSpec, prefix: string[], exitRecord: string, fd: number): Promise<number> {
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
  return pid;
}

/** The state file of a run of `spec` whose wrapper is `pid`. */
export function stateRecord(p: SupervisorPaths, spec: ProcessSpec, run: { pid: number; runId: string; asUser?: string; logFile: string }): StateFile {
  return {
    name: spec.name,
    kind: spec.kind,
    pid: run.pid,
    startedAt: Date.now(),
    procStart: procStart(run.pid) ?? null,
    bootId: bootId(),
    runId: run.runId,
    root: realRoot(p),
    labels: spec.labels,
    commandLine: [spec.command, ...spec.args].map(quoteArg).join(' '),
    cwd: spec.cwd,
    ...(run.asUser ? { user: run.asUser } : {}),
    stopSignal: spec.stopSignal ?? 'SIGTERM',
    graceS: spec.graceS,
    logFile: run.logFile,
  };
}

/** Supervisor.start under the workspace lock (the name already checked). */
export async function startLocked(p: SupervisorPaths, spec: ProcessSpec, rotateBytes: number): Promise<ProcessState> {
  const current = await readState(stateFile(p, spec.name));
  await checkStartable(p, spec, current);
  // What a previous run left behind (its wrapper died, children of it live on, e.g. still
  // holding the port): stopped now, since the new state file would lose track of it.
  if (current && !leaderAlive(p, current) && groupOurs(p, current)) await stopLocked(p, spec.name, {});
  for (const d of [p.dirs.data, p.dirs.logs, p.dirs.run]) mkdirSync(d, { recursive: true });
  await rotateLog(logFile(p, spec.name), rotateBytes);
  await removeExits(p, spec.name);

  const asUser = spec.user && isRoot() && spec.user !== 'root' ? spec.user : undefined;
  const ids = asUser ? userIds(asUser) : undefined;
  const log = logFile(p, spec.name);
  const fd = openLog(spec.name, log, ids);
  try {
    const prefix = commandPrefix(spec.name, asUser);
    const runId = randomBytes(6).toString('hex');
    const exitRecord = exitFile(p, spec.name, runId);
    const pid = await spawnWrapper(spec, prefix, exitRecord, fd);
    // Recorded at once (before waiting for the exec): from here on the run is tracked, whatever
    // happens to this helfy, and a stop or a second start sees it.
    const state = stateRecord(p, spec, { pid, runId, asUser, logFile: log });
    await writeFileAtomic(stateFile(p, spec.name), `${JSON.stringify(state, null, 2)}\n`);
    await untilExecd(pid, exitRecord, prefix.slice(0, -1));
    return resolveState(p, state);
  } finally {
    closeSync(fd);
  }
}
