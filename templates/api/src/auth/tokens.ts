/** Access tokens (JWT HS256, short-lived) and opaque refresh tokens (stored as sha256 only). */
import { createHash, createHmac } from 'node:crypto';
import { sign, verify } from 'hono/jwt';
import { JwtTokenExpired } from 'hono/utils/jwt/types';
import { ApiError } from '../lib/errors.js';

const ISSUER = 'helfy-api';

export async function signAccessToken(userId: string, secret: string, ttlS: number, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return sign({ sub: userId, iat, exp: iat + ttlS, iss: ISSUER, typ: 'access' }, secret, 'HS256');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Why a signature-checked payload is not one of our access tokens, or undefined when it is. Every
 * claim the code relies on must be there: hono's verify() checks `exp`, `iat` and `nbf` only when
 * present, so a correctly signed token without `exp` would otherwise be valid forever. `sub` must
 * be a uuid (it is bound as a user id: anything else would be a database error, not a 401).
 */
export function accessClaimsProblem(p: Record<string, unknown>): string | undefined {
  if (!isTime(p.exp)) return 'exp missing';
  if (!isTime(p.iat)) return 'iat missing';
  if (p.iat > p.exp) return 'iat after exp';
  if (p.iss !== ISSUER) return 'wrong iss';
  if (p.typ !== 'access') return 'not an access token';
  if (typeof p.sub !== 'string' || !UUID.test(p.sub)) return 'sub is not a user id';
  return undefined;
}

/** The user id of a valid access token; 401 (expired / invalid) otherwise. */
export async function verifyAccessToken(token: string, secret: string): Promise<string> {
  try {
    const p = await verify(token, secret, { alg: 'HS256', iss: ISSUER });
    const problem = accessClaimsProblem(p);
    if (problem) throw new Error(problem);
    return p.sub as string;
  } catch (e) {
    if (e instanceof JwtTokenExpired) throw new ApiError(401, 'TOKEN_EXPIRED', 'the access token has expired; refresh it', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    throw new ApiError(401, 'TOKEN_INVALID', 'the access token is invalid', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
}

/**
 * The refresh token of the refresh_tokens row `id`: base64url(HMAC-SHA256(k, id)), k derived from
 * JWT_SECRET for this use only. As unguessable as 32 random bytes (the id is a random uuid and k is
 * secret), still stored as its sha256 only — but the server can hand the same token out again:
 * the refresh grace (AuthService.refresh) gives a tab that lost the race the token the winner got,
 * without a stored copy and without a schema change. A database dump alone reveals no token; the
 * secret and the dump together would, but the secret alone already mints access tokens for anyone.
 */
export function refreshTokenFor(id: string, secret: string): { token: string; hash: string } {
  const key = createHmac('sha256', secret).update('helfy-api refresh-token key v1').digest();
  const token = createHmac('sha256', key).update(id).digest('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
