/**
 * Finds the workspace and resolves every setting with its source.
 * Order: flags > process environment > .env > helfy.config.json > defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { HelfyError } from '../core/errors.js';
import { parseDotenv } from './dotenv.js';
import { SETTINGS, schemaFor, type Setting, type SettingEnv } from './settings.js';

export const CONFIG_FILE = 'helfy.config.json';
export const ENV_FILE = '.env';

export type Source =
  | { kind: 'flag'; name: string }
  | { kind: 'env' }
  | { kind: 'dotenv'; line: number }
  | { kind: 'file'; path: string }
  | { kind: 'default' }
  | { kind: 'unset' };

export function formatSource(s: Source): string {
  switch (s.kind) {
    case 'flag': return `flag ${s.name}`;
    case 'env': return 'environment';
    case 'dotenv': return `${ENV_FILE}:${s.line}`;
    case 'file': return `${CONFIG_FILE} ${s.path}`;
    case 'default': return 'default';
    case 'unset': return 'unset';
  }
}

export interface ResolvedValue {
  key: SettingEnv;
  raw: string | undefined;
  source: Source;
  secret: boolean;
}

export interface HelfyConfig {
  /** Absolute path of the workspace folder. */
  root: string;
  projectName: string;
  bindAddress: string;
  timescale: 'required' | 'optional';
  /** HELFY_MIGRATIONS_DIR as given (undefined: the bundled migrations). */
  migrationsDir?: string;
  ports: { postgres: number; neo4jHttp: number; neo4jBolt: number; temporal: number; temporalUi: number; api: number; web: number };
  postgres: { host: string; port: number; superuser: string; superuserPassword: string; appOwnerPassword: string; appPassword: string; temporalPassword: string };
  neo4j: { host: string; boltPort: number; httpPort: number; user: 'neo4j'; password: string };
  temporal: { host: string; port: number; namespace: string; retentionHours: number };
  api: { jwtSecret: string };
  images: { postgres: string; temporal: string; temporalAdminTools: string; temporalUi: string; neo4j: string; node: string };
  /** HELFY_RUNTIME as configured (`auto` is resolved when a stack command opens the stack). */
  runtime: 'auto' | 'docker' | 'native';
  /** Settings of the native runtime (src/runtime/native); the paths are absolute. */
  native: { cacheDir: string; postgresBin?: string; temporalBin?: string; neo4jHome?: string; java?: string };
  /** Every setting with its raw value and source, for `helfy config` and error messages. */
  values: ResolvedValue[];
}

/** Walks up from `start` to the first folder holding helfy.config.json. */
export function findWorkspace(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function requireWorkspace(start: string): string {
  const root = findWorkspace(start);
  if (!root) {
    throw new HelfyError('NO_WORKSPACE', `no helfy workspace found in ${resolve(start)} or any parent folder`, {
      hint: 'Run `helfy init` to create one, or pass --cwd <dir>.',
    });
  }
  return root;
}

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function readConfigFile(root: string): Record<string, unknown> {
  const file = join(root, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new HelfyError('CONFIG_INVALID', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { hint: 'Check the file permissions.' });
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('top level must be an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new HelfyError('CONFIG_INVALID', `${CONFIG_FILE}: invalid JSON (${(e as Error).message})`, { hint: `Fix ${join(root, CONFIG_FILE)} or recreate it with \`helfy init --force\`.` });
  }
}

export function readDotenvFile(root: string): Map<string, { value: string; line: number }> {
  const file = join(root, ENV_FILE);
  const out = new Map<string, { value: string; line: number }>();
  if (!existsSync(file)) return out;
  for (const e of parseDotenv(readFileSync(file, 'utf8'), ENV_FILE)) out.set(e.key, { value: e.value, line: e.line });
  return out;
}

export interface LoadOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Values given by command-line flags, keyed by setting env name, with the flag's spelling. */
  flags?: Partial<Record<SettingEnv, { value: string; flag: string }>>;
  /** When false, missing secrets are not an error (e.g. `helfy config`, `doctor`). */
  requireSecrets?: boolean;
}

/** Resolves every setting and validates all of them at once; throws one error listing every bad key. */
export function loadConfig(opts: LoadOptions): HelfyConfig {
  const root = requireWorkspace(opts.cwd);
  const file = readConfigFile(root);
  const dotenv = readDotenvFile(root);
  const values: ResolvedValue[] = [];
  const parsed = new Map<string, unknown>();
  const problems: string[] = [];

  for (const s of SETTINGS as readonly Setting[]) {
    const key = s.env as SettingEnv;
    let raw: string | undefined;
    let source: Source = { kind: 'unset' };
    const flag = opts.flags?.[key];
    const fileVal = s.file ? getPath(file, s.file) : undefined;
    if (flag) { raw = flag.value; source = { kind: 'flag', name: flag.flag }; }
    else if (opts.env[key] !== undefined && opts.env[key] !== '') { raw = opts.env[key]; source = { kind: 'env' }; }
    else if (dotenv.has(key)) { const d = dotenv.get(key)!; raw = d.value; source = { kind: 'dotenv', line: d.line }; }
    else if (fileVal !== undefined && fileVal !== null) { raw = String(fileVal); source = { kind: 'file', path: s.file! }; }
    else if (s.default !== undefined) { raw = s.default; source = { kind: 'default' }; }
    values.push({ key, raw, source, secret: Boolean(s.secret) });

    if (raw === undefined) {
      if (s.secret && opts.requireSecrets !== false && !s.addedOnFirstUse) {
        problems.push(`${key}: missing (secret)`);
      }
      continue;
    }
    const r = schemaFor(s).safeParse(raw);
    if (r.success) parsed.set(key, r.data);
    else {
      const shown = s.secret ? '<redacted>' : JSON.stringify(raw);
      problems.push(`${formatSource(source)} ${key}: ${r.error.issues[0]?.message ?? 'invalid'}, got ${shown}`);
    }
  }

  // Two services on one host port.
  const portKeys = SETTINGS.filter((s) => s.kind === 'port').map((s) => s.env);
  const seen = new Map<number, string>();
  for (const k of portKeys) {
    const p = parsed.get(k) as number | undefined;
    if (p === undefined) continue;
    const other = seen.get(p);
    if (other) problems.push(`${k} and ${other} both use port ${p}`);
    else seen.set(p, k);
  }

  if (problems.length) {
    const missingSecrets = problems.some((p) => p.includes('missing (secret)'));
    throw new HelfyError('CONFIG_INVALID', `invalid configuration (${problems.length} problem${problems.length > 1 ? 's' : ''})`, {
      details: problems,
      hint: missingSecrets
        ? 'Secrets are generated by `helfy init`; run `helfy init --force` to add missing ones (existing secrets are kept).'
        : `Fix the values in ${join(root, ENV_FILE)} or ${join(root, CONFIG_FILE)}; \`helfy config\` shows where each value comes from.`,
      data: { problems },
    });
  }

  const str = (k: SettingEnv) => (parsed.get(k) as string | undefined) ?? '';
  const num = (k: SettingEnv) => parsed.get(k) as number;
  return {
    root,
    projectName: str('HELFY_PROJECT_NAME'),
    bindAddress: str('HELFY_BIND_ADDRESS'),
    timescale: str('HELFY_TIMESCALE') as 'required' | 'optional',
    migrationsDir: (parsed.get('HELFY_MIGRATIONS_DIR') as string | undefined) || undefined,
    ports: {
      postgres: num('HELFY_POSTGRES_PORT'), neo4jHttp: num('HELFY_NEO4J_HTTP_PORT'), neo4jBolt: num('HELFY_NEO4J_BOLT_PORT'),
      temporal: num('HELFY_TEMPORAL_PORT'), temporalUi: num('HELFY_TEMPORAL_UI_PORT'), api: num('HELFY_API_PORT'), web: num('HELFY_WEB_PORT'),
    },
    postgres: {
      host: str('HELFY_POSTGRES_HOST'), port: num('HELFY_POSTGRES_PORT'), superuser: str('HELFY_POSTGRES_USER'),
      superuserPassword: str('HELFY_POSTGRES_PASSWORD'), appOwnerPassword: str('HELFY_APP_OWNER_PASSWORD'),
      appPassword: str('HELFY_APP_PASSWORD'), temporalPassword: str('HELFY_TEMPORAL_DB_PASSWORD'),
    },
    neo4j: { host: str('HELFY_NEO4J_HOST'), boltPort: num('HELFY_NEO4J_BOLT_PORT'), httpPort: num('HELFY_NEO4J_HTTP_PORT'), user: 'neo4j', password: str('HELFY_NEO4J_PASSWORD') },
    temporal: { host: str('HELFY_TEMPORAL_HOST'), port: num('HELFY_TEMPORAL_PORT'), namespace: str('HELFY_TEMPORAL_NAMESPACE'), retentionHours: durationHours(str('HELFY_TEMPORAL_RETENTION')) },
    api: { jwtSecret: str('HELFY_JWT_SECRET') },
    images: {
      postgres: str('HELFY_POSTGRES_IMAGE'), temporal: str('HELFY_TEMPORAL_IMAGE'), temporalAdminTools: str('HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE'),
      temporalUi: str('HELFY_TEMPORAL_UI_IMAGE'), neo4j: str('HELFY_NEO4J_IMAGE'), node: str('HELFY_NODE_IMAGE'),
    },
    runtime: str('HELFY_RUNTIME') as 'auto' | 'docker' | 'native',
    native: {
      cacheDir: resolve(root, str('HELFY_CACHE_DIR') || join(homedir(), '.cache', 'helfy')),
      ...optPath(root, 'postgresBin', str('HELFY_POSTGRES_BIN')),
      ...optPath(root, 'temporalBin', str('HELFY_TEMPORAL_BIN')),
      ...optPath(root, 'neo4jHome', str('NEO4J_HOME')),
      ...optPath(root, 'java', str('HELFY_JAVA')),
    },
    values,
  };
}

/** `{ [key]: absolute path }` when `v` is set, else nothing (relative paths: from the workspace). */
function optPath<K extends string>(root: string, key: K, v: string): Partial<Record<K, string>> {
  return v ? ({ [key]: resolve(root, v) } as Partial<Record<K, string>>) : {};
}

function durationHours(v: string): number {
  const n = Number(v.slice(0, -1));
  return v.endsWith('d') ? n * 24 : n;
}
