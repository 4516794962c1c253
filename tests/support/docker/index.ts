/**
 * Test helpers for a local Docker engine and the Helfy stand-in images
 * (infra/docker/: engine.sh, images.sh, README.md).
 *
 *   const engine = await ensureDockerEngine();      // installs/starts dockerd when needed
 *   const images = await ensureStandinImages();     // builds or reuses the stand-in images
 *   // pass `images` as env to the CLI: HELFY_POSTGRES_IMAGE=..., HELFY_NODE_IMAGE=..., ...
 *   ...
 *   await removeTestResources(runLabel);            // containers/volumes/networks of this run
 *   await engine.stop();                            // stops dockerd only if this call started it
 *
 * Every container, volume and network a test creates should carry the label
 * `dev.helfy.test=1` (TEST_LABEL), plus a per-run label (`newRunLabel()`) so
 * that cleaning up one run never touches another one running in parallel.
 *
 * The docker CLI used is the first `docker` on PATH (or $DOCKER). A CLI newer than the
 * daemon (e.g. 28.x against Debian's 20.10) negotiates the daemon's API version by itself.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options as ExecaOptions } from 'execa';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repository root (tests/support/docker -> ../../..). */
export const REPO_ROOT = path.resolve(here, '..', '..', '..');
export const INFRA_DOCKER_DIR = path.join(REPO_ROOT, 'infra', 'docker');
export const ENGINE_SCRIPT = path.join(INFRA_DOCKER_DIR, 'engine.sh');
export const IMAGES_SCRIPT = path.join(INFRA_DOCKER_DIR, 'images.sh');

/** Label key/value every test resource carries. */
export const TEST_LABEL_KEY = 'dev.helfy.test';
export const TEST_LABEL = `${TEST_LABEL_KEY}=1`;
/** Label key of the per-run label (value: a random id). */
export const RUN_LABEL_KEY = 'dev.helfy.test.run';

export const DOCKER_BIN = process.env.DOCKER ?? 'docker';

export interface DockerEngineHandle {
  /** True when this call started dockerd (no engine answered before). */
  readonly startedByUs: boolean;
  /** Stops dockerd if (and only if) this call started it. Idempotent. */
  stop(): Promise<void>;
}

export interface EnsureEngineOptions {
  /** Skip `engine.sh ensure` (the apt-get install of docker.io, docker-compose, debootstrap). */
  skipInstall?: boolean;
  /** Extra environment for the scripts (e.g. HELFY_CACHE_DIR). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Makes sure a Docker engine answers: installs the Debian packages when missing
 * (`engine.sh ensure`) and starts `dockerd --storage-driver=vfs` in the background
 * when no engine answers (`engine.sh start`). Quick when an engine is already up.
 */
export async function ensureDockerEngine(opts: EnsureEngineOptions = {}): Promise<DockerEngineHandle> {
  const env = { ...process.env, ...opts.env };
  if (!opts.skipInstall) {
    await execa('bash', [ENGINE_SCRIPT, 'ensure'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  }
  // Started by us only when this call launched a new dockerd: a busy engine can miss one
  // `docker info` within its timeout, and must not then be stopped under another test file.
  const pidFile = path.join(process.env.HELFY_CACHE_DIR ?? path.join(homedir(), '.cache', 'helfy'), 'docker', 'dockerd.pid');
  const pidBefore = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
  const status = await execa('bash', [ENGINE_SCRIPT, 'status'], { env, reject: false });
  const wasRunning = status.exitCode === 0;
  if (!wasRunning) {
    await execa('bash', [ENGINE_SCRIPT, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  }
  const pidAfter = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
  const startedByUs = !wasRunning && pidAfter !== '' && pidAfter !== pidBefore;
  let stopped = false;
  return {
    startedByUs,
    async stop() {
      if (!startedByUs || stopped) return;
      stopped = true;
      await execa('bash', [ENGINE_SCRIPT, 'stop'], { env, reject: false });
    },
  };
}

/** Image references for the CLI's image overrides (settings of the same names). */
export interface StandinImages {
  HELFY_POSTGRES_IMAGE: string;
  HELFY_NEO4J_IMAGE: string;
  HELFY_TEMPORAL_IMAGE: string;
  HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE: string;
  HELFY_NODE_IMAGE: string;
}

export type StandinName = 'postgres' | 'node' | 'neo4j' | 'temporal' | 'temporal-admin-tools';

const ENV_OF: Record<StandinName, keyof StandinImages> = {
  postgres: 'HELFY_POSTGRES_IMAGE',
  node: 'HELFY_NODE_IMAGE',
  neo4j: 'HELFY_NEO4J_IMAGE',
  temporal: 'HELFY_TEMPORAL_IMAGE',
  'temporal-admin-tools': 'HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE',
};

export const ALL_STANDINS: readonly StandinName[] = Object.keys(ENV_OF) as StandinName[];

export interface EnsureImagesOptions {
  /** Rebuild even when the tags exist. */
  force?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Called with each progress/summary line images.sh prints (stderr). */
  onLog?: (line: string) => void;
}

const imagesPromises = new Map<string, Promise<Partial<StandinImages>>>();

/**
 * Builds (or finds cached) stand-in images with infra/docker/images.sh and returns their
 * references. Needs a running engine (ensureDockerEngine). The first build on a new
 * machine takes minutes (debootstrap, apt inside builds, the Temporal and Neo4j
 * installs); later calls only check the tags (about a second).
 * Memoised per process and per selection.
 */
export function ensureStandinImages(opts?: EnsureImagesOptions): Promise<StandinImages>;
export function ensureStandinImages(
  only: readonly StandinName[],
  opts?: EnsureImagesOptions,
): Promise<Partial<StandinImages>>;
export function ensureStandinImages(
  a?: readonly StandinName[] | EnsureImagesOptions,
  b?: EnsureImagesOptions,
): Promise<Partial<StandinImages>> {
  const only = Array.isArray(a) ? (a as readonly StandinName[]) : ALL_STANDINS;
  const opts = (Array.isArray(a) ? b : (a as EnsureImagesOptions | undefined)) ?? {};
  const key = [...only].sort().join(',') + (opts.force ? ':force' : '');
  let p = imagesPromises.get(key);
  if (!p || opts.force) {
    p = runImagesScript(only, opts);
    imagesPromises.set(key, p);
    p.catch(() => imagesPromises.delete(key));
  }
  return p;
}

async function runImagesScript(only: readonly StandinName[], opts: EnsureImagesOptions): Promise<Partial<StandinImages>> {
  const args = [IMAGES_SCRIPT, '--env', ...(opts.force ? ['--force'] : []), ...only];
  const child = execa('bash', args, { env: { ...process.env, ...opts.env }, reject: false, all: false });
  if (opts.onLog && child.stderr) {
    let buf = '';
    child.stderr.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        opts.onLog?.(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  }
  const res = await child;
  if (res.exitCode !== 0) {
    throw new Error(`infra/docker/images.sh failed (exit ${res.exitCode}):\n${String(res.stderr ?? '').slice(-4000)}`);
  }
  const out: Partial<StandinImages> = {};
  for (const line of String(res.stdout ?? '').split('\n')) {
    const m = /^(HELFY_[A-Z0-9_]+_IMAGE)=(\S+)$/.exec(line.trim());
    if (m) out[m[1] as keyof StandinImages] = m[2]!;
  }
  for (const name of only) {
    if (!out[ENV_OF[name]]) throw new Error(`images.sh printed no ${ENV_OF[name]}`);
  }
  return out;
}

/** A fresh per-run label value (use as `${RUN_LABEL_KEY}=<value>`). */
export function newRunLabel(): string {
  return `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** `--label` arguments for a test resource of the given run. */
export function labelArgs(run: string): string[] {
  return ['--label', TEST_LABEL, '--label', `${RUN_LABEL_KEY}=${run}`];
}

/** Runs the docker CLI; rejects on a non-zero exit unless `reject: false`. */
export function docker(args: readonly string[], opts: ExecaOptions = {}) {
  return execa(DOCKER_BIN, args, { ...opts });
}

/**
 * Removes the containers, volumes and networks labelled dev.helfy.test=1 (and, when `run`
 * is given, only those of that run). Never throws.
 */
export async function removeTestResources(run?: string): Promise<void> {
  const filter = ['--filter', `label=${TEST_LABEL}`, ...(run ? ['--filter', `label=${RUN_LABEL_KEY}=${run}`] : [])];
  const ids = async (args: string[]) => {
    const r = await docker(args, { reject: false });
    return String(r.stdout ?? '')
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  };
  const containers = await ids(['ps', '-aq', ...filter]);
  if (containers.length) await docker(['rm', '-f', '-v', ...containers], { reject: false });
  const volumes = await ids(['volume', 'ls', '-q', ...filter]);
  if (volumes.length) await docker(['volume', 'rm', '-f', ...volumes], { reject: false });
  const networks = await ids(['network', 'ls', '-q', ...filter]);
  if (networks.length) await docker(['network', 'rm', ...networks], { reject: false });
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns that value. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  { timeoutMs = 120_000, intervalMs = 500 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const detail = lastErr instanceof Error ? `: ${lastErr.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Host port published for `containerPort/tcp` of a container (127.0.0.1::PORT publishing). */
export async function publishedPort(container: string, containerPort: number): Promise<number> {
  const r = await docker(['port', container, `${containerPort}/tcp`]);
  const first = String(r.stdout).split('\n')[0] ?? '';
  const port = Number(first.slice(first.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no published port for ${container}:${containerPort} (${first})`);
  return port;
}
