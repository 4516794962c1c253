import { execa } from 'execa';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDotenv } from '../../src/config/dotenv.js';
import { SECRET_KEYS } from '../../src/config/secrets.js';
import { BIN, baseEnv, helfy, tempDir } from '../helpers/cli.js';

const readEnv = (dir: string) => Object.fromEntries(parseDotenv(readFileSync(join(dir, '.env'), 'utf8'), '.env').map((e) => [e.key, e.value]));

describe('helfy init', () => {
  it('creates a workspace with strong secrets in a 0600 .env', async () => {
    const dir = tempDir();
    const r = await helfy(['init', '--yes', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.json.status).toBe('created');
    expect(r.json.generatedSecrets).toEqual(SECRET_KEYS);
    expect(readdirSync(dir).sort()).toEqual(['.env', '.env.example', '.gitignore', 'apps', 'helfy.config.json']);
    expect(readdirSync(join(dir, 'apps')).sort()).toEqual(['.helfy-scaffold.json', 'api', 'web']);
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    const env = readEnv(dir);
    for (const k of SECRET_KEYS) {
      expect(env[k]).toMatch(/^[A-Za-z0-9_-]{32,}$/);
      // Never printed.
      expect(r.stdout + r.stderr).not.toContain(env[k]);
    }
    expect(new Set(SECRET_KEYS.map((k) => env[k])).size).toBe(SECRET_KEYS.length);
    const cfg = JSON.parse(readFileSync(join(dir, 'helfy.config.json'), 'utf8'));
    expect(cfg.ports).toEqual({ postgres: 5432, neo4jHttp: 7474, neo4jBolt: 7687, temporal: 7233, temporalUi: 8233, api: 3000, web: 3001 });
    expect(cfg.name).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
    const gitignore = readFileSync(join(dir, '.gitignore'), 'utf8');
    for (const e of ['.env', '.helfy/', 'backups/']) expect(gitignore.split('\n')).toContain(e);
  });

  it('takes name and ports from flags, into a given folder', async () => {
    const parent = tempDir();
    mkdirSync(join(parent, 'ws'));
    const r = await helfy(['init', 'ws', '--name', 'my-stack', '--postgres-port', '15432', '--api-port', '13000'], { cwd: parent });
    expect(r.code).toBe(0);
    const cfg = JSON.parse(readFileSync(join(parent, 'ws', 'helfy.config.json'), 'utf8'));
    expect(cfg.name).toBe('my-stack');
    expect(cfg.ports.postgres).toBe(15432);
    expect(cfg.ports.api).toBe(13000);
  });

  it('re-running reports "already initialized" and changes nothing', async () => {
    const dir = tempDir();
    await helfy(['init', '--yes'], { cwd: dir });
    const files = () => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
    const before = files().map((f) => [f, readFileSync(f, 'utf8')]);
    const r = await helfy(['init', '--yes'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('already initialized');
    expect(files().map((f) => [f, readFileSync(f, 'utf8')])).toEqual(before);
  });

  it('--force keeps secrets and backs up .env; --rotate-secrets replaces them', async () => {
    const dir = tempDir();
    await helfy(['init', '--yes'], { cwd: dir });
    const first = readEnv(dir);
    writeFileSync(join(dir, '.env'), `${readFileSync(join(dir, '.env'), 'utf8')}MY_OWN_KEY=kept\n`);
    const r = await helfy(['init', '--force', '--web-port', '4001', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.json.status).toBe('rewritten');
    expect(r.json.keptSecrets).toEqual(SECRET_KEYS);
    const second = readEnv(dir);
    for (const k of SECRET_KEYS) expect(second[k]).toBe(first[k]);
    expect(second.MY_OWN_KEY).toBe('kept');
    expect(JSON.parse(readFileSync(join(dir, 'helfy.config.json'), 'utf8')).ports.web).toBe(4001);
    const backup = r.json.envBackup as string;
    expect(backup).toMatch(/^\.env\.backup-/);
    expect(statSync(join(dir, backup)).mode & 0o777).toBe(0o600);

    const r2 = await helfy(['init', '--force', '--rotate-secrets'], { cwd: dir });
    expect(r2.code).toBe(0);
    const third = readEnv(dir);
    for (const k of SECRET_KEYS) expect(third[k]).not.toBe(first[k]);
    expect(r2.stdout + r2.stderr).not.toContain(third[SECRET_KEYS[0]!]!);
  });

  it('without a terminal and without --yes fails naming the flag, writing nothing', async () => {
    const dir = tempDir();
    const r = await helfy(['init'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot prompt');
    expect(r.stderr).toContain('--yes');
    expect(readdirSync(dir)).toEqual([]);
    const j = await helfy(['init', '--json'], { cwd: dir });
    expect(j.json.error.code).toBe('NOT_INTERACTIVE');
  });

  it('CI=true counts as non-interactive', async () => {
    const dir = tempDir();
    const r = await helfy(['init'], { cwd: dir, env: { CI: 'true' } });
    expect(r.code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a missing folder is a clear usage error', async () => {
    const dir = tempDir();
    const r = await helfy(['init', 'does-not-exist', '--yes'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: folder .*does-not-exist does not exist/);
    expect(r.stderr).toContain('hint:');
    expect(existsSync(join(dir, 'does-not-exist'))).toBe(false);
  });

  it('a read-only folder is a clear error and nothing is partly written', async () => {
    const dir = tempDir();
    const target = join(dir, 'ro');
    mkdirSync(target);
    chmodSync(target, 0o555);
    chmodSync(dir, 0o755);
    // root ignores permission bits, so run the binary as an unprivileged user when we are root.
    const asRoot = process.getuid?.() === 0;
    const cmd = asRoot ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', BIN, 'init', target, '--yes']] : ['node', [BIN, 'init', target, '--yes']];
    const r = await execa(cmd[0] as string, cmd[1] as string[], { reject: false, env: baseEnv(), extendEnv: false, cwd: '/', input: '' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`folder ${target} is not writable`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(target)).toEqual([]);
  });

  it('bad port flags name the key; two services on one port name both keys', async () => {
    const dir = tempDir();
    const r = await helfy(['init', '--yes', '--postgres-port', '54x32'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--postgres-port HELFY_POSTGRES_PORT: expected a port 1-65535, got "54x32"');
    const r2 = await helfy(['init', '--yes', '--api-port', '4000', '--web-port', '4000'], { cwd: dir });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('HELFY_WEB_PORT and HELFY_API_PORT both use port 4000');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('records ports exported as HELFY_*_PORT (what every later command would read), a flag still wins; a bad one is exit 2 naming the variable', async () => {
    const dir = tempDir();
    const r = await helfy(['init', '--yes', '--web-port', '14001'], { cwd: dir, env: { HELFY_API_PORT: '14000', HELFY_WEB_PORT: '14999', HELFY_POSTGRES_PORT: '' } });
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, 'helfy.config.json'), 'utf8'));
    expect(cfg.ports).toMatchObject({ api: 14000, web: 14001, postgres: 5432 });
    const bad = tempDir();
    const r2 = await helfy(['init', '--yes'], { cwd: bad, env: { HELFY_NEO4J_BOLT_PORT: 'bolt' } });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('environment variable HELFY_NEO4J_BOLT_PORT: expected a port 1-65535, got "bolt"');
    expect(r2.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(bad)).toEqual([]);
  });
});

describe('helfy config', () => {
  it('shows every value with its source and no secret anywhere', async () => {
    const dir = tempDir();
    await helfy(['init', '--yes', '--name', 'cfgtest'], { cwd: dir });
    const secrets = Object.entries(readEnv(dir)).filter(([k]) => SECRET_KEYS.includes(k)).map(([, v]) => v);
    expect(secrets).toHaveLength(SECRET_KEYS.length);
    for (const args of [['config'], ['config', '--json'], ['config', '--verbose'], ['doctor'], ['doctor', '--json']]) {
      const r = await helfy(args, { cwd: dir, env: { HELFY_API_PORT: '3999' } });
      for (const s of secrets) {
        expect(r.stdout).not.toContain(s);
        expect(r.stderr).not.toContain(s);
      }
    }
    const r = await helfy(['config', '--json'], { cwd: dir, env: { HELFY_API_PORT: '3999' } });
    expect(r.code).toBe(0);
    const byKey = Object.fromEntries(r.json.values.map((v: any) => [v.key, v]));
    expect(byKey.HELFY_PROJECT_NAME).toMatchObject({ value: 'cfgtest', source: 'helfy.config.json name' });
    expect(byKey.HELFY_API_PORT).toMatchObject({ value: '3999', source: 'environment' });
    expect(byKey.HELFY_NEO4J_PASSWORD).toMatchObject({ value: '<redacted>', secret: true });
    expect(byKey.HELFY_NEO4J_PASSWORD.source).toMatch(/^\.env:\d+$/);
    expect(byKey.HELFY_BIND_ADDRESS).toMatchObject({ value: '127.0.0.1', source: 'default' });
  });

  it('names file and line of a malformed .env line, exit 2', async () => {
    const dir = tempDir();
    await helfy(['init', '--yes'], { cwd: dir });
    const text = readFileSync(join(dir, '.env'), 'utf8');
    writeFileSync(join(dir, '.env'), `${text}oops no equals\n`);
    const line = text.split('\n').length;
    const r = await helfy(['config'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: .env:${line}: malformed line (expected KEY=value)`);
  });

  it('reports every bad key at once', async () => {
    const dir = tempDir();
    await helfy(['init', '--yes'], { cwd: dir });
    writeFileSync(join(dir, '.env'), `${readFileSync(join(dir, '.env'), 'utf8')}HELFY_POSTGRES_PORT=54x32\nHELFY_TIMESCALE=sometimes\n`);
    const r = await helfy(['config', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json.error.code).toBe('CONFIG_INVALID');
    expect(r.json.error.details).toHaveLength(2);
    expect(r.json.error.details[0]).toMatch(/^\.env:\d+ HELFY_POSTGRES_PORT: expected a port 1-65535, got "54x32"$/);
  });

  it('outside a workspace says to run helfy init, exit 2', async () => {
    const r = await helfy(['config'], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no helfy workspace found');
    expect(r.stderr).toContain('helfy init');
  });
});

describe('helfy config with a secret missing', () => {
  it('shows it as unset instead of failing', async () => {
    const dir = tempDir();
    await helfy(['init', '--yes'], { cwd: dir });
    const text = readFileSync(join(dir, '.env'), 'utf8').split('\n').filter((l) => !l.startsWith('HELFY_JWT_SECRET=')).join('\n');
    writeFileSync(join(dir, '.env'), text);
    const r = await helfy(['config', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.json.values.find((v: any) => v.key === 'HELFY_JWT_SECRET')).toMatchObject({ value: null, source: 'unset' });
  });
});
