/**
 * Shared setup of the Docker end-to-end tests: a running engine, the images (stand-ins built
 * locally by default), a temp workspace made by `helfy init --yes` on free ports, and small
 * helpers to look at containers and volumes.
 *
 * Images: the stand-ins from tests/support/docker (ensureStandinImages) when that module exists,
 * else infra/docker/images.sh --env. HELFY_*_IMAGE variables set when the tests start win over
 * them; HELFY_E2E_REAL_IMAGES=1 uses the production defaults (a machine with registry access).
 */
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { helfy, REPO, tempDir, type CliResult } from '../helpers/cli.js';
import { freePortsInRange } from '../support/services/util.js';

export const IMAGE_KEYS = ['HELFY_POSTGRES_IMAGE', 'HELFY_NEO4J_IMAGE', 'HELFY_TEMPORAL_IMAGE', 'HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE', 'HELFY_TEMPORAL_UI_IMAGE', 'HELFY_NODE_IMAGE'] as const;

/** Explicit HELFY_*_IMAGE values of the test process (baseEnv() strips HELFY_* otherwise). */
const explicitImages = Object.fromEntries(IMAGE_KEYS.filter((k) => process.env[k]).map((k) => [k, process.env[k]!]));

async function dockerAnswers(): Promise<boolean> {
  const r = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 10_000 });
  return r.exitCode === 0;
}

type Support = { ensureDockerEngine?: () => Promise<{ stop(): Promise<void> }>; ensureStandinImages?: () => Promise<unknown> };

async function support(): Promise<Support | undefined> {
  const p = join(REPO, 'tests/support/docker/index.ts');
  if (!existsSync(p)) return undefined;
  return (await import(/* @vite-ignore */ p)) as Support;
}

let engineHandle: { stop(): Promise<void> } | undefined;

/** Stops the engine if the test run started it (tests/support/docker semantics). */
export async function releaseDocker(): Promise<void> {
  await engineHandle?.stop();
}

async function imagesScript(): Promise<Record<string, string>> {
  const r = await execa('bash', [join(REPO, 'infra/docker/images.sh'), '--env'], { reject: false, timeout: 3_600_000 });
  if (r.exitCode !== 0) throw new Error(`infra/docker/images.sh failed:\n${String(r.stderr).slice(-3000)}`);
  return Object.fromEntries(String(r.stdout).split('\n').filter((l) => /^HELFY_[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

function envFromResult(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object') return {};
  const o = (('env' in v ? (v as { env: unknown }).env : v) ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(o).filter(([k, x]) => k.startsWith('HELFY_') && typeof x === 'string')) as Record<string, string>;
}

/** Engine up and images present; returns the HELFY_*_IMAGE overrides to run the stack with. */
export async function prepareDocker(): Promise<Record<string, string>> {
  const s = await support();
  if (s?.ensureDockerEngine) engineHandle = await s.ensureDockerEngine();
  else if (!(await dockerAnswers())) {
    await execa('bash', [join(REPO, 'infra/docker/engine.sh'), 'ensure'], { stdio: 'inherit' });
    await execa('bash', [join(REPO, 'infra/docker/engine.sh'), 'start'], { stdio: 'inherit' });
  }
  if (process.env.HELFY_E2E_REAL_IMAGES === '1') return { ...explicitImages };
  let images: Record<string, string> | undefined;
  if (s?.ensureStandinImages) {
    try {
      images = envFromResult(await s.ensureStandinImages());
    } catch (e) {
      // Fall back to the script itself (cached images: about a second).
      process.stderr.write(`ensureStandinImages failed (${(e as Error).message.split('\n')[0]}); running infra/docker/images.sh --env\n`);
    }
  }
  images ??= await imagesScript();
  return { ...images, ...explicitImages };
}

/** `n` distinct free TCP ports on 127.0.0.1. */
/**
 * `n` distinct free loopback ports below the kernel's ephemeral range (32768–60999): a free
 * ephemeral port can be handed to some other process's outgoing connection before compose or the
 * server binds it (seen once as "bind: address already in use"); 20000–32767 is where the native
 * Temporal picks its internal ports.
 */
export async function freePorts(n: number): Promise<number[]> {
  return freePortsInRange(n, 10000, 19999);
}

export interface Workspace {
  dir: string;
  name: string;
  ports: { postgres: number; neo4jHttp: number; neo4jBolt: number; temporal: number; temporalUi: number; api: number; web: number };
  env: Record<string, string>;
  /** Runs the built helfy in the workspace with the stack's environment. */
  run(args: string[], opts?: { env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<CliResult>;
  dotenv(): Record<string, string>;
}

export async function makeWorkspace(name: string, images: Record<string, string>, initArgs: string[] = []): Promise<Workspace> {
  const dir = tempDir(`helfy-${name}-`);
  const [postgres, neo4jHttp, neo4jBolt, temporal, temporalUi, api, web] = (await freePorts(7)) as [number, number, number, number, number, number, number];
  const ports = { postgres, neo4jHttp, neo4jBolt, temporal, temporalUi, api, web };
  const env: Record<string, string> = {
    ...images,
    // The classic builder: no buildx plugin on the test machines.
    DOCKER_BUILDKIT: '0',
    CI: '1',
  };
  const init = await helfy(['init', dir, '--yes', '--name', name, '--postgres-port', `${postgres}`, '--neo4j-http-port', `${neo4jHttp}`, '--neo4j-bolt-port', `${neo4jBolt}`,
    '--temporal-port', `${temporal}`, '--temporal-ui-port', `${temporalUi}`, '--api-port', `${api}`, '--web-port', `${web}`, ...initArgs], { env });
  if (init.code !== 0) throw new Error(`helfy init failed: ${init.stderr}`);
  return {
    dir, name, ports, env,
    run: (args, opts = {}) => helfy(args, { cwd: dir, env: { ...env, ...opts.env }, timeoutMs: opts.timeoutMs ?? 300_000 }),
    dotenv: () => Object.fromEntries(readFileSync(join(dir, '.env'), 'utf8').split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')])),
  };
}

/** Containers of a compose project: name, service, state. */
export async function projectContainers(project: string): Promise<{ name: string; service: string; state: string }[]> {
  const r = await execa('docker', ['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}\t{{.Label "com.docker.compose.service"}}\t{{.State}}']);
  return String(r.stdout).split('\n').filter(Boolean).map((l) => {
    const [name, service, state] = l.split('\t');
    return { name: name!, service: service!, state: state! };
  });
}

export async function projectVolumes(project: string): Promise<string[]> {
  const r = await execa('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]);
  return String(r.stdout).split('\n').filter(Boolean).sort();
}

/** A tiny image that runs forever, prints a line a second and never listens anywhere. */
export async function neverHealthyImage(base: string): Promise<string> {
  const tag = 'helfy-test/never-healthy:2';
  const have = await execa('docker', ['image', 'inspect', tag], { reject: false });
  if (have.exitCode === 0) return tag;
  const dockerfile = `FROM ${base}\nCMD ["sh", "-c", "echo never-healthy: starting; i=0; while :; do i=$((i+1)); echo never-healthy: still not listening, try $i; sleep 1; done"]\n`;
  await execa('docker', ['build', '-q', '-t', tag, '-'], { input: dockerfile, env: { DOCKER_BUILDKIT: '0' } });
  return tag;
}

/** DOCKER_CONFIG holding the compose v2 plugin that infra/docker/compose-v2.sh builds (run by `npm test`'s provisioning). */
export const COMPOSE_V2_CONFIG = process.env.HELFY_COMPOSE_V2_DOCKER_CONFIG ?? join(process.env.HELFY_CACHE_DIR ?? join(homedir(), '.cache/helfy'), 'compose-v2');
export const hasComposeV2 = existsSync(join(COMPOSE_V2_CONFIG, 'cli-plugins/docker-compose'));
