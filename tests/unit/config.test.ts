import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HelfyError } from '../../src/core/errors.js';
import { parseDotenv, formatDotenvValue } from '../../src/config/dotenv.js';
import { findWorkspace, formatSource, loadConfig } from '../../src/config/load.js';
import { generateSecret, SECRET_KEYS, weakness } from '../../src/config/secrets.js';
import { isSecretKey, SETTINGS } from '../../src/config/settings.js';
import { renderEnv, renderEnvExample, projectNameFrom } from '../../src/config/workspace.js';

function workspace(files: { config?: object; env?: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'helfy-cfg-'));
  writeFileSync(join(dir, 'helfy.config.json'), JSON.stringify(files.config ?? { name: 'demo' }));
  if (files.env !== undefined) writeFileSync(join(dir, '.env'), files.env);
  return dir;
}

const secrets = () => SECRET_KEYS.map((k) => `${k}=${generateSecret()}`).join('\n');

function expectConfigError(fn: () => unknown): HelfyError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HelfyError);
    return e as HelfyError;
  }
  throw new Error('expected a configuration error');
}

describe('dotenv parsing', () => {
  it('reads keys, quotes, comments and line numbers', () => {
    const entries = parseDotenv('# c\n\nA=1\nexport B="two words"\nC=\'x#y\'\nD=plain # trailing\nE=\n', '.env');
    expect(entries).toEqual([
      { key: 'A', value: '1', line: 3 },
      { key: 'B', value: 'two words', line: 4 },
      { key: 'C', value: 'x#y', line: 5 },
      { key: 'D', value: 'plain', line: 6 },
      { key: 'E', value: '', line: 7 },
    ]);
  });
  it('names file and line of a malformed line', () => {
    const e = expectConfigError(() => parseDotenv('A=1\nthis is not valid\n', '.env'));
    expect(e.message).toBe('.env:2: malformed line (expected KEY=value)');
    expect(e.exitCode).toBe(2);
  });
  it('names an unterminated quote', () => {
    expect(expectConfigError(() => parseDotenv('A="oops\n', '.env')).message).toContain('.env:1: unterminated double quote');
  });
  it('round-trips values written by renderEnv', () => {
    const values = { A: 'simple', B: 'has space', C: 'quote"inside', D: 'a#b', E: 'back\\slash' };
    const back = Object.fromEntries(parseDotenv(renderEnv(values), '.env').map((e) => [e.key, e.value]));
    expect(back).toEqual(values);
    expect(formatDotenvValue('abc-_.')).toBe('abc-_.');
  });
});

describe('configuration resolution', () => {
  it('applies flags > environment > .env > config file > defaults, with sources', () => {
    const dir = workspace({ config: { name: 'demo', ports: { postgres: 6000, api: 6001, web: 6002 } }, env: `${secrets()}\nHELFY_API_PORT=7001\nHELFY_WEB_PORT=7002\n` });
    const cfg = loadConfig({
      cwd: dir,
      env: { HELFY_WEB_PORT: '8002' },
      flags: { HELFY_POSTGRES_PORT: { value: '9000', flag: '--postgres-port' } },
    });
    expect(cfg.ports.postgres).toBe(9000);
    expect(cfg.ports.web).toBe(8002);
    expect(cfg.ports.api).toBe(7001);
    expect(cfg.ports.neo4jBolt).toBe(7687);
    const src = Object.fromEntries(cfg.values.map((v) => [v.key, formatSource(v.source)]));
    expect(src.HELFY_POSTGRES_PORT).toBe('flag --postgres-port');
    expect(src.HELFY_WEB_PORT).toBe('environment');
    expect(src.HELFY_API_PORT).toBe(`.env:${SECRET_KEYS.length + 1}`);
    expect(src.HELFY_PROJECT_NAME).toBe('helfy.config.json name');
    expect(src.HELFY_NEO4J_BOLT_PORT).toBe('default');
    expect(cfg.projectName).toBe('demo');
    expect(cfg.temporal.retentionHours).toBe(72);
  });

  it('finds the workspace from a subfolder', () => {
    const dir = workspace({ env: secrets() });
    const sub = join(dir, 'a', 'b');
    mkdirSync(sub, { recursive: true });
    expect(findWorkspace(sub)).toBe(dir);
    expect(loadConfig({ cwd: sub, env: {} }).root).toBe(dir);
  });

  it('reports every bad key at once with where it came from', () => {
    const dir = workspace({
      config: { name: 'Bad Name!', ports: { neo4jHttp: 70000 } },
      env: `${secrets()}\nHELFY_POSTGRES_PORT=54x32\nHELFY_TIMESCALE=maybe\n`,
    });
    const e = expectConfigError(() => loadConfig({ cwd: dir, env: {} }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.exitCode).toBe(2);
    const line = SECRET_KEYS.length + 1;
    expect(e.details).toContain(`.env:${line} HELFY_POSTGRES_PORT: expected a port 1-65535, got "54x32"`);
    expect(e.details).toContain(`.env:${line + 1} HELFY_TIMESCALE: expected one of required, optional, got "maybe"`);
    expect(e.details.some((d) => d.startsWith('helfy.config.json ports.neo4jHttp HELFY_NEO4J_HTTP_PORT: expected a port 1-65535'))).toBe(true);
    expect(e.details.some((d) => d.startsWith('helfy.config.json name HELFY_PROJECT_NAME'))).toBe(true);
    expect(e.details).toHaveLength(4);
  });

  it('names both keys when two services share a port', () => {
    const dir = workspace({ config: { name: 'demo', ports: { api: 5555, web: 5555 } }, env: secrets() });
    const e = expectConfigError(() => loadConfig({ cwd: dir, env: {} }));
    expect(e.details).toEqual(['HELFY_WEB_PORT and HELFY_API_PORT both use port 5555']);
  });

  it('requires secrets unless told otherwise, and never shows a bad secret', () => {
    const dir = workspace({ env: '' });
    const e = expectConfigError(() => loadConfig({ cwd: dir, env: {} }));
    // HELFY_DEMO_PASSWORD may be missing from an older workspace: `helfy seed` adds it.
    expect(e.details).toEqual(SECRET_KEYS.filter((k) => k !== 'HELFY_DEMO_PASSWORD').map((k) => `${k}: missing (secret)`));
    expect(e.hint).toContain('helfy init --force');
    expect(() => loadConfig({ cwd: dir, env: {}, requireSecrets: false })).not.toThrow();
  });

  it('without a workspace says to run helfy init', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helfy-nows-'));
    const e = expectConfigError(() => loadConfig({ cwd: dir, env: {} }));
    expect(e.code).toBe('NO_WORKSPACE');
    expect(e.exitCode).toBe(2);
    expect(e.hint).toContain('helfy init');
  });

  it('rejects invalid JSON in the config file with its name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helfy-badjson-'));
    writeFileSync(join(dir, 'helfy.config.json'), '{ name: ');
    expect(expectConfigError(() => loadConfig({ cwd: dir, env: {} })).message).toMatch(/^helfy\.config\.json: invalid JSON/);
  });

  it('rejects unpinned latest image tags', () => {
    const dir = workspace({ env: `${secrets()}\nHELFY_NEO4J_IMAGE=neo4j:latest\n` });
    expect(expectConfigError(() => loadConfig({ cwd: dir, env: {} })).details[0]).toContain('pin a tag instead of latest');
  });
});

describe('secrets', () => {
  it('generates long, URL-safe, distinct values that never start like a command-line option', () => {
    // 2000 draws: with a plain base64url value about 62 of them would start with - or _.
    const values = Array.from({ length: 2000 }, () => generateSecret());
    for (const v of values) {
      expect(v).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{31}$/);
      expect(weakness(v)).toBeUndefined();
    }
    expect(new Set(values).size).toBe(values.length);
  });
  it('flags weak values', () => {
    expect(weakness('password')).toMatch(/shorter than 24/);
    expect(weakness('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).toMatch(/distinct/);
    expect(weakness('-Zm9vYmFyYmF6cXV4cXV1eGNvcmdl')).toMatch(/starts with '-'/);
    expect(weakness('neo4j')).toBeDefined();
  });
  it('treats declared secrets and *PASSWORD*/*SECRET*/*TOKEN* names as secret', () => {
    for (const k of SECRET_KEYS) expect(isSecretKey(k)).toBe(true);
    expect(isSecretKey('MY_API_TOKEN')).toBe(true);
    expect(isSecretKey('HELFY_API_PORT')).toBe(false);
  });
  it('keeps secrets out of .env.example and the config file keys', () => {
    const example = renderEnvExample();
    for (const s of SETTINGS) expect(example).toContain(`${s.env}=`);
    for (const k of SECRET_KEYS) expect(example).toMatch(new RegExp(`^${k}=$`, 'm'));
    for (const s of SETTINGS) if ('secret' in s && s.secret) expect('file' in s).toBe(false);
  });
});

describe('project names', () => {
  it('derives a compose-valid name from a folder', () => {
    expect(projectNameFrom('/x/My Project')).toBe('my-project');
    expect(projectNameFrom('/x/__')).toBe('helfy');
  });
});
