/** Bearer authentication for /api/* routes: sets c.var.userId or answers 401. */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app.js';
import { ApiError } from '../lib/errors.js';
import { verifyAccessToken } from './tokens.js';

export function requireAuth(secret: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const h = c.req.header('Authorization');
    if (!h) throw new ApiError(401, 'TOKEN_MISSING', 'this route needs an access token (Authorization: Bearer <token>)', { 'WWW-Authenticate': 'Bearer' });
    const m = /^Bearer\s+([A-Za-z0-9_\-.]+)$/.exec(h);
    if (!m) throw new ApiError(401, 'TOKEN_INVALID', 'the Authorization header must be "Bearer <token>"', { 'WWW-Authenticate': 'Bearer error="invalid_request"' });
    c.set('userId', await verifyAccessToken(m[1]!, secret));
    await next();
  };
}
