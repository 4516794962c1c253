/**
 * `helfy dev` as a developer runs it, for tests/dev and bench/dev-reload: the built CLI on a
 * pseudo-terminal (util-linux `script`), in a temp workspace whose apps/ are plain copies of
 * templates/api and templates/web (sources copied; node_modules hard-linked with `cp -al`, which
 * takes ~1 s instead of an `npm ci` per run), against real PostgreSQL 15, Neo4j 5 and Temporal
 * started by tests/support/services. Dev is told to use those (`--no-stores`) instead of
 * starting the Docker stack, whose start on this machine's vfs engine takes minutes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BIN, baseEnv, helfy, tempDir } from '../helpers/cli.js';
import { freePort, startNeo4j, startPostgres, startTemporal, type Neo4jServer, type PostgresServer, type TemporalServer } from '../support/services/index.js';

export const REPO = resolve(import.meta.dirname, '../..');

export interface Stores {
  pg: PostgresServer;
  neo: Neo4jServer;
  temporal: TemporalServer;
  /** HELFY_* settings that point a workspace at these servers. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startStores(): Promise<Stores> {
  const pg = await startPostgres();
  const [neo, temporal] = await Promise.all([startNeo4j(), startTemporal({ postgres: pg })]);
  const env = {
    HELFY_POSTGRES_PORT: String(pg.port), HELFY_POSTGRES_USER: pg.user, HELFY_POSTGRES_PASSWORD: pg.password,
    HELFY_NEO4J_BOLT_PORT: String(neo.boltPort), HELFY_NEO4J_HTTP_PORT: String(neo.httpPort), HELFY_NEO4J_PASSWORD: neo.password,
    HELFY_TEMPORAL_PORT: temporal.address.split(':')[1]!,
    // The running Temporal server connects with this password; the bootstrap keeps it.
    HELFY_TEMPORAL_DB_PASSWORD: temporal.db.password,
    HELFY_API_PORT: String(await freePort()),
    HELFY_WEB_PORT: String(await freePort()),
  };
  return {
    pg, neo, temporal, env,
    async stop() {
      await temporal.stop();
      await Promise.all([neo.stop(), pg.stop()]);
    },
  };
}

/** `helfy init` in a temp folder; with `apps`, apps/api and apps/web as copies of the templates. */
export async function makeWorkspace(name: string, opts: { apps: boolean }): Promise<string> {
  const ws = tempDir(`helfy-${name}-`);
  const init = await helfy(['init', '--yes', '--name', name], { cwd: ws });
  if (init.code !== 0) throw new Error(`helfy init failed: ${init.stderr}`);
  // Whatever init scaffolded, the test decides what apps/ holds.
  rmSync(join(ws, 'apps'), { recursive: true, force: true });
  if (opts.apps) for (const app of ['api', 'web']) copyApp(join(REPO, 'templates', app), join(ws, 'apps', app));
  return ws;
}

export function copyApp(from: string, to: string): void {
  cpSync(from, to, { recursive: true, filter: (src) => !/[/\\](node_modules|dist)([/\\]|$)/.test(src.slice(from.length)) });
  execFileSync('cp', ['-al', join(from, 'node_modules'), join(to, 'node_modules')]);
  // Caches tools write into node_modules, and a stamp of an earlier dev run: not shared.
  rmSync(join(to, 'node_modules', '.vite'), { recursive: true, force: true });
  rmSync(join(to, 'node_modules', '.helfy-install'), { force: true });
}

export interface DevRun {
  proc: ChildProcess;
  screen(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Types ^C into the terminal (SIGINT to the foreground process group, as a person would). */
  ctrlC(): void;
  waitFor(re: RegExp, timeoutMs: number): Promise<void>;
}

/** `helfy dev <args>` on a 200x50 pseudo-terminal in `ws` (with `--no-stores` unless `docker`). */
export function startDev(ws: string, env: Record<string, string>, args: string[] = [], opts: { docker?: boolean } = {}): DevRun {
  const e = { ...baseEnv(env), TERM: 'xterm-256color' } as NodeJS.ProcessEnv;
  delete e.CI;
  const cmd = `stty cols 200 rows 50; exec node ${BIN} dev ${opts.docker ? '' : '--no-stores '}${args.join(' ')}`;
  const proc = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: ws, env: e, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  proc.stdout!.on('data', (d: Buffer) => (screen += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (screen += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('close', (code, signal) => r({ code, signal })));
  return {
    proc,
    screen: () => screen,
    exited,
    ctrlC: () => proc.stdin!.write('\x03'),
    async waitFor(re, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(screen)) {
        if (proc.exitCode !== null) throw new Error(`helfy dev exited (${proc.exitCode}) before ${re}:\n${screen.slice(-4000)}`);
        if (Date.now() > deadline) throw new Error(`no ${re} within ${timeoutMs} ms:\n${screen.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

export interface ProcInfo {
  pid: number;
  pgid: number;
  cmdline: string;
  cwd: string;
}

/** Every process on the machine whose command line or working folder is inside `dir` (from /proc). */
export function processesUnder(dir: string): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmdline = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${e}/cwd`);
      } catch {
        /* another user's process */
      }
      if (!cmdline.includes(dir) && !cwd.startsWith(dir)) continue;
      // Field 5 of stat is the process group (after the parenthesised command name).
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      out.push({ pid: Number(e), pgid, cmdline, cwd });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Polls `url` until `ok(body)` holds; resolves with the ms it took. */
export async function pollUntil(url: string, ok: (body: string) => boolean, timeoutMs: number, intervalMs = 50, context?: () => string): Promise<number> {
  const t0 = performance.now();
  let last = '';
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      last = `${r.status} ${await r.text()}`;
      if (ok(last)) return performance.now() - t0;
    } catch (e) {
      last = String(e);
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`${url}: not as expected within ${timeoutMs} ms; last: ${last.slice(0, 500)}${context ? `\n${context()}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Replaces `from` with `to` in a file (exactly one occurrence), as an editor's save does. */
export function editFile(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  if (text.split(from).length !== 2) throw new Error(`${file}: expected exactly one ${JSON.stringify(from)}`);
  writeFileSync(file, text.replace(from, to));
}

export const LOGIN_PAGE = join('apps', 'web', 'pages', 'login', '+Page.tsx');
export const HEALTH_ROUTE = join('apps', 'api', 'src', 'routes', 'health.ts');
export const HEALTH_HANDLER = "(c) => c.json({ status: 'ok' as const, service: 'api' as const, version: VERSION }, 200)";
export { existsSync, freePort };
