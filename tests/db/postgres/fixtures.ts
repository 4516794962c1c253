/** Test fixtures: a literal HelfyConfig for a test server, a recording Logger, temp migration dirs. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { HelfyConfig } from '../../../src/config/load.js';
import type { Logger } from '../../../src/core/context.js';

export interface ServerInfo {
  host: string;
  port: number;
  user: string;
  password: string;
}

const secret = () => randomBytes(12).toString('hex');

/** Every field filled literally; postgres.* points at the test server. */
export function makeConfig(server: ServerInfo, over: { timescale?: 'required' | 'optional'; image?: string } = {}): HelfyConfig {
  return {
    root: tmpdir(),
    projectName: 'helfy-test',
    bindAddress: '127.0.0.1',
    timescale: over.timescale ?? 'optional',
    ports: { postgres: server.port, neo4jHttp: 17474, neo4jBolt: 17687, temporal: 17233, temporalUi: 18080, api: 13000, web: 15173 },
    postgres: {
      host: server.host,
      port: server.port,
      superuser: server.user,
      superuserPassword: server.password,
      appOwnerPassword: `owner-${secret()}`,
      appPassword: `api-${secret()}`,
      temporalPassword: `temporal-${secret()}`,
    },
    neo4j: { host: '127.0.0.1', boltPort: 17687, httpPort: 17474, user: 'neo4j', password: secret() },
    temporal: { host: '127.0.0.1', port: 17233, namespace: 'default', retentionHours: 72 },
    api: { jwtSecret: secret() },
    runtime: 'docker',
    native: { cacheDir: join(tmpdir(), 'helfy-test-cache') },
    images: {
      postgres: over.image ?? 'postgres:16-alpine',
      temporal: 'temporalio/server:1.28',
      temporalAdminTools: 'temporalio/admin-tools:1.28',
      temporalUi: 'temporalio/ui:2.39',
      neo4j: 'neo4j:5-community',
      node: 'node:20-alpine',
    },
    values: [],
  };
}

export interface RecordingLogger extends Logger {
  lines: { level: string; msg: string }[];
  of(level: string): string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (msg: string) => void lines.push({ level, msg });
  return {
    lines,
    of: (level) => lines.filter((l) => l.level === level).map((l) => l.msg),
    info: at('info'),
    success: at('success'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    raw: at('raw'),
  };
}

/** Writes a drizzle-kit style migrations folder: <tag>.sql files and meta/_journal.json. */
export function writeMigrations(dir: string, files: { tag: string; sql: string; when?: number }[]): void {
  mkdirSync(join(dir, 'meta'), { recursive: true });
  const base = 1_700_000_000_000;
  const entries = files.map((f, i) => ({ idx: i, version: '7', when: f.when ?? base + i * 1000, tag: f.tag, breakpoints: true }));
  for (const f of files) writeFileSync(join(dir, `${f.tag}.sql`), f.sql);
  writeFileSync(join(dir, 'meta', '_journal.json'), JSON.stringify({ version: '7', dialect: 'postgresql', entries }, null, 2));
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `helfy-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Creates an empty database (as the superuser) and returns a connection config for it. */
export async function freshDatabase(server: ServerInfo, name = `t_${randomBytes(5).toString('hex')}`): Promise<pg.ClientConfig> {
  const c = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: 'postgres' });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  return { host: server.host, port: server.port, user: server.user, password: server.password, database: name };
}

/** Runs fn with a client and closes it. */
export async function withPg<T>(conn: pg.ClientConfig | string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(typeof conn === 'string' ? { connectionString: conn } : conn);
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** Tries to connect; resolves to the server's error (code + message) or 'ok'. */
export async function tryConnect(conn: pg.ClientConfig): Promise<{ code?: string; message: string } | 'ok'> {
  const c = new pg.Client(conn);
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('SELECT 1');
    return 'ok';
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { code: err.code, message: err.message };
  } finally {
    await c.end().catch(() => {});
  }
}

/** Runs one statement; resolves to the server's error code, or 'ok'. */
export async function trySql(c: pg.Client, sql: string): Promise<string> {
  try {
    await c.query(sql);
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}
