/** What the native service modules share: the context, the service shape, OS users, ports. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { HelfyConfig } from '../../../config/load.js';
import type { Logger } from '../../../core/context.js';
import { HelfyError } from '../../../core/errors.js';
import { isPortFree } from '../../ports.js';
import type { InstallProgress, NativeDirs, Neo4jInstall, PostgresInstall, ProcessSpec, TemporalInstall } from '../types.js';

/** How the located / installed servers are found (locate.ts in the product, injected in tests). */
export interface NativeLocator {
  postgres(): Promise<PostgresInstall>;
  neo4j(): Promise<Neo4jInstall>;
  temporal(): Promise<TemporalInstall>;
}

export interface NativeContext {
  /** The workspace is `cfg.root`. */
  cfg: HelfyConfig;
  /** composeEnv(cfg).vars (secrets included): the values the Docker definitions interpolate. */
  vars: Record<string, string>;
  /** From the supervisor. */
  dirs: NativeDirs;
  /** Warnings (e.g. TimescaleDB missing while HELFY_TIMESCALE=optional). */
  log: Logger;
  /** First-use installs. */
  onProgress: InstallProgress;
  locate: NativeLocator;
}

export interface NativeService {
  spec: ProcessSpec;
  /**
   * Writes what the process needs before `supervisor.start(spec)`: PostgreSQL's initdb on the
   * first start, neo4j.conf and the initial auth.ini, Temporal's config file, internal ports
   * re-picked when taken. `nativeService()` itself only reads (so `status` may call it while the
   * process runs); call `prepare()` once, right before starting, never while it runs.
   * Idempotent. May update `spec.env` and `ports` in place (a re-picked port).
   */
  prepare(): Promise<void>;
  /**
   * Ready check from the host (postgres: connect + query; neo4j: Bolt; temporal: gRPC health;
   * api: /health/ready; web: /health; worker: its health port). Never throws.
   */
  health(timeoutMs: number): Promise<{ ok: boolean; detail: string }>;
  /** Host ports this service binds (for preflight + isolation), internal ones included. */
  ports: number[];
}

/** The variables every native process gets from helfy's own environment (nothing else is inherited). */
export function baseEnv(parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { PATH: parent.PATH || '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
  for (const k of ['HOME', 'TZ', 'TMPDIR']) if (parent[k]) env[k] = parent[k]!;
  return env;
}

/**
 * The variables of baseEnv that come from the shell helfy runs in. They do not make a process what
 * it is: a service started from one shell is the same service when `up` runs from another (a PATH
 * with one more folder, another TZ), so they stay out of specHash and a changed shell restarts nothing.
 */
export const AMBIENT_ENV: readonly string[] = ['PATH', 'HOME', 'TZ', 'TMPDIR', 'LANG'];

/** A hash of what makes the process what it is (command, args, env but the shell's, cwd, user): label dev.helfy.config-hash. */
export function specHash(spec: Pick<ProcessSpec, 'command' | 'args' | 'env' | 'cwd' | 'user'>, extra = ''): string {
  const env = Object.keys(spec.env).filter((k) => !AMBIENT_ENV.includes(k)).sort().map((k) => `${k}=${spec.env[k]}`);
  return createHash('sha256').update(JSON.stringify([spec.command, spec.args, env, spec.cwd, spec.user ?? '', extra])).digest('hex').slice(0, 12);
}

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

export function lookupUser(name: string, passwd = '/etc/passwd'): OsUser | undefined {
  let text = '';
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  const f = text.split('\n').find((l) => l.startsWith(`${name}:`))?.split(':');
  return f ? { name, uid: Number(f[2]), gid: Number(f[3]) } : undefined;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** A wildcard bind address is not one to connect to. */
export function connectHost(bind: string): string {
  return bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
}

/** A port the kernel says is free on `host` (ephemeral range). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `n` distinct free ports in [min, max] on `host`, none in `avoid` (random probes). Temporal keeps
 * membership ports in a smallint column, hence a range below the kernel's ephemeral one.
 */
export async function freePortsInRange(n: number, host: string, avoid: readonly number[] = [], min = 20000, max = 32767): Promise<number[]> {
  const out: number[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > 2000) throw new HelfyError('PORT_IN_USE', `no ${n} free ports in ${min}-${max} on ${host}`, { hint: 'Free some ports in that range, or stop other local servers.' });
    const p = min + Math.floor(Math.random() * (max - min + 1));
    if (out.includes(p) || avoid.includes(p)) continue;
    if (await isPortFree(host, p)) out.push(p);
  }
  return out;
}

export { isPortFree };
