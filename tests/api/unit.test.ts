/** Pure parts of the API template: configuration, password format, cursors, Lucene escaping, one schema. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../templates/api/src/auth/password.js';
import { ConfigError, loadConfig } from '../../templates/api/src/config.js';
import { luceneQuery } from '../../templates/api/src/library/queries.js';
import { decodeCursor, encodeCursor } from '../../templates/api/src/routes/common.js';
import { ApiError } from '../../templates/api/src/lib/errors.js';
import { findNul, NUL_MESSAGE, validationHook } from '../../templates/api/src/lib/validation.js';
import { accessClaimsProblem, hashRefreshToken, refreshTokenFor } from '../../templates/api/src/auth/tokens.js';
import { passwordWeakness, personalWords } from '../../templates/api/src/auth/password-policy.js';
import { chooseSource, offsetMinutes, seriesSql, splitRange } from '../../templates/api/src/data/series.js';
import { createTemporal, temporalHealthy } from '../../templates/api/src/temporal/client.js';
import { createServer } from 'node:net';

const ROOT = resolve(import.meta.dirname, '../..');
const ENV = {
  DATABASE_URL: 'postgres://helfy_api:pg-secret-value@postgres:5432/helfy_app',
  NEO4J_URL: 'bolt://neo4j:7687',
  NEO4J_PASSWORD: 'neo4j-secret-value',
  TEMPORAL_ADDRESS: 'temporal:7233',
  JWT_SECRET: 'jwt-secret-value-0123456789',
};

function configError(env: Record<string, string>, service?: 'worker'): ConfigError {
  try {
    service ? loadConfig(env, service) : loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('no error');
}

describe('configuration', () => {
  it('takes the compose environment with its defaults', () => {
    const c = loadConfig(ENV);
    expect(c).toMatchObject({ PORT: 3000, HEALTH_PORT: 3100, TEMPORAL_NAMESPACE: 'helfy', TEMPORAL_TASK_QUEUE: 'helfy', NEO4J_USER: 'neo4j', LOG_LEVEL: 'info', WEB_ORIGIN: '', TRUST_PROXY: [] });
  });

  it('names the missing or bad variable, never its value', () => {
    for (const key of Object.keys(ENV)) {
      const { [key]: _, ...rest } = ENV as Record<string, string>;
      expect(configError(rest).message).toBe(`${key} is missing`);
    }
    expect(configError({ ...ENV, JWT_SECRET: '' }).message).toBe('JWT_SECRET is missing'); // empty = unset
    const bad = configError({ ...ENV, DATABASE_URL: 'mysql://u:pg-secret-value@h/db' });
    expect(bad.message).toBe('DATABASE_URL is invalid (must be a postgres:// URL)');
    expect(bad.message).not.toContain('pg-secret-value');
    expect(configError({ ...ENV, JWT_SECRET: 'short-secret' }).message).toBe('JWT_SECRET is invalid (must be at least 16 characters)');
    expect(configError({ ...ENV, WEB_ORIGIN: 'http://x/path' }).message).toMatch(/^WEB_ORIGIN is invalid: must be an origin/);
    expect(configError({ ...ENV, LOG_LEVEL: 'loud' }).variable).toBe('LOG_LEVEL');
  });

  it('TRUST_PROXY: a list of addresses / CIDRs; true = any peer; garbage named', () => {
    expect(loadConfig({ ...ENV, TRUST_PROXY: '172.18.0.0/16, 10.0.0.5,::1' }).TRUST_PROXY).toEqual(['172.18.0.0/16', '10.0.0.5', '::1']);
    expect(loadConfig({ ...ENV, TRUST_PROXY: 'true' }).TRUST_PROXY).toEqual(['0.0.0.0/0', '::/0']);
    expect(loadConfig({ ...ENV, TRUST_PROXY: 'false' }).TRUST_PROXY).toEqual([]);
    expect(configError({ ...ENV, TRUST_PROXY: '10.0.0.0/40' }).message).toBe('TRUST_PROXY is invalid: "10.0.0.0/40" is not an address or CIDR');
    expect(configError({ ...ENV, TRUST_PROXY: 'web' }).message).toBe('TRUST_PROXY is invalid: "web" is not an address or CIDR');
  });

  it('the worker needs neither Neo4j nor the JWT secret', () => {
    const c = loadConfig({ DATABASE_URL: ENV.DATABASE_URL, TEMPORAL_ADDRESS: ENV.TEMPORAL_ADDRESS }, 'worker');
    expect(c.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(configError({ TEMPORAL_ADDRESS: ENV.TEMPORAL_ADDRESS }, 'worker').message).toBe('DATABASE_URL is missing');
  });
});

describe('password hashes', () => {
  it('hash → verify in the shared format; tampered or absurd strings are refused quickly', async () => {
    const h = await hashPassword('correct horse battery');
    const parts = h.split('$');
    expect(parts.slice(0, 4)).toEqual(['scrypt', '32768', '8', '1']);
    expect(Buffer.from(parts[4]!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(parts[5]!, 'base64url')).toHaveLength(32);
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(h).not.toBe(await hashPassword('correct horse battery')); // fresh salt
    const t0 = Date.now();
    expect(await verifyPassword('x', `scrypt$1073741824$8$1$${parts[4]}$${parts[5]}`)).toBe(false);
    expect(await verifyPassword('x', 'bcrypt$2b$10$abc')).toBe(false);
    expect(await verifyPassword('x', `scrypt$32768$8$1$${parts[4]}$`)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(200);
  });
});

describe('helpers', () => {
  it('cursors round-trip; garbage is a 400', () => {
    // The time is PostgreSQL's (microseconds, from to_char in SQL), kept as text: a Date would cut it to ms.
    const us = '2026-10-05T12:34:56.789123Z';
    expect(decodeCursor(encodeCursor(us, 'heart_rate|manual'))).toEqual({ time: us, tie: 'heart_rate|manual' });
    expect(() => decodeCursor('garbage')).toThrow(ApiError);
    expect(() => decodeCursor(Buffer.from('2026-10-05T12:34:56.789Z|x').toString('base64url'))).toThrow(ApiError);
    expect(() => decodeCursor(Buffer.from("2026-10-05T12:34:56.789123Z'; DROP TABLE x|x").toString('base64url'))).toThrow(ApiError);
  });

  it('user words become a safe Lucene query (every word, the last as a prefix)', () => {
    expect(luceneQuery('Bench press')).toBe('+bench +(press OR press*)');
    expect(luceneQuery('squ')).toBe('+(squ OR squ*)');
    expect(luceneQuery('a:b (c) "d" OR *')).toBe('+ab +c +(d OR d*)');
    expect(luceneQuery('"*()')).toBeUndefined();
  });

  it('the date_bin fallback uses TimescaleDB’s default origin', () => {
    expect(seriesSql(true)).toContain('time_bucket($4::interval, time)');
    expect(seriesSql(false)).toContain(`date_bin($4::interval, time, '2000-01-03T00:00:00Z'::timestamptz)`);
    // In the caller's zone (what the route runs).
    expect(seriesSql(true, true)).toContain('time_bucket($4::interval, time, $6::text)');
    expect(seriesSql(false, true)).toContain(`date_bin($4::interval, time AT TIME ZONE $6::text, '2000-01-03 00:00'::timestamp) AT TIME ZONE $6::text`);
  });

  it('the series source: daily aggregate for UTC days, hourly for hours and other zones’ days, raw below an hour, for 30/45-minute zones’ hours and without TimescaleDB', () => {
    const from = new Date('2026-01-10T00:00:00Z');
    const to = new Date('2026-07-10T00:00:00Z');
    const src = (bucket: string, timezone = 'UTC', o: { timescale?: boolean; aggregates?: boolean } = {}) =>
      chooseSource({ timescale: o.timescale ?? true, aggregates: o.aggregates ?? true, bucket, timezone, from, to });
    expect(['1 minute', '5 minutes', '15 minutes', '1 hour', '6 hours', '1 day', '7 days'].map((b) => src(b))).toEqual([
      'biometrics', 'biometrics', 'biometrics', 'biometrics_hourly', 'biometrics_hourly', 'biometrics_daily', 'biometrics_daily',
    ]);
    expect(['1 hour', '1 day', '7 days'].map((b) => src(b, 'Asia/Tokyo'))).toEqual(['biometrics_hourly', 'biometrics_hourly', 'biometrics_hourly']);
    expect(['1 hour', '6 hours', '1 day'].map((b) => src(b, 'America/Los_Angeles'))).toEqual(['biometrics_hourly', 'biometrics_hourly', 'biometrics_hourly']);
    expect(['1 hour', '6 hours', '1 day'].map((b) => src(b, 'Asia/Kolkata'))).toEqual(['biometrics', 'biometrics', 'biometrics_hourly']);
    expect(src('1 day', 'Etc/UTC')).toBe('biometrics_daily');
    expect(src('1 day', 'UTC', { timescale: false })).toBe('biometrics');
    expect(src('1 day', 'UTC', { aggregates: false })).toBe('biometrics');
    expect([offsetMinutes('Asia/Kolkata', from), offsetMinutes('America/Los_Angeles', from), offsetMinutes('America/Los_Angeles', to), offsetMinutes('Asia/Kathmandu', to)]).toEqual([330, -480, -420, 345]);
  });

  it('splitRange: raw rows for partial hours at the ends, hourly rows up to whole days, daily rows between', () => {
    const d = (s: string) => new Date(s);
    const iso = (r: Record<string, Date>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.toISOString()]));
    expect(iso(splitRange(d('2026-03-01T10:20:00Z'), d('2026-03-05T07:10:00Z'), true))).toEqual({
      fh: '2026-03-01T11:00:00.000Z', fd: '2026-03-02T00:00:00.000Z', td: '2026-03-05T00:00:00.000Z', th: '2026-03-05T07:00:00.000Z',
    });
    // No daily source: hourly rows on [fh, th), the daily range empty.
    expect(iso(splitRange(d('2026-03-01T10:20:00Z'), d('2026-03-05T07:10:00Z'), false))).toEqual({
      fh: '2026-03-01T11:00:00.000Z', fd: '2026-03-05T07:00:00.000Z', td: '2026-03-05T07:00:00.000Z', th: '2026-03-05T07:00:00.000Z',
    });
    // Less than a whole hour: everything from raw rows.
    expect(iso(splitRange(d('2026-03-01T10:20:00Z'), d('2026-03-01T10:50:00Z'), true))).toEqual({
      fh: '2026-03-01T10:50:00.000Z', fd: '2026-03-01T10:50:00.000Z', td: '2026-03-01T10:50:00.000Z', th: '2026-03-01T10:50:00.000Z',
    });
  });
});

describe('input and auth rules', () => {
  it('NUL bytes: findNul gives the path of the first string (value or key) holding one; the validation hook answers 400 naming it', () => {
    expect(findNul({ name: 'Leg day', sets: [{ exerciseId: 'Bench_Press', reps: 5 }], n: 1, ok: true, none: null })).toBeUndefined();
    expect(findNul({ name: 'Leg\u0000day' })).toEqual(['name']);
    expect(findNul({ sets: [{ exerciseId: 'a' }, { exerciseId: 'b\u0000' }] })).toEqual(['sets', 1, 'exerciseId']);
    expect(findNul({ tags: ['x', '\u0000'] })).toEqual(['tags', 1]);
    expect(findNul({ 'k\u0000': 'v' })).toEqual(['k\u0000']);
    expect(findNul('\u0000')).toEqual([]);
    const c = { json: (body: unknown, status: number) => ({ body, status }) };
    const hook = (result: unknown) => (validationHook as unknown as (r: unknown, ctx: typeof c) => unknown)(result, c);
    expect(hook({ success: true, data: { name: 'fine' }, target: 'json' })).toBeUndefined();
    expect(hook({ success: true, data: { sets: [{ exerciseId: 'x\u0000' }] }, target: 'json' })).toEqual({
      status: 400,
      body: { error: { code: 'VALIDATION', message: `sets.0.exerciseId: ${NUL_MESSAGE}`, details: [{ field: 'sets.0.exerciseId', message: NUL_MESSAGE }] } },
    });
    expect(hook({ success: true, data: { q: 'a\u0000' }, target: 'query' })).toMatchObject({ status: 400, body: { error: { message: `query q: ${NUL_MESSAGE}` } } });
  });

  it('access token claims: exp, iat, sub (a uuid), typ and iss are all required', () => {
    const full = { sub: '0b6c3c1e-5f1a-4c39-9d8e-4a8f2c1d7e90', iat: 1_800_000_000, exp: 1_800_000_900, iss: 'helfy-api', typ: 'access' };
    expect(accessClaimsProblem(full)).toBeUndefined();
    const without = (k: keyof typeof full) => Object.fromEntries(Object.entries(full).filter(([x]) => x !== k));
    expect(accessClaimsProblem(without('exp'))).toBe('exp missing');
    expect(accessClaimsProblem(without('iat'))).toBe('iat missing');
    expect(accessClaimsProblem(without('sub'))).toBe('sub is not a user id');
    expect(accessClaimsProblem(without('typ'))).toBe('not an access token');
    expect(accessClaimsProblem(without('iss'))).toBe('wrong iss');
    expect(accessClaimsProblem({ ...full, exp: '1800000900' })).toBe('exp missing');
    expect(accessClaimsProblem({ ...full, sub: 'admin' })).toBe('sub is not a user id');
    expect(accessClaimsProblem({ ...full, iat: full.exp + 1 })).toBe('iat after exp');
  });

  it('refresh tokens are derived from the row id and the secret (so the grace can hand one out again); only the hash is stored', () => {
    const id = '0b6c3c1e-5f1a-4c39-9d8e-4a8f2c1d7e90';
    const a = refreshTokenFor(id, 'secret-one-0123456789');
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.hash).toBe(hashRefreshToken(a.token));
    expect(refreshTokenFor(id, 'secret-one-0123456789')).toEqual(a);
    expect(refreshTokenFor(id, 'secret-two-0123456789').token).not.toBe(a.token);
    expect(refreshTokenFor('1b6c3c1e-5f1a-4c39-9d8e-4a8f2c1d7e90', 'secret-one-0123456789').token).not.toBe(a.token);
  });

  it('REFRESH_REUSE_GRACE_S: 20 s by default, 0 turns it off, at most 300', () => {
    expect(loadConfig(ENV).REFRESH_REUSE_GRACE_S).toBe(20);
    expect(loadConfig({ ...ENV, REFRESH_REUSE_GRACE_S: '0' }).REFRESH_REUSE_GRACE_S).toBe(0);
    expect(configError({ ...ENV, REFRESH_REUSE_GRACE_S: '301' }).variable).toBe('REFRESH_REUSE_GRACE_S');
    expect(configError({ ...ENV, REFRESH_REUSE_GRACE_S: '-1' }).variable).toBe('REFRESH_REUSE_GRACE_S');
  });

  it('passwords: common and trivial ones are weak with a reason, passphrases are fine; the estimator is loaded lazily', async () => {
    expect(await passwordWeakness('1234567890')).toBe('is too easy to guess: it is one of the most common passwords. Use a longer passphrase of several uncommon words');
    expect(await passwordWeakness(' '.repeat(10))).toMatch(/^is too easy to guess: it repeats one character\./);
    expect(await passwordWeakness('asdfghjkl;\'')).toMatch(/^is too easy to guess: it is a row of keys on the keyboard\./);
    expect(await passwordWeakness('P@ssword123!')).toMatch(/^is too easy to guess: it is a small variation of a commonly used password\./);
    expect(await passwordWeakness('lovelace-1815', { email: 'ada.lovelace@example.com', displayName: 'Ada Lovelace' })).toMatch(/it contains your e-mail address or name/);
    for (const ok of ['violet-anchor-museum-47', 'correct horse battery', 'pw-user-correct-horse']) expect(await passwordWeakness(ok), ok).toBeUndefined();
    // A 200-character password is judged on its first 64 characters, quickly.
    const t0 = performance.now();
    expect(await passwordWeakness('p@ssw0rd'.repeat(25))).toMatch(/repeats a short pattern/);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(personalWords({ email: 'Ada.Lovelace@Example.com', displayName: 'Ada Lovelace' })).toEqual(['ada.lovelace@example.com', 'ada.lovelace', 'adalovelace', 'ada', 'lovelace', 'ada lovelace']);
    // Nothing of zxcvbn is imported at start: only a type import and a dynamic import().
    const src = readFileSync(resolve(ROOT, 'templates/api/src/auth/password-policy.ts'), 'utf8');
    expect(src.match(/^import .*@zxcvbn-ts.*$/gm)).toEqual([`import type { ZxcvbnFactory } from '@zxcvbn-ts/core';`]);
    expect(src).toContain(`import('@zxcvbn-ts/core')`);
  });
});

describe('the Temporal SDK', () => {
  it('every @temporalio/* package is pinned to one exact version, in package.json and the lockfile', () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'templates/api/package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(resolve(ROOT, 'templates/api/package-lock.json'), 'utf8'));
    const declared = Object.entries({ ...pkg.dependencies, ...pkg.devDependencies }).filter(([n]) => n.startsWith('@temporalio/'));
    expect(declared.length).toBeGreaterThanOrEqual(5);
    const version = declared[0]![1] as string;
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(new Set(declared.map(([, v]) => v))).toEqual(new Set([version]));
    const installed = Object.entries(lock.packages as Record<string, { version: string }>).filter(([p]) => /node_modules\/@temporalio\/[^/]+$/.test(p));
    expect(installed.length).toBeGreaterThanOrEqual(declared.length);
    expect(new Set(installed.map(([, v]) => v.version))).toEqual(new Set([version]));
  });

  it('closing the client while a refused call waits on its retry timer throws nothing, and the call ends', async () => {
    // A real refused TCP port: the SDK's retry interceptor schedules the next attempt on a timer;
    // with the plain SDK connection that timer, firing after close(), threw "Channel has been shut
    // down" as an uncaught exception (seen in CI, and a SIGTERM during a readiness probe would do it).
    const port = await new Promise<number>((done) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => done(p));
      });
    });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const t = createTemporal({ address: `127.0.0.1:${port}`, namespace: 'helfy', taskQueue: 'helfy', timeoutMs: 500 });
      const check = temporalHealthy(t, 5_000).then(() => 'served', (e: Error) => e.message);
      await new Promise((r) => setTimeout(r, 60)); // first attempt refused; the retry (≥ 136 ms) is pending
      const s0 = Date.now();
      await t.close();
      expect(Date.now() - s0).toBeLessThan(2_000);
      const settled = await Promise.race([check, new Promise((r) => setTimeout(() => r('still pending'), 3_000))]);
      expect(settled).toMatch(/UNAVAILABLE|ECONNREFUSED|No connection/i);
      await new Promise((r) => setTimeout(r, 500));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

describe('one schema', () => {
  it('drizzle-kit, the CLI and the API read the same schema file; there is no second copy', () => {
    expect(readFileSync(resolve(ROOT, 'drizzle.config.ts'), 'utf8')).toContain(`schema: './templates/api/src/db/schema.ts'`);
    expect(readFileSync(resolve(ROOT, 'templates/api/src/db/client.ts'), 'utf8')).toContain(`import * as schema from './schema.js'`);
    const defining = execFileSync('git', ['grep', '-l', '-e', "pgTable(", '--', '*.ts', ':!tests/**'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
    expect(defining).toEqual(['templates/api/src/db/schema.ts']);
  });
});
