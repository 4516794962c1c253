/** Access tokens (JWT HS256, short-lived) and opaque refresh tokens (stored as sha256 only). */
import { createHash, randomBytes } from 'node:crypto';
import { sign, verify } from 'hono/jwt';
import { JwtTokenExpired } from 'hono/utils/jwt/types';
import { ApiError } from '../lib/errors.js';

const ISSUER = 'helfy-api';

export async function signAccessToken(userId: string, secret: string, ttlS: number, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return sign({ sub: userId, iat, exp: iat + ttlS, iss: ISSUER, typ: 'access' }, secret, 'HS256');
}

/** The user id of a valid access token; 401 (expired / invalid) otherwise. */
export async function verifyAccessToken(token: string, secret: string): Promise<string> {
  try {
    const p = await verify(token, secret, { alg: 'HS256', iss: ISSUER });
    if (p.typ !== 'access' || typeof p.sub !== 'string') throw new Error('not an access token');
    return p.sub;
  } catch (e) {
    if (e instanceof JwtTokenExpired) throw new ApiError(401, 'TOKEN_EXPIRED', 'the access token has expired; refresh it', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    throw new ApiError(401, 'TOKEN_INVALID', 'the access token is invalid', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
}

export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
