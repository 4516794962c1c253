/**
 * createApp(deps): the Hono application. Every dependency is injected, so tests build it against
 * real servers and call it with app.request(); src/server.ts serves it over HTTP.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import type { Deps } from './deps.js';
import { ApiError, DependencyError, dependencyOf } from './lib/errors.js';
import { validationHook } from './lib/validation.js';
import pkg from '../package.json' with { type: 'json' };
import { requireAuth } from './auth/middleware.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerBiometricRoutes } from './routes/biometrics.js';
import { registerLibraryRoutes } from './routes/library.js';
import { registerNutritionRoutes } from './routes/nutrition.js';
import { registerSummaryRoutes } from './routes/summaries.js';
import { registerWorkoutRoutes } from './routes/workouts.js';
import { Library } from './library/queries.js';
import { registerHealthRoutes } from './routes/health.js';
import { describeServer } from './routes/openapi.js';

/** /api/* routes that need no access token. */
const PUBLIC_API = new Set(['/api/auth/register', '/api/auth/login', '/api/auth/refresh', '/api/auth/logout', '/api/health/neo4j']);

export const VERSION: string = pkg.version;

export interface AppEnv {
  Variables: {
    requestId: string;
    /** Set by the auth middleware on /api/* routes. */
    userId: string;
  };
}

export type App = OpenAPIHono<AppEnv>;

/** hono/secure-headers' defaults (a JSON API: nothing to embed, nothing to sniff). */
const SECURITY_HEADERS: [string, string][] = [
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'SAMEORIGIN'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
];

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export function createApp(deps: Deps): App {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const { log, metrics } = deps;

  // The frame, in one middleware: request id, security headers and CORS are set *before* the
  // handler — on the Node response itself when served over HTTP (@hono/node-server passes it as
  // env.outgoing; its writeHead merges them, and the Web Response stays on node-server's fast
  // path), through c.header() otherwise (app.request() in tests) — then one structured log line
  // and the metrics. The route is the matched pattern (`/api/workouts/:id`), never the raw path,
  // so ids do not explode metric cardinality.
  const origin = deps.config.WEB_ORIGIN;
  app.use('*', async (c, next) => {
    const start = performance.now();
    // Over HTTP, read request headers from the Node request (a plain object); c.req.header()
    // would build a Web Headers object for every request.
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.headers;
    const header = incoming ? (name: string) => first(incoming[name]) : (name: string) => c.req.header(name);
    const given = header('x-request-id');
    const id = given && given.length <= 64 && /^[\w\-.:]+$/.test(given) ? given : randomUUID();
    c.set('requestId', id);
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    const set = outgoing && typeof outgoing.setHeader === 'function' ? (k: string, v: string) => void outgoing.setHeader(k, v) : (k: string, v: string) => c.header(k, v);
    set('X-Request-Id', id);
    for (const [k, v] of SECURITY_HEADERS) set(k, v);
    if (origin !== '') {
      set('Vary', 'Origin');
      if (header('origin') === origin) {
        set('Access-Control-Allow-Origin', origin);
        set('Access-Control-Expose-Headers', 'X-Request-Id, Retry-After');
        if (c.req.method === 'OPTIONS' && header('access-control-request-method')) {
          set('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
          set('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Request-Id');
          set('Access-Control-Max-Age', '600');
          return c.body(null, 204);
        }
      }
    }
    await next();
    const ms = performance.now() - start;
    let route = routePath(c, -1);
    if (route === '*' || route === '/*') route = 'unmatched';
    const status = c.res.status;
    const labels = { method: c.req.method, route, status: String(status) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, ms / 1000);
    log.info('request', { method: labels.method, route, status, ms: Math.round(ms * 10) / 10, requestId: id });
  });

  // A known path asked with a method it does not serve: 405 with the methods it does (HEAD comes
  // with GET in Hono), before auth and before the router could hand DELETE /api/nutrition/daily
  // to DELETE /api/nutrition/:id. An unknown path falls through to 404.
  const allowed = allowedMethods(app);
  app.use('*', async (c, next) => {
    const allow = allowed(c.req.path);
    if (allow && !allow.split(', ').includes(c.req.method)) {
      return c.json({ error: { code: 'METHOD_NOT_ALLOWED', message: `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}` } }, 405, { Allow: allow });
    }
    await next();
  });

  const auth = requireAuth(deps.config.JWT_SECRET);
  app.use('/api/*', (c, next) => (PUBLIC_API.has(c.req.path) ? next() : auth(c, next)));

  registerHealthRoutes(app, deps);
  registerAuthRoutes(app, deps);
  registerBiometricRoutes(app, deps);
  const library = new Library(deps.neo4j, { timeoutMs: deps.config.DEPENDENCY_TIMEOUT_MS });
  registerLibraryRoutes(app, deps, library);
  registerWorkoutRoutes(app, deps, library);
  registerNutritionRoutes(app, deps, library);
  registerSummaryRoutes(app, deps);

  // The routes' schemas plus what the frame answers (401, 400, 413, 503) and the checks made
  // outside the schemas (no NUL, time bounds relative to now): see routes/openapi.ts.
  app.get('/openapi.json', (c) => c.json(describeServer(app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'Helfy API', version: VERSION } }))));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });

  app.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      if (err instanceof DependencyError) log.warn('dependency unavailable', { dependency: err.dependency, requestId: c.get('requestId'), error: err.message });
      const body: { code: string; message: string; details?: unknown } = { code: err.code, message: err.message };
      if (err.details !== undefined) body.details = err.details;
      return c.json({ error: body }, err.status);
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 400 ? 'BAD_REQUEST' : status === 401 ? 'UNAUTHORIZED' : `HTTP_${status}`;
      const message = status === 413 ? 'request body is too large for this route' : err.message || 'request refused';
      return c.json({ error: { code, message } }, status);
    }
    // Every FK of helfy_app points at users: the token's account was deleted meanwhile.
    if ((err as { code?: string }).code === '23503') {
      return c.json({ error: { code: 'ACCOUNT_GONE', message: 'the account of this token no longer exists' } }, 401);
    }
    const dep = dependencyOf(err);
    if (dep) {
      log.warn('dependency unavailable', { dependency: dep, requestId: c.get('requestId'), error: (err as Error).message });
      return c.json({ error: { code: 'DEPENDENCY_UNAVAILABLE', message: `${dep} is unavailable` } }, 503);
    }
    log.error('internal error', { requestId: c.get('requestId'), error: err.message, stack: err.stack });
    return c.json({ error: { code: 'INTERNAL', message: 'internal error' } }, 500);
  });

  return app;
}

/**
 * path → the `Allow` value of the route patterns it matches (undefined: no route has this path).
 * Built lazily from app.routes, once every route is registered.
 */
function allowedMethods(app: App): (path: string) => string | undefined {
  let table: { re: RegExp; methods: string[]; params: number }[] | undefined;
  const escape = (seg: string) => seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return (path) => {
    if (!table) {
      const byPath = new Map<string, string[]>();
      for (const r of app.routes) if (r.method !== 'ALL' && !r.path.includes('*')) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r.method.toUpperCase()]);
      table = [...byPath].map(([p, methods]) => ({ re: new RegExp(`^${p.split('/').map((seg) => (seg.startsWith(':') ? '[^/]+' : escape(seg))).join('/')}$`), methods, params: p.split(':').length - 1 }));
    }
    // The most specific patterns (fewest parameters) win, as in the router and the document:
    // /api/nutrition/daily is its own path, not an /api/nutrition/{id}.
    const matches = table.filter((x) => x.re.test(path));
    const fewest = Math.min(...matches.map((x) => x.params));
    const methods = new Set(matches.filter((x) => x.params === fewest).flatMap((x) => x.methods));
    if (!methods.size) return undefined;
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].join(', ');
  };
}
