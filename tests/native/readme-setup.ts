/**
 * Support of the native e2e: a fresh clone of the repository's HEAD, the README's "Setup in two
 * commands" block read from that clone, and the clone's own CLI run with a user's environment —
 * no Docker engine (DOCKER_HOST points nowhere), none of the test process's HELFY_* / npm_* /
 * NODE_ENV / VITEST values (so HELFY_TIMESCALE is the default `required`), free ports given the
 * way a user with taken ports would give them.
 */
import { execa } from 'execa';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliResult, REPO, type CliResult } from '../helpers/cli.js';
import { freePorts } from '../stack/e2e-support.js';

/** The command lines of the first ```sh block under `## Setup in two commands`, trailing `# comments` stripped. */
export function readmeSetupCommands(readme: string): string[] {
  const section = readme.split(/^## Setup in two commands\s*$/m)[1];
  if (section === undefined) throw new Error('README.md has no "## Setup in two commands" section');
  const block = /^```sh\n([\s\S]*?)^```/m.exec(section.split(/^## /m)[0]!);
  if (!block) throw new Error('no ```sh block under "## Setup in two commands"');
  return block[1]!.split('\n').map((l) => l.replace(/(^|\s+)#.*$/, '').trim()).filter(Boolean);
}

export interface Clone {
  /** The clone, which is also the workspace (`helfy init` in it, as the README does). */
  dir: string;
  ports: { postgres: number; neo4jHttp: number; neo4jBolt: number; temporal: number; temporalUi: number; api: number; web: number };
  /** The environment every command runs with. */
  env: Record<string, string>;
  /** A shell command line in the clone (`bash -c`), as a user types it. */
  sh(line: string, timeoutMs: number): Promise<CliResult>;
  /** The clone's own CLI (bin/helfy.js built by its `npm ci`) in the clone. */
  run(args: string[], opts?: { timeoutMs?: number }): Promise<CliResult>;
  dotenv(): Record<string, string>;
}

/** A user's shell: the test process's environment without what the test runner or helfy's own tests put there. */
function userEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('HELFY_') || k.startsWith('npm_') || k.startsWith('VITEST') || ['DOCKER_HOST', 'NODE_ENV', 'TEST', 'CI', 'INIT_CWD'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

export async function cloneRepo(): Promise<Clone> {
  const parent = mkdtempSync(join(tmpdir(), 'helfy-readme-'));
  // As root PostgreSQL runs as `postgres`, which must get through to the workspace (mkdtemp makes 0700).
  chmodSync(parent, 0o755);
  const dir = join(parent, `helfy${Date.now().toString(36)}`);
  const c = await execa('git', ['clone', '--no-hardlinks', '-q', REPO, dir], { reject: false, timeout: 120_000 });
  if (c.exitCode !== 0) throw new Error(`git clone failed: ${c.stderr}`);
  chmodSync(dir, 0o755);
  const [postgres, neo4jHttp, neo4jBolt, temporal, temporalUi, api, web] = (await freePorts(7)) as [number, number, number, number, number, number, number];
  const ports = { postgres, neo4jHttp, neo4jBolt, temporal, temporalUi, api, web };
  const env = userEnv({
    DOCKER_HOST: 'unix:///nonexistent',
    // A user whose default ports are taken exports them: `helfy init` records them in
    // helfy.config.json, and every command reads HELFY_*_PORT from the environment first anyway.
    HELFY_POSTGRES_PORT: `${postgres}`, HELFY_NEO4J_HTTP_PORT: `${neo4jHttp}`, HELFY_NEO4J_BOLT_PORT: `${neo4jBolt}`,
    HELFY_TEMPORAL_PORT: `${temporal}`, HELFY_TEMPORAL_UI_PORT: `${temporalUi}`, HELFY_API_PORT: `${api}`, HELFY_WEB_PORT: `${web}`,
    // No HELFY_TIMESCALE: the README's commands set none, so the default `required` holds. This
    // machine's PostgreSQL 15 has no TimescaleDB package (Debian has none): `helfy up` runs its copy
    // with TimescaleDB from the helfy cache (native/timescaledb/install.sh; built on first use).
    // The warm install cache (Neo4j jars, Temporal binaries, that TimescaleDB copy), as on a machine
    // that ran helfy before.
    HELFY_CACHE_DIR: process.env.HELFY_CACHE_DIR ?? join(homedir(), '.cache', 'helfy'),
    // npm ci from the npm cache without revalidating what is there (the tarballs are content-addressed).
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  });
  const exec = async (file: string, args: string[], timeoutMs: number): Promise<CliResult> => {
    const t0 = performance.now();
    const r = await execa(file, args, { cwd: dir, env, extendEnv: false, input: '', reject: false, timeout: timeoutMs });
    return cliResult(r, t0);
  };
  return {
    dir, ports, env,
    sh: (line, timeoutMs) => exec('bash', ['-c', line], timeoutMs),
    run: (args, opts = {}) => exec('node', [join(dir, 'bin/helfy.js'), ...args], opts.timeoutMs ?? 300_000),
    dotenv: () => Object.fromEntries(readFileSync(join(dir, '.env'), 'utf8').split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')])),
  };
}
