/**
 * Auth, the request frame (request id, log line, headers, CORS, errors, OpenAPI, metrics) and bad
 * input, through app.request() against a real PostgreSQL 15 (bootstrapped, migrated, the API
 * connected as helfy_api).
 */
import { createHash, createHmac, randomBytes, scryptSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../templates/api/src/auth/password.js';
import { signAccessToken } from '../../templates/api/src/auth/tokens.js';
import { listen } from '../../templates/api/src/http.js';
import { buildApp, call, newUser, startStack, withClient, type Stack, type TestApp } from './harness.js';

let stack: Stack;
let t: TestApp;

beforeAll(async () => {
  stack = await startStack();
  t = await buildApp(stack, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_ADDRESS: '5', LOGIN_WINDOW_S: '600' });
}, 180_000);

afterAll(async () => {
  await t?.close();
  await stack?.stop();
});

const audit = (userId: string) =>
  withClient(stack.owner, (c) => c.query(`SELECT action::text, metadata, host(ip) AS ip FROM audit_log WHERE user_id = $1 ORDER BY id`, [userId])).then((r) => r.rows);

describe('register and log in', () => {
  it('registers, stores an scrypt hash in the shared format, and audits user.created', async () => {
    const u = await newUser(t.app, 'ada');
    const row = await withClient(stack.owner, (c) => c.query(`SELECT email, password_hash FROM users WHERE id = $1`, [u.id]));
    expect(row.rows[0].email).toBe(u.email);
    expect(row.rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword(u.password, row.rows[0].password_hash)).toBe(true);
    expect(await verifyPassword('wrong password!', row.rows[0].password_hash)).toBe(false);
    const a = await audit(u.id);
    expect(a[0]).toMatchObject({ action: 'user.created', metadata: { email: u.email.toLowerCase() } });
    expect(JSON.stringify(a)).not.toContain(u.password);
  });

  it('verifies a hash made by plain node:crypto with the shared parameters (the seed helper writes these)', async () => {
    const salt = randomBytes(16);
    const key = scryptSync('demo-password-123', salt, 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const stored = `scrypt$32768$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    expect(await verifyPassword('demo-password-123', stored)).toBe(true);
    expect(await verifyPassword('demo-password-124', stored)).toBe(false);
    // A user the seed would create logs in through the API.
    await withClient(stack.owner, (c) => c.query(`INSERT INTO users (email, display_name, password_hash) VALUES ('seeded@example.com', 'Seeded', $1)`, [stored]));
    const r = await call(t.app, 'POST', '/api/auth/login', { body: { email: 'Seeded@Example.com', password: 'demo-password-123' } });
    expect(r.status).toBe(200);
    expect(r.body.tokenType).toBe('Bearer');
  });

  it('refuses a second account with the same email in another case (409)', async () => {
    const u = await newUser(t.app, 'dup');
    const r = await call(t.app, 'POST', '/api/auth/register', { body: { email: u.email.toUpperCase(), password: 'another-password', displayName: 'x' } });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('EMAIL_TAKEN');
  });

  it('logs in, the token reads /api/me, the event is audited with its metadata', async () => {
    const u = await newUser(t.app, 'login');
    const r = await call(t.app, 'POST', '/api/auth/login', { body: { email: u.email, password: u.password }, headers: { 'User-Agent': 'vitest-agent' } });
    expect(r.status).toBe(200);
    expect(r.body.expiresIn).toBe(900);
    const me = await call(t.app, 'GET', '/api/me', { token: r.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: u.id, email: u.email, displayName: 'login' });
    const a = await audit(u.id);
    expect(a.map((x) => x.action)).toEqual(['user.created', 'auth.login']);
    expect(a[1].metadata).toEqual({ email: u.email.toLowerCase(), userAgent: 'vitest-agent' });
  });

  it('a wrong password is 401 INVALID_CREDENTIALS and audited as auth.login_failed', async () => {
    const u = await newUser(t.app, 'wrong');
    const r = await call(t.app, 'POST', '/api/auth/login', { body: { email: u.email, password: 'not-the-password' } });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { code: 'INVALID_CREDENTIALS', message: 'email or password is wrong' } });
    const a = await audit(u.id);
    expect(a.at(-1)).toMatchObject({ action: 'auth.login_failed', metadata: { email: u.email.toLowerCase(), reason: 'wrong_password' } });
  });
});

describe('rate limiting of failed log-ins', () => {
  it('per account: the 4th attempt after 3 failures is 429 with Retry-After, even with the right password', async () => {
    const u = await newUser(t.app, 'limited');
    for (let i = 0; i < 3; i++) {
      expect((await call(t.app, 'POST', '/api/auth/login', { body: { email: u.email, password: `bad-${i}-password` } })).status).toBe(401);
    }
    const r = await call(t.app, 'POST', '/api/auth/login', { body: { email: u.email, password: u.password } });
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('TOO_MANY_ATTEMPTS');
    const retry = Number(r.headers.get('Retry-After'));
    expect(retry).toBeGreaterThan(590);
    expect(retry).toBeLessThanOrEqual(600);
    // The counter lives in audit_log: a fresh app instance (a restart, a second replica) still refuses.
    const other = await buildApp(stack, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_WINDOW_S: '600' });
    try {
      expect((await call(other.app, 'POST', '/api/auth/login', { body: { email: u.email, password: u.password } })).status).toBe(429);
    } finally {
      await other.close();
    }
    // Failures older than the window no longer count.
    await withClient(stack.owner, (c) => c.query(`UPDATE audit_log SET created_at = created_at - interval '11 minutes' WHERE user_id = $1 AND action = 'auth.login_failed'`, [u.id]));
    expect((await call(t.app, 'POST', '/api/auth/login', { body: { email: u.email, password: u.password } })).status).toBe(200);
  });

  it('per client address over real HTTP: 5 failures on different accounts from one address, then 429', async () => {
    const { server, port } = await listen(t.app.fetch, 0, '127.0.0.1');
    try {
      const post = (email: string, password: string) =>
        fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
      const victim = await newUser(t.app, 'victim');
      for (let i = 0; i < 5; i++) expect((await post(`nobody-${i}-${Date.now()}@example.com`, 'whatever-password')).status).toBe(401);
      const r = await post(victim.email, victim.password);
      expect(r.status).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      const ips = await withClient(stack.owner, (c) => c.query(`SELECT DISTINCT host(ip) AS ip FROM audit_log WHERE action = 'auth.login_failed' AND metadata->>'reason' = 'unknown_account'`));
      expect(ips.rows).toEqual([{ ip: '127.0.0.1' }]);
    } finally {
      await new Promise((r) => server.close(r));
      // Clean the address's failures so later tests over HTTP start fresh.
      await withClient(stack.owner, (c) => c.query(`DELETE FROM audit_log WHERE ip = '127.0.0.1'`));
    }
  });
});

describe('rate limiting under parallel attempts', () => {
  it('20 concurrent wrong passwords for one account: exactly the limit (3) get 401, the rest 429; no pending rows left', async () => {
    const u = await newUser(t.app, 'parallel');
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => call(t.app, 'POST', '/api/auth/login', { body: { email: u.email, password: `wrong-${i}-password` } })));
    const statuses = rs.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(17);
    const failed = await withClient(stack.owner, (c) =>
      c.query(`SELECT metadata->>'reason' AS reason FROM audit_log WHERE action = 'auth.login_failed' AND metadata->>'email' = $1`, [u.email.toLowerCase()]),
    );
    expect(failed.rows).toEqual(Array(3).fill({ reason: 'wrong_password' }));
    // The right password is refused too while the account is limited.
    expect((await call(t.app, 'POST', '/api/auth/login', { body: { email: u.email, password: u.password } })).status).toBe(429);
  });

  it('20 concurrent failures from one address over real HTTP: at most the limit (5) get 401; a success leaves no failure row', async () => {
    const { server, port } = await listen(t.app.fetch, 0, '127.0.0.1');
    try {
      const post = (email: string, password: string) =>
        fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
      const ok = await newUser(t.app, 'addr-ok');
      expect((await post(ok.email, ok.password)).status).toBe(200);
      const n = await withClient(stack.owner, (c) => c.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.login_failed' AND ip = '127.0.0.1'`));
      expect(n.rows[0].n).toBe(0);
      const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => post(`flood-${i}-${Date.now()}@example.com`, 'whatever-password')));
      const statuses = rs.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    } finally {
      await new Promise((r) => server.close(r));
      await withClient(stack.owner, (c) => c.query(`DELETE FROM audit_log WHERE ip = '127.0.0.1'`));
    }
  });

  it('the limit queries are served by the partial indexes (seq scans off, the planner still finds them)', async () => {
    const plan = await withClient(stack.owner, async (c) => {
      await c.query('SET enable_seqscan = off');
      const a = await c.query(`EXPLAIN SELECT created_at FROM audit_log WHERE action = 'auth.login_failed' AND created_at > now() - interval '10 minutes' AND ip = '10.0.0.1'::inet ORDER BY created_at DESC LIMIT 5`);
      const b = await c.query(`EXPLAIN SELECT created_at FROM audit_log WHERE action = 'auth.login_failed' AND created_at > now() - interval '10 minutes' AND metadata->>'email' = 'a@b.c' ORDER BY created_at DESC LIMIT 5`);
      return [a.rows.map((r) => r['QUERY PLAN']).join('\n'), b.rows.map((r) => r['QUERY PLAN']).join('\n')];
    });
    expect(plan[0]).toContain('audit_log_login_failed_ip_idx');
    expect(plan[1]).toContain('audit_log_login_email_idx');
  });
});

describe('client address behind a proxy (over real HTTP)', () => {
  async function failFrom(app: TestApp['app'], xff: string): Promise<string> {
    const { server, port } = await listen(app.fetch, 0, '127.0.0.1');
    try {
      const email = `xff-${Date.now()}-${Math.random()}@example.com`;
      const r = await fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': xff }, body: JSON.stringify({ email, password: 'whatever-password' }) });
      expect(r.status).toBe(401);
      const row = await withClient(stack.owner, (c) => c.query(`SELECT host(ip) AS ip FROM audit_log WHERE metadata->>'email' = $1`, [email]));
      return row.rows[0].ip;
    } finally {
      await new Promise((r) => server.close(r));
    }
  }

  it('X-Forwarded-For counts only from a trusted proxy, and then its rightmost entry', async () => {
    const proxied = await buildApp(stack, { TRUST_PROXY: '127.0.0.0/8' });
    try {
      expect(await failFrom(proxied.app, '198.51.100.9, 203.0.113.7')).toBe('203.0.113.7');
    } finally {
      await proxied.close();
    }
    expect(await failFrom(t.app, '203.0.113.7')).toBe('127.0.0.1'); // TRUST_PROXY unset: ignored
    const other = await buildApp(stack, { TRUST_PROXY: '10.1.2.3' });
    try {
      expect(await failFrom(other.app, '203.0.113.7')).toBe('127.0.0.1'); // the peer is not that proxy
    } finally {
      await other.close();
    }
    await withClient(stack.owner, (c) => c.query(`DELETE FROM audit_log WHERE metadata->>'email' LIKE 'xff-%'`));
  });
});

describe('tokens', () => {
  it('401 for a missing, malformed, expired or forged token', async () => {
    const u = await newUser(t.app, 'tok');
    const missing = await call(t.app, 'GET', '/api/me');
    expect([missing.status, missing.body.error.code]).toEqual([401, 'TOKEN_MISSING']);
    const malformed = await call(t.app, 'GET', '/api/me', { headers: { Authorization: 'Basic abc' } });
    expect([malformed.status, malformed.body.error.code]).toEqual([401, 'TOKEN_INVALID']);
    const now = Math.floor(Date.now() / 1000);
    const expired = await signAccessToken(u.id, t.config.JWT_SECRET, 60, Date.now() - 3600_000);
    const e = await call(t.app, 'GET', '/api/me', { token: expired });
    expect([e.status, e.body.error.code]).toEqual([401, 'TOKEN_EXPIRED']);
    const forged = await signAccessToken(u.id, 'some-other-secret-0123456789', 600);
    const f = await call(t.app, 'GET', '/api/me', { token: forged });
    expect([f.status, f.body.error.code]).toEqual([401, 'TOKEN_INVALID']);
    // alg=none with the same claims
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: u.id, exp: now + 600, iss: 'helfy-api', typ: 'access' })).toString('base64url')}.`;
    expect((await call(t.app, 'GET', '/api/me', { token: none })).status).toBe(401);
    expect((await call(t.app, 'GET', '/api/me', { token: u.token })).status).toBe(200);
  });

  it('refresh rotates: the new pair works, the old refresh token is marked replaced and only its hash is stored', async () => {
    const u = await newUser(t.app, 'rot');
    const r1 = await call(t.app, 'POST', '/api/auth/refresh', { body: { refreshToken: u.refreshToken } });
    expect(r1.status).toBe(200);
    expect(r1.body.refreshToken).not.toBe(u.refreshToken);
    expect((await call(t.app, 'GET', '/api/me', { token: r1.body.accessToken })).status).toBe(200);
    const rows = await withClient(stack.owner, (c) => c.query(`SELECT id, token_hash, revoked_at, replaced_by FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at`, [u.id]));
    expect(rows.rows).toHaveLength(2);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(rows.rows[0].token_hash).toBe(sha(u.refreshToken));
    expect(rows.rows[0].revoked_at).not.toBeNull();
    expect(rows.rows[0].replaced_by).toBe(rows.rows[1].id);
    expect(rows.rows[1]).toMatchObject({ token_hash: sha(r1.body.refreshToken), revoked_at: null });
    expect((await audit(u.id)).map((a) => a.action)).toContain('auth.token_refreshed');
  });

  it('reusing a rotated refresh token revokes its whole family', async () => {
    const u = await newUser(t.app, 'reuse');
    const r1 = await call(t.app, 'POST', '/api/auth/refresh', { body: { refreshToken: u.refreshToken } });
    const r2 = await call(t.app, 'POST', '/api/auth/refresh', { body: { refreshToken: r1.body.refreshToken } });
    expect(r2.status).toBe(200);
    // A second session of the same user (another device) is another family and survives.
    const other = await call(t.app, 'POST', '/api/auth/login', { body: { email: u.email, password: u.password } });
    // The attacker replays the first token.
    const replay = await call(t.app, 'POST', '/api/auth/refresh', { body: { refreshToken: u.refreshToken } });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('REFRESH_REUSED');
    // The newest token of the family is dead now.
    const after = await call(t.app, 'POST', '/api/auth/refresh', { body: { refreshToken: r2.body.refreshToken } });
    expect([after.status, after.body.error.code]).toEqual([401, 'REFRESH_REVOKED']);
    expect((await call(t.app, 'POST', '/api/auth/refresh', { body: { refreshToken: other.body.refreshToken } })).status).toBe(200);
    const a = (await audit(u.id)).filter((x) => x.action === 'auth.token_revoked');
    expect(a).toHaveLength(1);
    expect(a[0].metadata).toMatchObject({ reason: 'refresh_token_reuse', revoked: 1 });
    const live = await withClient(stack.owner, (c) => c.query(`SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL`, [u.id]));
    expect(live.rows[0].n).toBe(1); // only the other device's rotated token
  });

  it('logout revokes the refresh token; unknown or expired tokens are 401', async () => {
    const u = await newUser(t.app, 'logout');
    expect((await call(t.app, 'POST', '/api/auth/logout', { body: { refreshToken: u.refreshToken } })).status).toBe(204);
    const r = await call(t.app, 'POST', '/api/auth/refresh', { body: { refreshToken: u.refreshToken } });
    expect([r.status, r.body.error.code]).toEqual([401, 'REFRESH_REVOKED']);
    expect((await audit(u.id)).map((a) => a.action)).toContain('auth.logout');
    const unknown = await call(t.app, 'POST', '/api/auth/refresh', { body: { refreshToken: randomBytes(32).toString('base64url') } });
    expect([unknown.status, unknown.body.error.code]).toEqual([401, 'REFRESH_INVALID']);
    const v = await newUser(t.app, 'expiring');
    await withClient(stack.owner, (c) => c.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [v.id]));
    const ex = await call(t.app, 'POST', '/api/auth/refresh', { body: { refreshToken: v.refreshToken } });
    expect([ex.status, ex.body.error.code]).toEqual([401, 'REFRESH_EXPIRED']);
  });

  it('a correctly signed token lacking exp, iat, sub, typ or iss (or whose sub is no user id) is 401 TOKEN_INVALID', async () => {
    const u = await newUser(t.app, 'claims');
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const hs256 = (claims: Record<string, unknown>) => {
      const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
      return `${unsigned}.${createHmac('sha256', t.config.JWT_SECRET).update(unsigned).digest('base64url')}`;
    };
    const now = Math.floor(Date.now() / 1000);
    const full: Record<string, unknown> = { sub: u.id, iat: now, exp: now + 600, iss: 'helfy-api', typ: 'access' };
    // The helper signs the way the API does: with every claim the token is good.
    expect((await call(t.app, 'GET', '/api/me', { token: hs256(full) })).body).toMatchObject({ id: u.id });
    const without = (claim: string) => Object.fromEntries(Object.entries(full).filter(([k]) => k !== claim));
    const bad = [...['exp', 'iat', 'sub', 'typ', 'iss'].map(without), { ...full, sub: 'not-a-user-id' }, { ...full, typ: 'refresh' }, { ...full, iat: now + 10, exp: now + 5 }];
    for (const claims of bad) {
      const r = await call(t.app, 'GET', '/api/me', { token: hs256(claims) });
      expect([r.status, r.body.error?.code], JSON.stringify(claims)).toEqual([401, 'TOKEN_INVALID']);
    }
  });
});

describe('refresh grace: two tabs refreshing at once', () => {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const refresh = (token: string) => call(t.app, 'POST', '/api/auth/refresh', { body: { refreshToken: token } });
  const tokens = (userId: string) =>
    withClient(stack.owner, (c) => c.query(`SELECT token_hash AS hash, revoked_at IS NULL AS live FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at`, [userId])).then((r) => r.rows);

  it('the just-rotated token, used again within the grace, gets the live successor and a new access token; nothing is revoked', async () => {
    expect(t.config.REFRESH_REUSE_GRACE_S).toBe(20); // the default
    const u = await newUser(t.app, 'tabs');
    const a = await refresh(u.refreshToken); // tab A wins the race
    expect(a.status).toBe(200);
    const b = await refresh(u.refreshToken); // tab B, a moment later, with the same token
    expect(b.status).toBe(200);
    expect(b.body.refreshToken).toBe(a.body.refreshToken);
    expect(b.body.refreshExpiresAt).toBe(a.body.refreshExpiresAt);
    expect((await call(t.app, 'GET', '/api/me', { token: b.body.accessToken })).body).toMatchObject({ id: u.id });
    // One family, one live token (the successor), no new row, no revocation.
    expect(await tokens(u.id)).toEqual([{ hash: sha(u.refreshToken), live: false }, { hash: sha(a.body.refreshToken), live: true }]);
    const actions = await audit(u.id);
    expect(actions.map((x) => x.action)).not.toContain('auth.token_revoked');
    expect(actions.filter((x) => x.action === 'auth.token_refreshed').map((x) => x.metadata.grace ?? false)).toEqual([false, true]);
    // Both tabs go on with that one token: it rotates as usual.
    expect((await refresh(b.body.refreshToken)).status).toBe(200);

    // Truly at the same time: both answered, the same successor, one live token.
    const v = await newUser(t.app, 'tabs2');
    const both = await Promise.all([refresh(v.refreshToken), refresh(v.refreshToken)]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(both[0]!.body.refreshToken).toBe(both[1]!.body.refreshToken);
    expect((await tokens(v.id)).filter((x) => x.live)).toEqual([{ hash: sha(both[0]!.body.refreshToken), live: true }]);
  });

  it('outside the grace a reuse still revokes the family: after the grace, an older token, a logged-out successor; 0 turns the grace off', async () => {
    // After the grace: the rotation moved back past REFRESH_REUSE_GRACE_S.
    const u = await newUser(t.app, 'late');
    const a = await refresh(u.refreshToken);
    await withClient(stack.owner, (c) =>
      c.query(`UPDATE refresh_tokens SET revoked_at = revoked_at - make_interval(secs => $2::int) WHERE token_hash = $1`, [sha(u.refreshToken), t.config.REFRESH_REUSE_GRACE_S + 1]),
    );
    const late = await refresh(u.refreshToken);
    expect([late.status, late.body.error.code]).toEqual([401, 'REFRESH_REUSED']);
    const dead = await refresh(a.body.refreshToken);
    expect([dead.status, dead.body.error.code]).toEqual([401, 'REFRESH_REVOKED']);
    expect((await tokens(u.id)).filter((x) => x.live)).toEqual([]);

    // An older token, within the grace: R0 → R1 → R2, then R0 (only R1 is R2's immediate predecessor).
    const v = await newUser(t.app, 'older');
    const r1 = await refresh(v.refreshToken);
    const r2 = await refresh(r1.body.refreshToken);
    const old = await refresh(v.refreshToken);
    expect([old.status, old.body.error.code]).toEqual([401, 'REFRESH_REUSED']);
    expect([(await refresh(r2.body.refreshToken)).body.error.code, (await refresh(r1.body.refreshToken)).body.error.code]).toEqual(['REFRESH_REVOKED', 'REFRESH_REUSED']);
    expect((await tokens(v.id)).filter((x) => x.live)).toEqual([]);

    // The successor was logged out: its predecessor gets nothing back, even within the grace.
    const w = await newUser(t.app, 'gone');
    const w1 = await refresh(w.refreshToken);
    expect((await call(t.app, 'POST', '/api/auth/logout', { body: { refreshToken: w1.body.refreshToken } })).status).toBe(204);
    expect((await refresh(w.refreshToken)).status).toBe(401);
    expect((await tokens(w.id)).filter((x) => x.live)).toEqual([]);

    // REFRESH_REUSE_GRACE_S=0: the second use is a reuse at once.
    const off = await buildApp(stack, { REFRESH_REUSE_GRACE_S: '0' });
    try {
      const x = await newUser(off.app, 'nograce');
      const x1 = await call(off.app, 'POST', '/api/auth/refresh', { body: { refreshToken: x.refreshToken } });
      const again = await call(off.app, 'POST', '/api/auth/refresh', { body: { refreshToken: x.refreshToken } });
      expect([again.status, again.body.error.code]).toEqual([401, 'REFRESH_REUSED']);
      expect((await call(off.app, 'POST', '/api/auth/refresh', { body: { refreshToken: x1.body.refreshToken } })).body.error.code).toBe('REFRESH_REVOKED');
    } finally {
      await off.close();
    }
  });
});

describe('passwords that are easy to guess', () => {
  it('common, trivial or personal passwords are refused: 400 VALIDATION naming password, saying why; no account is created', async () => {
    const run = `${process.pid}-${Date.now()}`;
    const register = (email: string, password: string, displayName = 'Weak') => call(t.app, 'POST', '/api/auth/register', { body: { email, password, displayName } });
    const cases: [string, string][] = [
      ['1234567890', 'it is one of the most common passwords'],
      [' '.repeat(10), 'it repeats one character'],
      ['qwertyuiop', 'it is one of the most common passwords'],
      ['password1234', 'it is a small variation of a commonly used password'],
      ['abcdefghijkl', 'it is a sequence like "abcd" or "1234"'],
    ];
    const emails: string[] = [];
    for (const [i, [password, why]] of cases.entries()) {
      emails.push(`weak-${i}-${run}@example.com`);
      const r = await register(emails.at(-1)!, password);
      const message = `is too easy to guess: ${why}. Use a longer passphrase of several uncommon words`;
      expect({ status: r.status, error: r.body.error }, JSON.stringify(password)).toEqual({ status: 400, error: { code: 'VALIDATION', message: `password: ${message}`, details: [{ field: 'password', message }] } });
    }
    // Built from the account's own e-mail or name.
    emails.push(`grace.hopper-${run}@example.com`);
    const own = await register(emails.at(-1)!, 'gracehopper1906', 'Grace Hopper');
    expect([own.status, own.body.error.message]).toEqual([400, 'password: is too easy to guess: it contains your e-mail address or name. Use a longer passphrase of several uncommon words']);
    const n = await withClient(stack.owner, (c) => c.query(`SELECT count(*)::int AS n FROM users WHERE email = ANY($1)`, [emails]));
    expect(n.rows[0].n).toBe(0);
    // A passphrase is fine.
    expect((await register(`strong-${run}@example.com`, 'violet-anchor-museum-47')).status).toBe(201);
  });

  it('a NUL byte in a text field is 400 naming the field, not a 500 (displayName, email, password)', async () => {
    const run = `${process.pid}-${Date.now()}`;
    const message = 'must not contain a NUL character (\\u0000)';
    const r = await call(t.app, 'POST', '/api/auth/register', { body: { email: `nul-${run}@example.com`, password: 'violet-anchor-museum-47', displayName: 'Ada\u0000Lovelace' } });
    expect({ status: r.status, error: r.body.error }).toEqual({ status: 400, error: { code: 'VALIDATION', message: `displayName: ${message}`, details: [{ field: 'displayName', message }] } });
    const n = await withClient(stack.owner, (c) => c.query(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [`nul-${run}@example.com`]));
    expect(n.rows[0].n).toBe(0);
    const pw = await call(t.app, 'POST', '/api/auth/login', { body: { email: `nul-${run}@example.com`, password: 'violet\u0000anchor' } });
    expect([pw.status, pw.body.error.message]).toEqual([400, `password: ${message}`]);
    const email = await call(t.app, 'POST', '/api/auth/login', { body: { email: `nul\u0000-${run}@example.com`, password: 'violet-anchor' } });
    expect([email.status, email.body.error.code, email.body.error.details[0].field]).toEqual([400, 'VALIDATION', 'email']);
  });
});

describe('bad input', () => {
  it('malformed JSON is 400', async () => {
    const r = await call(t.app, 'POST', '/api/auth/login', { raw: '{"email": "a@b.c", ' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('BAD_REQUEST');
    expect(r.body.error.message).toMatch(/JSON/i);
  });

  it('validation errors name the field; unknown fields are refused', async () => {
    const r = await call(t.app, 'POST', '/api/auth/register', { body: { email: 'not-an-email', password: 'long-enough-password', displayName: 'x' } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION');
    expect(r.body.error.message).toMatch(/^email: /);
    const short = await call(t.app, 'POST', '/api/auth/register', { body: { email: 'a@example.com', password: 'short', displayName: 'x' } });
    expect(short.body.error.message).toBe('password: must be at least 10 characters');
    const extra = await call(t.app, 'POST', '/api/auth/login', { body: { email: 'a@example.com', password: 'x', isAdmin: true } });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toBe('isAdmin: unknown field');
  });

  it('a body over the route limit is 413', async () => {
    const r = await call(t.app, 'POST', '/api/auth/login', { body: { email: 'a@example.com', password: 'x'.repeat(20_000) } });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('an unknown route is a JSON 404 (after auth for /api/*)', async () => {
    const r = await call(t.app, 'GET', '/nope');
    expect(r).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });
});

describe('the frame', () => {
  it('/health touches nothing and names the package version', async () => {
    const pkg = JSON.parse((await import('node:fs')).readFileSync(new URL('../../templates/api/package.json', import.meta.url), 'utf8'));
    const r = await call(t.app, 'GET', '/health');
    expect(r).toMatchObject({ status: 200, body: { status: 'ok', service: 'api', version: pkg.version } });
  });

  it('request id on every response (given one is echoed), secure headers, one JSON log line without secrets', async () => {
    const u = await newUser(t.app, 'frame');
    const before = t.log.lines.length;
    const r = await call(t.app, 'POST', '/api/auth/login', { body: { email: u.email, password: u.password }, headers: { 'X-Request-Id': 'req-abc-123' } });
    expect(r.headers.get('x-request-id')).toBe('req-abc-123');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect((await call(t.app, 'GET', '/health')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const lines = t.log.lines.slice(before).filter((l) => l.msg === 'request');
    const mine = lines.find((l) => l.requestId === 'req-abc-123')!;
    expect(mine).toMatchObject({ method: 'POST', route: '/api/auth/login', status: 200, level: 'info' });
    expect(typeof mine.ms).toBe('number');
    const all = JSON.stringify(t.log.lines);
    expect(all).not.toContain(u.password);
    expect(all).not.toContain(r.body.accessToken);
    expect(all).not.toContain(r.body.refreshToken);
  });

  it('over real HTTP the same headers arrive (set on the Node response), on success, errors and preflight', async () => {
    const { server, port } = await listen(t.app.fetch, 0, '127.0.0.1');
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/health`, { headers: { Origin: 'http://127.0.0.1:3001', 'X-Request-Id': 'http-req-1' } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ status: 'ok', service: 'api' });
      expect(ok.headers.get('x-request-id')).toBe('http-req-1');
      expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
      expect(ok.headers.get('strict-transport-security')).toBe('max-age=15552000; includeSubDomains');
      expect(ok.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:3001');
      expect(ok.headers.get('content-type')).toMatch(/^application\/json/);
      const err = await fetch(`http://127.0.0.1:${port}/api/me`, { headers: { Origin: 'http://evil.example' } });
      expect(err.status).toBe(401);
      expect(err.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(err.headers.get('access-control-allow-origin')).toBeNull();
      expect(err.headers.get('www-authenticate')).toBe('Bearer');
      const pre = await fetch(`http://127.0.0.1:${port}/api/biometrics`, { method: 'OPTIONS', headers: { Origin: 'http://127.0.0.1:3001', 'Access-Control-Request-Method': 'POST' } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('CORS only for the configured web origin', async () => {
    const ok = await t.app.request('/health', { headers: { Origin: 'http://127.0.0.1:3001' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:3001');
    const bad = await t.app.request('/health', { headers: { Origin: 'http://evil.example' } });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await t.app.request('/api/me', { method: 'OPTIONS', headers: { Origin: 'http://127.0.0.1:3001', 'Access-Control-Request-Method': 'GET' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toContain('Authorization');
  });

  it('an internal error answers { error } with no stack trace', async () => {
    const broken = await buildApp(stack);
    try {
      broken.app.get('/boom', () => {
        throw new Error('secret internals at /src/x.ts:12');
      });
      const r = await call(broken.app, 'GET', '/boom');
      expect(r).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } }, headers: expect.anything() });
    } finally {
      await broken.close();
    }
  });

  it('/openapi.json documents every route with its security', async () => {
    const r = await call(t.app, 'GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    const paths = Object.keys(r.body.paths);
    for (const p of ['/health', '/health/ready', '/api/health/neo4j', '/api/auth/register', '/api/auth/login', '/api/auth/refresh', '/api/auth/logout', '/api/me']) {
      expect(paths).toContain(p);
    }
    expect(r.body.paths['/api/me'].get.security).toEqual([{ bearer: [] }]);
    // Every route the app answers is in the document (OpenAPI writes :id as {id}).
    const served = t.app.routes
      .filter((x) => x.method !== 'ALL' && !x.path.includes('*'))
      .map((x) => `${x.method.toLowerCase()} ${x.path.replace(/:(\w+)/g, '{$1}')}`);
    const documented = Object.entries(r.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(served.length).toBeGreaterThan(20);
    // Every /api route except the public auth and Neo4j-health ones declares the bearer scheme.
    const publicApi = ['/api/auth/register', '/api/auth/login', '/api/auth/refresh', '/api/auth/logout', '/api/health/neo4j'];
    for (const [p, ops] of Object.entries(r.body.paths as Record<string, Record<string, { security?: unknown }>>)) {
      if (!p.startsWith('/api/')) continue;
      for (const [m, op] of Object.entries(ops)) expect(op.security, `${m} ${p}`).toEqual(publicApi.includes(p) ? undefined : [{ bearer: [] }]);
    }
    expect([...new Set(served)].sort()).toEqual([...new Set([...documented, 'get /openapi.json'])].sort());
    expect(r.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('/metrics: Prometheus text with request counts per route and status, and the pg pool gauges', async () => {
    await call(t.app, 'GET', '/health');
    const res = await t.app.request('/metrics');
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/helfy_http_requests_total\{method="GET",route="\/health",status="200"\} \d+/);
    expect(text).toMatch(/helfy_http_requests_total\{method="POST",route="\/api\/auth\/login",status="401"\} \d+/);
    expect(text).toMatch(/helfy_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/health",status="200"\} \d+/);
    expect(text).toMatch(/helfy_pg_pool_connections\{state="total"\} \d+/);
    expect(text).toMatch(/helfy_neo4j_pool_connections\{state="idle"\}/);
  });

  it('the API role cannot change the schema (connects as helfy_api, data only); no privileged-role warning', async () => {
    expect(t.log.lines.filter((l) => String(l.msg).includes('privileged role'))).toEqual([]);
    const r = await t.deps.pool.query('SELECT current_user AS u');
    expect(r.rows[0].u).toBe('helfy_api');
    await expect(t.deps.pool.query('CREATE TABLE x (a int)')).rejects.toMatchObject({ code: '42501' });
  });
});

describe('X-Forwarded-For from loopback only with the web server\'s PROXY_SECRET (native runtime: every local program is 127.0.0.1)', () => {
  const SECRET = randomBytes(24).toString('base64url');

  /** `n` wrong passwords (unknown accounts), one at a time over real HTTP from 127.0.0.1, each with another X-Forwarded-For. */
  async function failures(app: TestApp['app'], n: number, run: string, proxySecret: string | undefined): Promise<{ statuses: number[]; ips: string[] }> {
    const { server, port } = await listen(app.fetch, 0, '127.0.0.1');
    try {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i + 1}` };
        if (proxySecret !== undefined) headers['x-proxy-secret'] = proxySecret;
        const r = await fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', headers, body: JSON.stringify({ email: `${run}-${i}@example.com`, password: 'wrong-password-here' }) });
        statuses.push(r.status);
      }
      const rows = await withClient(stack.owner, (c) => c.query(`SELECT DISTINCT host(ip) AS ip FROM audit_log WHERE metadata->>'email' LIKE $1 ORDER BY 1`, [`${run}-%`]));
      return { statuses, ips: rows.rows.map((r) => r.ip as string) };
    } finally {
      await new Promise((r) => server.close(r));
    }
  }

  const clean = () => withClient(stack.owner, (c) => c.query(`DELETE FROM audit_log WHERE ip = '127.0.0.1' OR metadata->>'email' LIKE 'proof-%'`));

  it('22 wrong passwords with a changing X-Forwarded-For and no, a wrong or a truncated secret: counted as 127.0.0.1, the 21st is 429', async () => {
    const app = await buildApp(stack, { TRUST_PROXY: '127.0.0.1', PROXY_SECRET: SECRET, LOGIN_MAX_FAILURES_PER_ADDRESS: '20', LOGIN_MAX_FAILURES_PER_ACCOUNT: '5' });
    try {
      for (const [k, proof] of [undefined, 'a-wrong-proxy-secret-0123456789ab', SECRET.slice(0, -1), ''].entries()) {
        await clean();
        const r = await failures(app.app, 22, `proof-bad${k}-${Date.now()}`, proof);
        expect(r.statuses, `secret #${k}`).toEqual([...Array(20).fill(401), 429, 429]);
        expect(r.ips).toEqual(['127.0.0.1']);
      }
    } finally {
      await app.close();
      await clean();
    }
  });

  it("the web server's X-Forwarded-For (with the secret) is still believed: 22 browsers, 22 addresses, no 429", async () => {
    const app = await buildApp(stack, { TRUST_PROXY: '127.0.0.1', PROXY_SECRET: SECRET, LOGIN_MAX_FAILURES_PER_ADDRESS: '20', LOGIN_MAX_FAILURES_PER_ACCOUNT: '5' });
    try {
      await clean();
      const r = await failures(app.app, 22, `proof-ok-${Date.now()}`, SECRET);
      expect(r.statuses).toEqual(Array(22).fill(401));
      expect(r.ips).toHaveLength(22);
      expect(r.ips).not.toContain('127.0.0.1');
      expect(r.ips).toContain('198.51.100.22');
      // The secret is in no log line.
      expect(JSON.stringify(app.log.lines)).not.toContain(SECRET);
    } finally {
      await app.close();
      await clean();
    }
  });

  it('PROXY_SECRET is a secret: too short is refused by name, never shown; it is not among the listed TRUST_PROXY entries', async () => {
    const { ConfigError, loadConfig } = await import('../../templates/api/src/config.js');
    let err: unknown;
    try {
      loadConfig({ ...stack.env, TRUST_PROXY: '127.0.0.1', PROXY_SECRET: 'short-secret' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('PROXY_SECRET is invalid (must be at least 24 characters)');
    const c = loadConfig({ ...stack.env, TRUST_PROXY: '127.0.0.1', PROXY_SECRET: SECRET });
    expect(c.TRUST_PROXY).toEqual(['127.0.0.1']);
    expect(JSON.stringify(c.TRUST_PROXY)).not.toContain(SECRET);
  });
});
