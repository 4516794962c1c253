/**
 * The browser session: the API's tokens live in two httpOnly cookies that only this server reads
 * (never localStorage, never readable by page scripts). An expired access token is refreshed here,
 * before the page renders, with the refresh token (rotated by the API on every use).
 */
import type { Context } from 'hono';
import { generateCookie, getCookie } from 'hono/cookie';
import { api, ApiResponseError, routes, type Tokens } from './api.js';
import { addHeader, clientIp } from './context.js';

export const ACCESS_COOKIE = 'helfy_at';
export const REFRESH_COOKIE = 'helfy_rt';
const REFRESH_MAX_AGE_S = 30 * 24 * 3600;

export interface Session {
  accessToken: string;
}

/** `exp` of a JWT, without verifying it (the API verifies; this only decides when to refresh). */
export function jwtExpiry(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

function secure(c: Context): boolean {
  if (process.env.COOKIE_SECURE === 'true') return true;
  if (process.env.COOKIE_SECURE === 'false') return false;
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

export function setSessionCookies(c: Context, t: Tokens): void {
  const exp = jwtExpiry(t.accessToken);
  const accessMaxAge = t.expiresIn ?? (exp ? Math.max(1, exp - Math.floor(Date.now() / 1000)) : 900);
  const base = { httpOnly: true, sameSite: 'Lax' as const, path: '/', secure: secure(c) };
  addHeader(c, 'Set-Cookie', generateCookie(ACCESS_COOKIE, t.accessToken, { ...base, maxAge: accessMaxAge }));
  const refreshExp = t.refreshExpiresAt ? Math.floor((Date.parse(t.refreshExpiresAt) - Date.now()) / 1000) : NaN;
  addHeader(c, 'Set-Cookie', generateCookie(REFRESH_COOKIE, t.refreshToken, { ...base, maxAge: refreshExp > 0 ? refreshExp : REFRESH_MAX_AGE_S }));
}

export function clearSessionCookies(c: Context): void {
  for (const name of [ACCESS_COOKIE, REFRESH_COOKIE]) {
    addHeader(c, 'Set-Cookie', generateCookie(name, '', { httpOnly: true, sameSite: 'Lax', path: '/', maxAge: 0, secure: secure(c) }));
  }
}

/**
 * The session of this request: the access token when it is still valid for 30 s, else a refreshed
 * one (new cookies set on the response), else none (cookies cleared when the refresh was refused).
 */
export async function resolveSession(c: Context): Promise<Session | null> {
  const access = getCookie(c, ACCESS_COOKIE);
  const refresh = getCookie(c, REFRESH_COOKIE);
  const now = Date.now() / 1000;
  if (access) {
    const exp = jwtExpiry(access);
    if (exp === undefined || exp > now + 30 || !refresh) return { accessToken: access };
  }
  if (!refresh) return null;
  try {
    const t = await refreshOnce(refresh, clientIp(c));
    setSessionCookies(c, t);
    return { accessToken: t.accessToken };
  } catch (e) {
    if (e instanceof ApiResponseError && e.status < 500) {
      clearSessionCookies(c);
      return null;
    }
    // API down: keep the cookies; the page says the API is unreachable.
    return access ? { accessToken: access } : null;
  }
}

/**
 * One refresh per refresh token at a time. The API rotates the token on use and treats a second
 * use as theft (it revokes the whole family), so two tabs or parallel requests arriving with the
 * same expired session must share one refresh instead of each making their own. The answer is
 * kept for a few seconds for requests that were already on their way with the old cookie.
 */
const inFlight = new Map<string, Promise<Tokens>>();
const KEEP_MS = 10_000;

export function refreshOnce(refreshToken: string, ip: string | undefined): Promise<Tokens> {
  let p = inFlight.get(refreshToken);
  if (!p) {
    p = api<Tokens>(routes.refresh, { body: { refreshToken }, clientIp: ip });
    inFlight.set(refreshToken, p);
    const forget = () => setTimeout(() => inFlight.delete(refreshToken), KEEP_MS).unref();
    p.then(forget, () => inFlight.delete(refreshToken));
  }
  return p;
}
