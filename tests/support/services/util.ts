// Shared plumbing for the real-server test helpers: free ports, installs,
// spawning with a parent-death signal, log tails, and a process-exit safety net.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** Repository root (tests/support/services/ -> ../../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const INFRA_DIR = join(REPO_ROOT, 'infra', 'services');

/**
 * Ask the kernel for a free TCP port on 127.0.0.1. There is an unavoidable
 * window between closing this probe and the server binding the port; the start
 * helpers retry with fresh ports when the server reports "address in use".
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      if (addr === null || typeof addr !== 'object') {
        srv.close();
        reject(new Error('freePort: no address'));
        return;
      }
      const { port } = addr;
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * Several distinct free ports in [min, max] (random probes, held open together so
 * they cannot collide). Needed where a port must fit a narrower type than the
 * kernel's ephemeral range (32768-60999): Temporal stores membership ports in a
 * PostgreSQL smallint (<= 32767).
 */
export async function freePortsInRange(n: number, min = 20000, max = 32767, host = '127.0.0.1'): Promise<number[]> {
  const held: import('node:net').Server[] = [];
  const ports: number[] = [];
  try {
    for (let tries = 0; ports.length < n; tries++) {
      if (tries > 500) throw new Error(`freePortsInRange: no ${n} free ports in ${min}-${max}`);
      const port = min + Math.floor(Math.random() * (max - min + 1));
      if (ports.includes(port)) continue;
      const srv = await new Promise<import('node:net').Server | undefined>((res) => {
        const s = createServer();
        s.unref();
        s.once('error', () => res(undefined));
        s.listen(port, host, () => res(s));
      });
      if (!srv) continue;
      held.push(srv);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** Several distinct free ports (held open together so they cannot collide). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<import('node:net').Server>((res, rej) => {
        const s = createServer();
        s.unref();
        s.on('error', rej);
        s.listen(0, host, () => res(s));
      }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** True if something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((res) => {
    const sock = new Socket();
    const done = (ok: boolean) => {
      sock.destroy();
      res(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.connect(port, host, () => done(true));
  });
}

export function randomPassword(bytes = 18): string {
  // URL-safe, no quoting needed in conf files, YAML, URLs or SQL literals.
  return randomBytes(bytes).toString('base64url').replace(/[-_]/g, 'x');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Last `lines` lines of a text file ('' if it does not exist). */
export function tailFile(path: string, lines = 40, maxBytes = 64 * 1024): string {
  try {
    if (!existsSync(path)) return '';
    const size = statSync(path).size;
    const buf = readFileSync(path);
    const text = buf.subarray(Math.max(0, size - maxBytes)).toString('utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Shortens one log line: drops JSON "stacktrace" fields, caps the length. */
function tidyLogLine(line: string, max = 800): string {
  let l = line;
  if (l.startsWith('{') && l.includes('"stacktrace"')) {
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      delete o.stacktrace;
      l = JSON.stringify(o);
    } catch {
      /* keep as is */
    }
  }
  return l.length > max ? `${l.slice(0, max)} …` : l;
}

export function formatTails(files: Array<[label: string, path: string]>, lines = 40): string {
  return files
    .map(([label, p]) => {
      const t = tailFile(p, lines).split('\n').map((l) => tidyLogLine(l)).join('\n').trimEnd();
      return t ? `\n--- ${label} (${p}), last ${lines} lines ---\n${t}` : `\n--- ${label} (${p}): empty/missing ---`;
    })
    .join('');
}

// ---------------------------------------------------------------------------
// Installs
// ---------------------------------------------------------------------------

const installCache = new Map<string, Promise<string>>();

/**
 * Runs infra/services/<svc>/install.sh (idempotent, cached on disk) and returns
 * the last line of its stdout (install dir / bin dir). Memoised per process.
 */
export function runInstall(svc: 'postgres' | 'neo4j' | 'temporal', env: Record<string, string> = {}): Promise<string> {
  const key = `${svc}:${JSON.stringify(env)}`;
  let p = installCache.get(key);
  if (!p) {
    p = (async () => {
      const script = join(INFRA_DIR, svc, 'install.sh');
      const res = await execa('bash', [script], {
        env: { ...process.env, ...env },
        reject: false,
        stdin: 'ignore',
        // A first Temporal build can take >10 minutes on 2 cores.
        timeout: 45 * 60_000,
      });
      if (res.exitCode !== 0) {
        const err = String(res.stderr ?? '').split('\n').slice(-40).join('\n');
        throw new Error(`${script} failed (exit ${res.exitCode}):\n${err}`);
      }
      const last = String(res.stdout ?? '').trim().split('\n').pop()?.trim();
      if (!last) throw new Error(`${script} printed no install dir`);
      return last;
    })();
    installCache.set(key, p);
    p.catch(() => installCache.delete(key));
  }
  return p;
}

// ---------------------------------------------------------------------------
// Processes + safety net
// ---------------------------------------------------------------------------

interface Tracked {
  child: ChildProcess;
  dirs: string[];
}
const tracked = new Set<Tracked>();
let netInstalled = false;

function killAllSync(): void {
  for (const t of tracked) {
    try {
      if (t.child.exitCode === null && t.child.signalCode === null && t.child.pid) process.kill(t.child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    for (const d of t.dirs) {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  }
  tracked.clear();
}

/**
 * Process-exit safety net: servers are SIGKILLed (and their temp dirs removed)
 * if the test process exits or is interrupted without calling stop(). In
 * addition every server is spawned through `setpriv --pdeathsig KILL`, so the
 * kernel kills it even if this process is SIGKILLed.
 */
export function installSafetyNet(): void {
  if (netInstalled) return;
  netInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllSync();
      // Re-raise with default behaviour so the exit status is right, unless
      // someone else (e.g. vitest) handles the signal too.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** Number of servers started by these helpers and not yet stopped. */
export function runningServerCount(): number {
  return tracked.size;
}

/** Stop every server still running (e.g. from a globalSetup teardown). */
export function killAllServers(): void {
  killAllSync();
}

export interface SpawnedServer {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  isRunning(): boolean;
  /** Send `signal`, wait up to graceMs, then SIGKILL; removes the temp dirs; idempotent. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

let setprivOk: boolean | undefined;
function hasSetpriv(): boolean {
  if (setprivOk === undefined) {
    setprivOk = ['/usr/bin/setpriv', '/bin/setpriv'].some((p) => existsSync(p));
  }
  return setprivOk;
}

export interface SpawnServerOptions {
  cmd: string;
  args: string[];
  /** stdout+stderr are appended to this file. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this OS user (root only), via setpriv. */
  user?: string;
  /** Temp dirs removed when the server stops (or the process exits). */
  dirs?: string[];
  /** Keep stdin as a pipe (closing it tells the child its parent is gone). */
  stdinPipe?: boolean;
  /** Pipe stdout instead of logging it (stderr still goes to logFile). */
  stdoutPipe?: boolean;
}

export function spawnServer(o: SpawnServerOptions): SpawnedServer {
  installSafetyNet();
  const fd = openSync(o.logFile, 'a');
  let cmd = o.cmd;
  let args = o.args;
  if (hasSetpriv()) {
    const pre = ['--pdeathsig', 'KILL'];
    if (o.user) pre.unshift(`--reuid=${o.user}`, `--regid=${o.user}`, '--init-groups');
    args = [...pre, '--', cmd, ...args];
    cmd = 'setpriv';
  } else if (o.user) {
    args = ['-u', o.user, '--', cmd, ...args];
    cmd = 'runuser';
  }
  const child = spawn(cmd, args, {
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: [o.stdinPipe ? 'pipe' : 'ignore', o.stdoutPipe ? 'pipe' : fd, fd],
  });
  closeSync(fd);
  const entry: Tracked = { child, dirs: o.dirs ?? [] };
  tracked.add(entry);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((res) => {
    child.once('exit', (code, signal) => res({ code, signal }));
    // e.g. ENOENT: the binary (or setpriv) is missing.
    child.once('error', (error) => res({ code: -1, signal: null, error }));
  });
  let stopping: Promise<void> | undefined;
  const isRunning = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  return {
    child,
    exited,
    isRunning,
    stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000) {
      stopping ??= (async () => {
        if (isRunning()) {
          try {
            child.kill(signal);
          } catch {
            /* ignore */
          }
          const timer = sleep(graceMs).then(() => 'timeout' as const);
          if ((await Promise.race([exited, timer])) === 'timeout' && isRunning()) {
            try {
              child.kill('SIGKILL');
            } catch {
              /* ignore */
            }
            await exited;
          }
        }
        for (const d of entry.dirs) rmSync(d, { recursive: true, force: true });
        tracked.delete(entry);
      })();
      return stopping;
    },
  };
}

const OWNER_MARKER = '.helfy-test-owner';
let swept = false;

/** Signal 0 reaches the process (EPERM: it exists, another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp dirs left behind by earlier test processes that were SIGKILLed
 * (their servers died with them through the parent-death signal, but nothing
 * could delete the dirs). Only dirs carrying our owner marker with a dead pid.
 */
function sweepStaleTempDirs(base: string): void {
  if (swept) return;
  swept = true;
  let names: string[] = [];
  try {
    names = readdirSync(base).filter((n) => /^helfy-(pg|neo4j|temporal|timescale)-/.test(n));
  } catch {
    return;
  }
  for (const n of names) {
    const d = join(base, n);
    try {
      const pid = Number(readFileSync(join(d, OWNER_MARKER), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) rmSync(d, { recursive: true, force: true });
    } catch {
      /* not ours, or in use */
    }
  }
}

/** mkdtemp under $TMPDIR (or HELFY_TEST_TMPDIR), e.g. /tmp/helfy-pg-XXXXXX. */
export function makeTempDir(prefix: string): string {
  const base = process.env.HELFY_TEST_TMPDIR || tmpdir();
  sweepStaleTempDirs(base);
  const dir = mkdtempSync(join(base, `helfy-${prefix}-`));
  writeFileSync(join(dir, OWNER_MARKER), `${process.pid}\n`);
  return dir;
}

/**
 * Polls `probe` until it resolves truthy, the server process exits, or the
 * timeout elapses. Errors carry the last probe error and the log tails.
 */
export async function waitUntilReady(o: {
  name: string;
  server: SpawnedServer;
  probe: () => Promise<boolean>;
  timeoutMs: number;
  intervalMs?: number;
  logs: Array<[string, string]>;
}): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let lastErr: unknown;
  for (;;) {
    if (!o.server.isRunning()) {
      const { code, signal, error } = await o.server.exited;
      throw new Error(
        (error
          ? `${o.name} could not be started: ${error.message}`
          : `${o.name} exited during startup (code ${code}, signal ${signal})`) +
          (lastErr ? `; last probe error: ${errMsg(lastErr)}` : '') +
          formatTails(o.logs),
      );
    }
    try {
      if (await o.probe()) return;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${o.name} not ready after ${Math.round(o.timeoutMs / 1000)}s` +
          (lastErr ? `; last probe error: ${errMsg(lastErr)}` : '') +
          formatTails(o.logs),
      );
    }
    await sleep(o.intervalMs ?? 250);
  }
}

export function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Log text looks like a bind failure (worth retrying on other ports). */
export function looksLikePortClash(text: string): boolean {
  return /address already in use|EADDRINUSE|could not bind|bind: address|Port .* is already in use|AddressInUse/i.test(text);
}
