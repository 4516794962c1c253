/**
 * Local child processes that run in their own process group (`helfy dev`): tsx watch and Vike's
 * dev server each spawn children of their own, so a process is stopped by signalling its whole
 * group — SIGTERM, then SIGKILL after a grace period — and is only "stopped" once no process of
 * the group is left. Own group also means a Ctrl-C at the terminal (SIGINT to the foreground
 * group) reaches helfy alone, which then stops the children in order.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { groupAlive } from '../../core/proc.js';

export interface GroupProcessOptions {
  /** Shown in messages, e.g. `api`. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** The child's whole environment (nothing is inherited implicitly). */
  env: NodeJS.ProcessEnv;
  /** Each line of stdout / stderr, without the newline. */
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
  /** Called once when the direct child exits (code, or the signal that ended it). */
  onExit?(info: { code: number | null; signal: NodeJS.Signals | null; stopping: boolean }): void;
}

export interface GroupProcess {
  readonly name: string;
  readonly pid: number;
  /** True once the direct child has exited. */
  readonly exited: boolean;
  /** SIGTERM to the group, SIGKILL to whatever is left after `graceMs`; resolves when the group is empty. */
  stop(graceMs: number): Promise<{ forced: boolean }>;
  /** Synchronous SIGKILL of the group (last resort, e.g. a second Ctrl-C). */
  killNow(): void;
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* the group is gone */
  }
}

function lineSplitter(onLine: (l: string) => void): { push(chunk: Buffer): void; flush(): void } {
  let buf = '';
  return {
    push(chunk) {
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i).replace(/\r$/, ''));
        buf = buf.slice(i + 1);
      }
    },
    flush() {
      if (buf) onLine(buf);
      buf = '';
    },
  };
}

/** The command could not be started at all (not on PATH, not executable, or `cwd` missing). */
export class SpawnFailedError extends Error {
  constructor(readonly processName: string, readonly command: string, readonly cwd: string) {
    super(existsSync(cwd) ? `${command} was not found on PATH or is not executable` : `the folder ${cwd} does not exist`);
    this.name = 'SpawnFailedError';
  }
}

/** Throws SpawnFailedError when the command cannot be started. */
export function startGroupProcess(o: GroupProcessOptions): GroupProcess {
  const child: ChildProcess = spawn(o.command, o.args, { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false;
  let stopping = false;
  let reported = false;
  const report = (info: { code: number | null; signal: NodeJS.Signals | null }) => {
    if (reported) return;
    reported = true;
    o.onExit?.({ ...info, stopping });
  };
  const out = lineSplitter((l) => o.onLine(l, 'stdout'));
  const err = lineSplitter((l) => o.onLine(l, 'stderr'));
  let resolveExited!: () => void;
  const exitedP = new Promise<void>((resolve) => (resolveExited = resolve));
  // Attached before anything can throw: a spawn failure emits 'error' on the next tick, and an
  // 'error' without a listener ends helfy with a stack trace.
  child.once('error', (e) => {
    if (child.pid === undefined) return; // the spawn failure itself: thrown below
    // After a successful spawn (e.g. a signal that could not be sent): the child is gone for us.
    o.onLine(`${o.name}: ${e.message}`, 'stderr');
    exited = true;
    report({ code: null, signal: null });
    resolveExited();
  });
  if (child.pid === undefined) throw new SpawnFailedError(o.name, o.command, o.cwd);
  const pid = child.pid;
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  child.once('exit', (code, signal) => {
    exited = true;
    out.flush();
    err.flush();
    report({ code, signal });
    resolveExited();
  });
  return {
    name: o.name,
    pid,
    get exited() {
      return exited;
    },
    async stop(graceMs) {
      stopping = true;
      signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      // The group outlives the direct child when a grandchild ignores SIGTERM: wait for all of it.
      while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const forced = groupAlive(pid);
      if (forced) {
        signalGroup(pid, 'SIGKILL');
        const hard = Date.now() + 5000;
        while (groupAlive(pid) && Date.now() < hard) await new Promise((r) => setTimeout(r, 20));
      }
      await Promise.race([exitedP, new Promise((r) => setTimeout(r, 1000))]);
      return { forced };
    },
    killNow() {
      stopping = true;
      signalGroup(pid, 'SIGKILL');
    },
  };
}

/** Runs a command to completion (e.g. `npm ci`) in its own group, lines streamed; resolves with its exit code. */
export function runGroupProcess(o: Omit<GroupProcessOptions, 'onExit'> & { signal?: AbortSignal }): Promise<{ code: number | null; cancelled: boolean }> {
  return new Promise((resolve, reject) => {
    let cancelled = false;
    let p: GroupProcess;
    try {
      p = startGroupProcess({
        ...o,
        onExit: ({ code }) => {
          o.signal?.removeEventListener('abort', onAbort);
          resolve({ code, cancelled });
        },
      });
    } catch (e) {
      reject(e);
      return;
    }
    const onAbort = () => {
      cancelled = true;
      void p.stop(3000);
    };
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves a command on PATH (`npm`), or undefined. */
export function which(cmd: string, env: NodeJS.ProcessEnv): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { env, encoding: 'utf8' });
  const p = r.stdout?.trim();
  return r.status === 0 && p ? p : undefined;
}
