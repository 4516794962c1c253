// Shared setup of the stack benchmarks: images, a temp workspace on free ports, helpers to run
// the built CLI and compose with exactly the environment helfy uses.
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
export const BIN = join(REPO, 'bin/helfy.js');

/**
 * helfy's own modules the benchmarks use (config, compose environment, probes), bundled from
 * src/ with esbuild (dist/ is one bundle without these entry points). Written under bench/.cache
 * so the package root (compose/, templates/) resolves as it does for the CLI.
 */
let internals;
export async function helfyInternals() {
  if (internals) return internals;
  const { build } = await import('esbuild');
  const out = join(REPO, 'bench/.cache/internals.mjs');
  await build({
    stdin: {
      contents: [
        "export { loadConfig } from './src/config/load.ts';",
        "export { composeEnv } from './src/stack/env.ts';",
        "export { COMPOSE_FILE } from './src/stack/compose-file.ts';",
        "export { detectCompose } from './src/runtime/docker/compose.ts';",
        "export { probeTemporal } from './src/db/probes.ts';",
        "export { runProbe } from './src/stack/probes.ts';",
        "export { CATALOG } from './src/stack/catalog.ts';",
      ].join('\n'),
      resolveDir: REPO,
      loader: 'ts',
    },
    bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: out, logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    external: ['dockerode', 'execa', 'listr2', '@temporalio/client', 'pg-native', 'cpu-features', 'ssh2'],
  });
  internals = await import(out);
  return internals;
}

export function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
export const flag = (name) => process.argv.includes(`--${name}`);

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** HELFY_*_IMAGE overrides: stand-ins (infra/docker/images.sh) unless HELFY_BENCH_REAL_IMAGES=1. */
export async function images() {
  if (process.env.HELFY_BENCH_REAL_IMAGES === '1') return {};
  const r = await execa('bash', [join(REPO, 'infra/docker/images.sh'), '--env'], { reject: false });
  if (r.exitCode !== 0) throw new Error(`images.sh failed:\n${r.stderr.slice(-2000)}`);
  return Object.fromEntries(r.stdout.split('\n').filter((l) => /^HELFY_[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

async function freePorts(n) {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise((res) => { const s = createServer(); s.listen({ host: '127.0.0.1', port: 0 }, () => res(s)); })));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function workspace(name) {
  const dir = mkdtempSync(join(tmpdir(), `helfy-bench-${name}-`));
  const env = { ...process.env, ...(await images()), HELFY_TIMESCALE: process.env.HELFY_BENCH_REAL_IMAGES === '1' ? 'required' : 'optional', DOCKER_BUILDKIT: '0', CI: '1', NO_COLOR: '1' };
  const [pg, nh, nb, t, tu, api, web] = await freePorts(7);
  const init = await execa('node', [BIN, 'init', dir, '--yes', '--name', name, '--postgres-port', pg, '--neo4j-http-port', nh, '--neo4j-bolt-port', nb, '--temporal-port', t, '--temporal-ui-port', tu, '--api-port', api, '--web-port', web].map(String), { env, reject: false });
  if (init.exitCode !== 0) throw new Error(init.stderr);
  const helfy = async (args, extra = {}) => {
    const t0 = performance.now();
    const r = await execa('node', [BIN, ...args], { cwd: dir, env: { ...env, ...extra }, reject: false });
    return { ...r, ms: performance.now() - t0 };
  };
  // Compose with the very environment helfy gives it (same interpolation, same labels → no recreation).
  const { loadConfig, composeEnv, COMPOSE_FILE, detectCompose } = await helfyInternals();
  const cfg = loadConfig({ cwd: dir, env });
  const cenv = { ...env, ...composeEnv(cfg).vars };
  const cmd = await detectCompose(env);
  const compose = (args) => execa(cmd.argv[0], [...cmd.argv.slice(1), '-p', name, '-f', COMPOSE_FILE, ...args], { env: cenv, reject: false });
  return { dir, env, cfg, cmd, helfy, compose, cleanup: async () => { await helfy(['down', '--volumes', '--yes']); rmSync(dir, { recursive: true, force: true }); } };
}

export const hasComposeV2Plugin = existsSync(join(homedir(), '.cache/helfy/compose-v2/cli-plugins/docker-compose'));
export const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
