/**
 * The web server (a Hono app; `vike build` bundles it into dist/server/index.mjs):
 *   GET /health           liveness for the compose healthcheck, touches nothing else
 *   /api/*                same-origin proxy to the API at API_URL (read at run time), with the
 *                         access token from the httpOnly cookie as its bearer token and the
 *                         browser's address (X-Forwarded-For, plus X-Proxy-Secret: see forwardedFor)
 *   POST <form pages>     the forms (sign up, log in, log out, log a biometric / workout / meal)
 *   everything else       Vike renders the page (server-side; React hydrates it afterwards)
 */
import vike from '@vikejs/hono';
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { proxy } from 'hono/proxy';
import pkg from '../package.json' with { type: 'json' };
import { apiBaseUrl, forwardedFor } from '../server/api.js';
import { clientIp, type WebVariables } from '../server/context.js';
import { registerForms } from '../server/forms.js';
import { ACCESS_COOKIE, clearSessionCookies, resolveSession } from '../server/session.js';

const app = new Hono<{ Variables: WebVariables }>();

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "object-src 'none'",
].join('; ');

app.get('/health', (c) => c.json({ status: 'ok', service: process.env.HELFY_SERVICE ?? 'web', version: pkg.version }));

// A state-changing request must come from this origin: the cookies are SameSite=Lax, but sibling
// ports on the same host (the API's, for one) are "same site", so check Origin as well.
app.use('*', async (c, next) => {
  const m = c.req.method;
  if (m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS') {
    const origin = c.req.header('origin');
    if (origin && origin !== 'null' && new URL(origin).host !== c.req.header('host')) {
      return c.json({ error: { code: 'FORBIDDEN_ORIGIN', message: `requests from ${origin} are not accepted` } }, 403);
    }
  }
  c.set('extraHeaders', new Headers());
  await next();
  const extra = new Headers(c.get('extraHeaders'));
  if (!c.req.path.startsWith('/api/')) {
    extra.set('X-Content-Type-Options', 'nosniff');
    extra.set('Referrer-Policy', 'same-origin');
    extra.set('X-Frame-Options', 'DENY');
    // Scripts and styles only from this origin (Vike's page data is a JSON <script>, not run).
    // Not under Vike's dev server, whose HMR client needs more.
    if (process.env.NODE_ENV === 'production') extra.set('Content-Security-Policy', CSP);
  }
  // A fresh Response: the handler's may have immutable headers (a proxied fetch response).
  const res = c.res;
  const headers = new Headers(res.headers);
  for (const [k, v] of extra) if (k !== 'set-cookie') headers.set(k, v);
  for (const sc of extra.getSetCookie()) headers.append('set-cookie', sc);
  c.res = undefined;
  c.res = new Response(res.body, { status: res.status, statusText: res.statusText, headers });
});

app.all('/api/*', async (c) => {
  const url = new URL(c.req.url);
  const target = apiBaseUrl() + url.pathname + url.search;
  const token = getCookie(c, ACCESS_COOKIE);
  try {
    const res = await proxy(target, {
      raw: c.req.raw,
      headers: {
        ...c.req.header(),
        cookie: undefined,
        host: undefined,
        authorization: token ? `Bearer ${token}` : c.req.header('authorization'),
        'x-forwarded-host': c.req.header('host'),
        // The browser's own address, never a forwarded header it sent (which it could forge),
        // with the proxy secret when there is one; never one the browser sent.
        'x-forwarded-for': undefined,
        'x-proxy-secret': undefined,
        ...forwardedFor(clientIp(c)),
      },
      signal: AbortSignal.timeout(Number(process.env.API_TIMEOUT_MS ?? 5000)),
    });
    res.headers.delete('set-cookie');
    return res;
  } catch {
    return c.json({ error: { code: 'API_UNAVAILABLE', message: `the Helfy API at ${new URL(apiBaseUrl()).origin} is not reachable` } }, 502);
  }
});

// The session (refreshing an expired access token) for every page and form.
app.use('*', async (c, next) => {
  // Sent here because the API refused the token (forged, expired, revoked): forget it.
  if (c.req.path === '/login' && c.req.query('expired') !== undefined) {
    clearSessionCookies(c);
    c.set('session', null);
    return next();
  }
  c.set('session', await resolveSession(c));
  await next();
});

registerForms(app);

vike(app);

/**
 * As PID 1 in its container, node ignores SIGTERM unless it handles it: `docker stop` would wait
 * its whole grace period. Stop accepting, let in-flight requests finish (5 s at most), exit 0.
 */
function onCreate(server: { close(closeActiveConnections?: boolean): Promise<void> }): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'shutting down', service: 'web', signal })}\n`);
    const force = setTimeout(() => void server.close(true).finally(() => process.exit(0)), 5000);
    force.unref();
    void server.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

// `gracefulShutdown: false`: srvx's own handler prints progress bars; onCreate installs ours.
export default { fetch: app.fetch, gracefulShutdown: false, onCreate };
