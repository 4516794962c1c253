/** /api/auth/*: register, login, refresh, logout, me. */
import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../app.js';
import { clientAddress, trustList } from '../auth/client-address.js';
import { AuthService, type RequestMeta } from '../auth/service.js';
import type { Deps } from '../deps.js';
import { bodyLimit, ErrorBody, jsonBody, NonBlank, secured } from './common.js';

// The document states zod's own e-mail expression (a format: email would admit addresses zod refuses).
const Email = z
  .string()
  .trim()
  .max(254)
  .email()
  .openapi({ example: 'ada@example.com', format: undefined, pattern: `^${z.regexes.email.source.slice(1, -1)}$` });
const Password = z.string().min(10, 'must be at least 10 characters').max(200);
const SessionSchema = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().openapi({ description: 'access token lifetime in seconds' }),
    refreshToken: z.string(),
    refreshExpiresAt: z.string(),
  })
  .openapi('Session');
const UserSchema = z.object({ id: z.string().uuid(), email: z.string(), displayName: z.string(), createdAt: z.string() }).openapi('User');
const RefreshBody = z.strictObject({ refreshToken: z.string().min(20).max(200) });

export function registerAuthRoutes(app: App, deps: Deps): void {
  const auth = new AuthService(deps.pool, deps.db, deps.config);
  const trusted = deps.config.TRUST_PROXY.length ? trustList(deps.config.TRUST_PROXY) : undefined;
  const meta = (c: Parameters<Parameters<App['openapi']>[1]>[0]): RequestMeta => ({
    ip: clientAddress(c, trusted),
    userAgent: c.req.header('User-Agent') ?? null,
  });
  const limit = bodyLimit(8 * 1024);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/register',
      tags: ['auth'],
      summary: 'Create an account; returns the user and a session',
      middleware: [limit] as const,
      request: { body: jsonBody(z.strictObject({ email: Email, password: Password, displayName: NonBlank(100) })) },
      responses: {
        201: { description: 'Created', content: { 'application/json': { schema: z.object({ user: UserSchema, session: SessionSchema }) } } },
        400: ErrorBody('Invalid body, or a password too easy to guess (common, a pattern, or the e-mail/name)'),
        409: ErrorBody('Email already registered'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const r = await auth.register(body, meta(c));
      return c.json(r, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/login',
      tags: ['auth'],
      summary: 'Log in with email and password (failed attempts are rate-limited per account and address)',
      middleware: [limit] as const,
      request: { body: jsonBody(z.strictObject({ email: Email, password: z.string().min(1).max(200) })) },
      responses: {
        200: { description: 'Logged in: the session and the user', content: { 'application/json': { schema: SessionSchema.extend({ user: UserSchema }) } } },
        400: ErrorBody('Invalid body'),
        401: ErrorBody('Wrong email or password'),
        429: ErrorBody('Too many failed attempts (see Retry-After)'),
      },
    }),
    async (c) => c.json(await auth.login(c.req.valid('json'), meta(c)), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/refresh',
      tags: ['auth'],
      summary: 'Exchange a refresh token for a new session (the old token is rotated; reusing it revokes its family)',
      middleware: [limit] as const,
      request: { body: jsonBody(RefreshBody) },
      responses: {
        200: {
          description: 'New session (within REFRESH_REUSE_GRACE_S of a rotation, the just-rotated token gets the live successor again)',
          content: { 'application/json': { schema: SessionSchema } },
        },
        401: ErrorBody('Invalid, expired, revoked or reused token'),
      },
    }),
    async (c) => c.json(await auth.refresh(c.req.valid('json').refreshToken, meta(c)), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/logout',
      tags: ['auth'],
      summary: 'Revoke a refresh token',
      middleware: [limit] as const,
      request: { body: jsonBody(RefreshBody) },
      responses: { 204: { description: 'Logged out' } },
    }),
    async (c) => {
      await auth.logout(c.req.valid('json').refreshToken, meta(c));
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/me',
      tags: ['auth'],
      summary: 'The caller',
      security: secured,
      responses: { 200: { description: 'The user', content: { 'application/json': { schema: UserSchema } } }, 401: ErrorBody('No valid token') },
    }),
    async (c) => {
      const u = await auth.me(c.get('userId'));
      if (!u) return c.json({ error: { code: 'ACCOUNT_GONE', message: 'the account of this token no longer exists' } }, 401);
      return c.json({ id: u.id, email: u.email, displayName: u.displayName, createdAt: u.createdAt.toISOString() }, 200);
    },
  );
}
