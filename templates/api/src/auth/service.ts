/**
 * Accounts and sessions: register, log in (rate-limited by counting auth.login_failed rows of
 * audit_log per account and per client address), refresh with rotation, reuse detection and a
 * short grace for concurrent refreshes, log out. Every event is written to audit_log.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Config } from '../config.js';
import { inTransaction, type Db } from '../db/client.js';
import { users, type AuditAction } from '../db/schema.js';
import { ApiError } from '../lib/errors.js';
import { hashPassword, verifyDummy, verifyPassword } from './password.js';
import { assertStrongPassword } from './password-policy.js';
import { hashRefreshToken, refreshTokenFor, signAccessToken } from './tokens.js';

export interface Session {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  refreshExpiresAt: string;
}

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

type Executor = Pick<pg.Pool, 'query'> | pg.PoolClient;

export async function audit(
  q: Executor,
  action: AuditAction,
  userId: string | null,
  meta: RequestMeta,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  await q.query(`INSERT INTO audit_log (action, user_id, ip, metadata) VALUES ($1, $2, $3, $4)`, [
    action,
    userId,
    meta.ip,
    JSON.stringify({ ...metadata, ...(meta.userAgent ? { userAgent: meta.userAgent.slice(0, 200) } : {}) }),
  ]);
}

/** Revokes a refresh token and every token issued from it by rotation; returns how many it revoked. */
async function revokeFamily(q: Executor, tokenId: string): Promise<number> {
  const r = await q.query(
    `WITH RECURSIVE fam AS (
       SELECT id, replaced_by FROM refresh_tokens WHERE id = $1
       UNION SELECT rt.id, rt.replaced_by FROM refresh_tokens rt JOIN fam ON rt.id = fam.replaced_by
     )
     UPDATE refresh_tokens SET revoked_at = now() WHERE id IN (SELECT id FROM fam) AND revoked_at IS NULL`,
    [tokenId],
  );
  return r.rowCount ?? 0;
}

export class AuthService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly db: Db,
    private readonly config: Pick<
      Config,
      'JWT_SECRET' | 'ACCESS_TOKEN_TTL_S' | 'REFRESH_TOKEN_TTL_S' | 'REFRESH_REUSE_GRACE_S' | 'LOGIN_MAX_FAILURES_PER_ACCOUNT' | 'LOGIN_MAX_FAILURES_PER_ADDRESS' | 'LOGIN_WINDOW_S'
    >,
  ) {}

  private async issue(q: Executor, userId: string, meta: RequestMeta): Promise<Session & { refreshId: string }> {
    const id = randomUUID();
    const { token, hash } = refreshTokenFor(id, this.config.JWT_SECRET);
    const expiresAt = new Date(Date.now() + this.config.REFRESH_TOKEN_TTL_S * 1000);
    await q.query(`INSERT INTO refresh_tokens (id, user_id, token_hash, expires_at, user_agent) VALUES ($1, $2, $3, $4, $5)`, [
      id,
      userId,
      hash,
      expiresAt,
      meta.userAgent?.slice(0, 200) ?? null,
    ]);
    return { ...(await this.sessionOf(userId, token, expiresAt)), refreshId: id };
  }

  private async sessionOf(userId: string, refreshToken: string, refreshExpiresAt: Date): Promise<Session> {
    return {
      accessToken: await signAccessToken(userId, this.config.JWT_SECRET, this.config.ACCESS_TOKEN_TTL_S),
      tokenType: 'Bearer',
      expiresIn: this.config.ACCESS_TOKEN_TTL_S,
      refreshToken,
      refreshExpiresAt: refreshExpiresAt.toISOString(),
    };
  }

  async register(input: { email: string; password: string; displayName: string }, meta: RequestMeta) {
    await assertStrongPassword(input.password, input);
    const passwordHash = await hashPassword(input.password);
    return inTransaction(this.pool, async (client) => {
      let user: { id: string; email: string; display_name: string; created_at: Date };
      try {
        const r = await client.query(
          `INSERT INTO users (email, display_name, password_hash) VALUES ($1, $2, $3) RETURNING id, email, display_name, created_at`,
          [input.email, input.displayName, passwordHash],
        );
        user = r.rows[0];
      } catch (e) {
        if ((e as { code?: string }).code === '23505') throw new ApiError(409, 'EMAIL_TAKEN', 'an account with this email already exists');
        throw e;
      }
      await audit(client, 'user.created', user.id, meta, { email: input.email.toLowerCase() });
      const { refreshId: _, ...session } = await this.issue(client, user.id, meta);
      return { user: { id: user.id, email: user.email, displayName: user.display_name, createdAt: user.created_at.toISOString() }, session };
    });
  }

  /** 429 with Retry-After when the account or the address has too many recent failures. */
  private async checkRateLimit(q: Executor, email: string, ip: string | null): Promise<void> {
    const w = this.config.LOGIN_WINDOW_S;
    // The failures that count: within the window, and (per account) after the last successful log-in.
    // Both reads are bounded by the partial indexes audit_log_login_email_idx / _failed_ip_idx.
    const r = await q.query(
      `WITH acct AS (
         SELECT created_at FROM audit_log
          WHERE action = 'auth.login_failed' AND created_at > now() - make_interval(secs => $2)
            AND metadata->>'email' = $1
            AND created_at > coalesce((SELECT max(created_at) FROM audit_log
                                        WHERE action = 'auth.login' AND created_at > now() - make_interval(secs => $2)
                                          AND metadata->>'email' = $1), '-infinity')
          ORDER BY created_at DESC LIMIT $3
       ), addr AS (
         SELECT created_at FROM audit_log
          WHERE $4::inet IS NOT NULL AND action = 'auth.login_failed' AND created_at > now() - make_interval(secs => $2)
            AND ip = $4::inet
          ORDER BY created_at DESC LIMIT $5
       )
       SELECT (SELECT count(*) FROM acct)::int AS acct_n,
              (SELECT extract(epoch FROM min(created_at) + make_interval(secs => $2) - now()) FROM acct) AS acct_retry,
              (SELECT count(*) FROM addr)::int AS addr_n,
              (SELECT extract(epoch FROM min(created_at) + make_interval(secs => $2) - now()) FROM addr) AS addr_retry`,
      [email, w, this.config.LOGIN_MAX_FAILURES_PER_ACCOUNT, ip, this.config.LOGIN_MAX_FAILURES_PER_ADDRESS],
    );
    const x = r.rows[0];
    const limited: number[] = [];
    if (x.acct_n >= this.config.LOGIN_MAX_FAILURES_PER_ACCOUNT) limited.push(Number(x.acct_retry));
    if (x.addr_n >= this.config.LOGIN_MAX_FAILURES_PER_ADDRESS) limited.push(Number(x.addr_retry));
    if (limited.length) {
      const retry = Math.max(1, Math.ceil(Math.max(...limited)));
      throw new ApiError(429, 'TOO_MANY_ATTEMPTS', `too many failed log-ins; try again in ${retry} s`, { 'Retry-After': String(retry) });
    }
  }

  /**
   * Counts the recent failures and, if under the limits, records this attempt as a failure
   * *before* the password is checked (reason `pending`), all under transaction-scoped advisory
   * locks on the account and the address. Parallel attempts therefore queue for a few
   * milliseconds (not for the scrypt run) and each one sees the ones before it: at most the limit
   * get to verify a password per window. Returns the audit row's id.
   */
  private async reserveAttempt(email: string, meta: RequestMeta): Promise<string> {
    return inTransaction(this.pool, async (c) => {
      // Sorted keys: two requests never wait for each other's second lock in opposite order.
      const keys = [`login:account:${email}`, ...(meta.ip ? [`login:address:${meta.ip}`] : [])].sort();
      for (const k of keys) await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [k]);
      await this.checkRateLimit(c, email, meta.ip);
      const r = await c.query(`INSERT INTO audit_log (action, ip, metadata) VALUES ('auth.login_failed', $1, $2) RETURNING id`, [
        meta.ip,
        JSON.stringify({ email, reason: 'pending', ...(meta.userAgent ? { userAgent: meta.userAgent.slice(0, 200) } : {}) }),
      ]);
      return String(r.rows[0].id);
    });
  }

  async login(input: { email: string; password: string }, meta: RequestMeta): Promise<Session & { user: { id: string; email: string; displayName: string; createdAt: string } }> {
    const email = input.email.toLowerCase();
    const attemptId = await this.reserveAttempt(email, meta);
    const r = await this.pool.query(`SELECT id, email, display_name, created_at, password_hash FROM users WHERE lower(email) = $1`, [email]);
    const row = r.rows[0] as { id: string; email: string; display_name: string; created_at: Date; password_hash: string | null } | undefined;
    const ok = row?.password_hash ? await verifyPassword(input.password, row.password_hash) : await verifyDummy(input.password);
    if (!row || !ok) {
      // The reserved row becomes the failure it already counted as.
      await this.pool.query(`UPDATE audit_log SET user_id = $2, metadata = metadata || $3::jsonb WHERE id = $1`, [
        attemptId,
        row?.id ?? null,
        JSON.stringify({ reason: row ? 'wrong_password' : 'unknown_account' }),
      ]);
      throw new ApiError(401, 'INVALID_CREDENTIALS', 'email or password is wrong');
    }
    return inTransaction(this.pool, async (client) => {
      // A success is not a failure: the reserved row goes (the per-address count must not see it).
      await client.query(`DELETE FROM audit_log WHERE id = $1`, [attemptId]);
      const { refreshId: _, ...session } = await this.issue(client, row.id, meta);
      await audit(client, 'auth.login', row.id, meta, { email });
      return { ...session, user: { id: row.id, email: row.email, displayName: row.display_name, createdAt: row.created_at.toISOString() } };
    });
  }

  /**
   * Rotates a refresh token. A token that was already rotated (replaced) is a reuse: the whole
   * family — every token issued from it since — is revoked and the call answers 401. Except within
   * the grace (REFRESH_REUSE_GRACE_S, default 20 s) after its rotation, for the immediate
   * predecessor of the family's live token: see graceSession().
   */
  async refresh(token: string, meta: RequestMeta): Promise<Session> {
    const hash = hashRefreshToken(token);
    // A reuse must COMMIT the revocation and still answer 401: the transaction returns the error
    // to throw once it is committed; errors thrown inside roll back.
    const outcome = await inTransaction(this.pool, async (client): Promise<Session | ApiError> => {
      // `recent`: rotated within the grace (revoked_at of a replaced token is its rotation time:
      // a family revocation only touches tokens not yet revoked).
      const r = await client.query(
        `SELECT id, user_id, expires_at, revoked_at, replaced_by,
                $2::int > 0 AND revoked_at > now() - make_interval(secs => $2::int) AS recent
           FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
        [hash, this.config.REFRESH_REUSE_GRACE_S],
      );
      const t = r.rows[0] as { id: string; user_id: string; expires_at: Date; revoked_at: Date | null; replaced_by: string | null; recent: boolean | null } | undefined;
      if (!t) throw new ApiError(401, 'REFRESH_INVALID', 'the refresh token is not valid');
      if (t.revoked_at) {
        if (!t.replaced_by) throw new ApiError(401, 'REFRESH_REVOKED', 'the refresh token was revoked; log in again');
        const again = t.recent ? await this.graceSession(client, { id: t.id, userId: t.user_id, successorId: t.replaced_by }, meta) : undefined;
        if (again) return again;
        const revoked = await revokeFamily(client, t.id);
        await audit(client, 'auth.token_revoked', t.user_id, meta, { reason: 'refresh_token_reuse', tokenId: t.id, revoked });
        return new ApiError(401, 'REFRESH_REUSED', 'this refresh token was already used; every session of its family is revoked — log in again');
      }
      if (t.expires_at.getTime() <= Date.now()) throw new ApiError(401, 'REFRESH_EXPIRED', 'the refresh token has expired; log in again');
      const { refreshId, ...session } = await this.issue(client, t.user_id, meta);
      await client.query(`UPDATE refresh_tokens SET revoked_at = now(), replaced_by = $2 WHERE id = $1`, [t.id, refreshId]);
      await audit(client, 'auth.token_refreshed', t.user_id, meta, { tokenId: t.id, newTokenId: refreshId });
      return session;
    });
    if (outcome instanceof ApiError) throw outcome;
    return outcome;
  }

  /**
   * Two tabs (or a retried request) refreshing with the same token at once: the first rotates it,
   * the second finds it replaced a moment ago. Within the grace, when the token it was replaced by
   * is still the family's live token (not rotated again, not revoked, not expired), the second one
   * gets that same live refresh token (re-derived from its id: tokens.ts refreshTokenFor) and a new
   * access token; nothing is revoked or added, so both tabs hold the one live token of the family
   * and a later replay of either old token is still a reuse. Anything else — after the grace, an
   * older token, a successor already rotated or revoked — returns undefined: the caller revokes.
   */
  private async graceSession(q: Executor, t: { id: string; userId: string; successorId: string }, meta: RequestMeta): Promise<Session | undefined> {
    const r = await q.query(
      `SELECT id, token_hash, expires_at FROM refresh_tokens
        WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now() FOR UPDATE`,
      [t.successorId, t.userId],
    );
    const s = r.rows[0] as { id: string; token_hash: string; expires_at: Date } | undefined;
    if (!s) return undefined;
    const { token, hash } = refreshTokenFor(s.id, this.config.JWT_SECRET);
    // Issued before refresh tokens were derived, or under another JWT_SECRET: cannot be handed out again.
    if (hash !== s.token_hash) return undefined;
    await audit(q, 'auth.token_refreshed', t.userId, meta, { tokenId: t.id, newTokenId: s.id, grace: true });
    return this.sessionOf(t.userId, token, s.expires_at);
  }

  /** Revokes the given refresh token (and anything issued from it). Idempotent. */
  async logout(token: string, meta: RequestMeta): Promise<void> {
    const hash = hashRefreshToken(token);
    await inTransaction(this.pool, async (client) => {
      const r = await client.query(`SELECT id, user_id FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, [hash]);
      const t = r.rows[0] as { id: string; user_id: string } | undefined;
      if (!t) return;
      await revokeFamily(client, t.id);
      await audit(client, 'auth.logout', t.user_id, meta, { tokenId: t.id });
    });
  }

  async me(userId: string) {
    const r = await this.db
      .select({ id: users.id, email: users.email, displayName: users.displayName, createdAt: users.createdAt, timezone: users.timezone })
      .from(users)
      .where(sql`${users.id} = ${userId}`);
    return r[0];
  }
}
