/**
 * The parts of `helfy smoke`'s checks, one by one: the pure verdicts (what a check concludes from
 * what it read), the API client, and the HTTP checks against a tiny real server (node:http on
 * 127.0.0.1, port 0) that answers the way a broken service would. No running stack is needed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type HelfyConfig } from '../../src/config/load.js';
import { selectGroups, smokeChecks } from '../../src/smoke/checks.js';
import { apiHealthCheck, apiReadyCheck, logIn, probeVerdict, registerUser, seriesQuery, seriesVerdict, writeAndReadWeight } from '../../src/smoke/checks-api.js';
import { healthCheck, healthVerdict } from '../../src/smoke/checks-health.js';
import { libraryVerdict, neo4jSchemaVerdict } from '../../src/smoke/checks-neo4j.js';
import { migrationsVerdict, timescaleVerdict } from '../../src/smoke/checks-postgres.js';
import { portsVerdict, secretsToFind, secretsVerdict } from '../../src/smoke/checks-security.js';
import { namespaceVerdict, runDailySummary, WORKFLOW_POLL_MS, workflowRunVerdict } from '../../src/smoke/checks-temporal.js';
import { BROWSER_MIN_TIMEOUT_MS, dashboardVerdict, fetchDashboard, loadDashboardInChromium, stripHtmlComments } from '../../src/smoke/checks-web.js';
import { apiCall, errorText, expectStatus, sleep } from '../../src/smoke/http.js';
import { SkipCheck, type CheckDef } from '../../src/smoke/scheduler.js';
import type { SmokeTrace, SmokeUser } from '../../src/smoke/types.js';
import type { StatusResult } from '../../src/stack/status.js';

const user: SmokeUser = { email: 'smoke-1@helfy.test', password: 'pw-123456', displayName: 'Smoke 1', weightKg: 72.3, day: '2026-02-28', pointTime: '2026-02-28T10:00:00.000Z' };
const newTrace = (): SmokeTrace => ({ workflowIds: new Set() });
const live = () => new AbortController().signal;

/** What `fn` threw (a SkipCheck or an Error); fails the test when it returned. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

interface Seen {
  /** performance.now() when the request ended. */
  at: number;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server on 127.0.0.1:0; `answer` decides each response; `seen` records the requests. */
async function serve(answer: (req: Seen, res: ServerResponse) => void): Promise<{ base: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const s = { at: performance.now(), method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      answer(s, res);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return {
    base: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }),
  };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const servers: { close(): Promise<void> }[] = [];
async function server(answer: (req: Seen, res: ServerResponse) => void) {
  const s = await serve(answer);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('http: apiCall, errorText, expectStatus, sleep', () => {
  it('POSTs a JSON body with the bearer token and the smoke user agent, and parses the JSON answer', async () => {
    const s = await server((_req, res) => json(res, 201, { ok: 1 }));
    const r = await apiCall(s.base, '/api/x', { token: 'tok', body: { a: 1 }, signal: live() });
    expect(r).toEqual({ status: 201, body: { ok: 1 } });
    expect(s.seen[0]).toMatchObject({ method: 'POST', url: '/api/x', body: '{"a":1}' });
    expect(s.seen[0]!.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer tok', 'user-agent': 'helfy-smoke' });
  });

  it('GETs without a body, returns a non-JSON answer as text and does not follow redirects', async () => {
    const s = await server((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/elsewhere' });
        return res.end('see elsewhere');
      }
      res.writeHead(502);
      res.end('<html>Bad Gateway</html>');
    });
    const r = await apiCall(s.base, '/gw', { signal: live() });
    expect(r).toEqual({ status: 502, body: '<html>Bad Gateway</html>' });
    expect(s.seen[0]!.method).toBe('GET');
    expect(s.seen[0]!.headers['content-type']).toBeUndefined();
    expect(s.seen[0]!.headers.authorization).toBeUndefined();
    expect((await apiCall(s.base, '/moved', { signal: live() })).status).toBe(302);
    expect(s.seen.map((x) => x.url)).toEqual(['/gw', '/moved']);
  });

  it('marks the trace as cut off when a request with a trace is aborted (a server that never answers)', async () => {
    const s = await server(() => { /* never answers */ });
    const trace = newTrace();
    const ac = new AbortController();
    const p = apiCall(s.base, '/api/auth/login', { body: {}, signal: ac.signal, trace });
    await new Promise((r) => setTimeout(r, 50));
    ac.abort(new Error('cut'));
    await expect(p).rejects.toThrow('cut');
    expect(trace.cutOff).toBe(true);
    const answered = await server((_req, res) => json(res, 200, {}));
    const fine = newTrace();
    await apiCall(answered.base, '/api/x', { signal: live(), trace: fine });
    expect(fine.cutOff).toBeUndefined();
  });

  it('errorText takes error.message, else the first 200 characters of the body', () => {
    expect(errorText({ error: { message: 'email taken' } })).toBe('email taken');
    expect(errorText('x'.repeat(300))).toBe('x'.repeat(200));
    expect(errorText({ detail: 'nope' })).toBe('{"detail":"nope"}');
  });

  it('expectStatus passes the wanted status and names the request, status and error otherwise', () => {
    expect(expectStatus({ status: 201, body: {} }, 201, 'POST /a')).toBeUndefined();
    expect(thrown(() => expectStatus({ status: 409, body: { error: { message: 'email taken' } } }, 201, 'POST /api/auth/register')).message)
      .toBe('POST /api/auth/register: HTTP 409 (expected 201): email taken');
  });

  it('sleep resolves after its time and rejects with the reason when aborted', async () => {
    const t0 = performance.now();
    await sleep(30, live());
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});

describe('health', () => {
  const services = [
    { name: 'api', healthy: true, state: 'healthy', detail: 'up 3 min' },
    { name: 'web', healthy: false, state: 'unhealthy', detail: 'running', probe: { ok: false, detail: 'GET /health → HTTP 500', durationMs: 3 } },
    { name: 'worker', healthy: false, state: 'failed', detail: 'exited with code 137', probe: { ok: true, detail: 'fine', durationMs: 1 } },
  ] as const;

  it('healthVerdict: state and detail when healthy; the state, detail and failed probe otherwise', () => {
    expect(healthVerdict('api', services as never)).toBe('healthy: up 3 min');
    expect(thrown(() => healthVerdict('web', services as never)).message).toBe('web: unhealthy — running (probe: GET /health → HTTP 500)');
    expect(thrown(() => healthVerdict('worker', services as never)).message).toBe('worker: failed — exited with code 137');
    // A detail that already names the failed probe says it once.
    const starting = [{ name: 'api', healthy: false, state: 'starting', detail: 'running (probe: GET /health/ready → HTTP 503)', probe: { ok: false, detail: 'GET /health/ready → HTTP 503' } }];
    expect(thrown(() => healthVerdict('api', starting as never)).message).toBe('api: starting — running (probe: GET /health/ready → HTTP 503)');
    expect(thrown(() => healthVerdict('neo4j', services as never)).message).toBe('neo4j: not in the stack');
  });

  it('healthCheck reads the status result when it runs', async () => {
    const def = healthCheck('web', Promise.resolve({ services } as unknown as StatusResult), 1234);
    expect(def).toMatchObject({ id: 'health.web', group: 'health', name: 'web is healthy', timeoutMs: 1234, service: 'web' });
    await expect(def.run({ signal: live(), results: new Map() })).rejects.toThrow('web: unhealthy — running (probe: GET /health → HTTP 500)');
  });
});

describe('postgres and neo4j verdicts', () => {
  it('timescaleVerdict: version, missing database, required but absent (fail), optional and absent (skip)', () => {
    expect(timescaleVerdict({ exists: true, timescaledb: '2.17.2' }, 'required')).toBe('timescaledb 2.17.2');
    expect(thrown(() => timescaleVerdict(undefined, 'optional')).message).toBe('database helfy_app does not exist (run `helfy db bootstrap`)');
    expect(thrown(() => timescaleVerdict({ exists: false, timescaledb: null }, 'optional')).message).toBe('database helfy_app does not exist (run `helfy db bootstrap`)');
    const required = thrown(() => timescaleVerdict({ exists: true, timescaledb: null }, 'required'));
    expect(required).not.toBeInstanceOf(SkipCheck);
    expect(required.message).toBe('timescaledb is not installed on helfy_app (HELFY_TIMESCALE=required)');
    const optional = thrown(() => timescaleVerdict({ exists: true, timescaledb: null }, 'optional'));
    expect(optional).toBeInstanceOf(SkipCheck);
    expect(optional.message).toBe('timescaledb absent; HELFY_TIMESCALE=optional (plain tables)');
  });

  it('migrationsVerdict counts the applied ones and lists the others with their state', () => {
    expect(migrationsVerdict([{ tag: '0001_init', state: 'applied' }, { tag: '0002_x', state: 'applied' }])).toBe('2 applied');
    expect(migrationsVerdict(undefined)).toBe('0 applied');
    expect(thrown(() => migrationsVerdict([{ tag: '0001_init', state: 'applied' }, { tag: '0002_x', state: 'pending' }, { tag: '0003_y', state: 'changed' }])).message)
      .toBe('2 migration(s) not applied: 0002_x (pending), 0003_y (changed)');
  });

  it('neo4jSchemaVerdict: pending files and real drift fail; objects the migrations do not know about do not', () => {
    expect(thrown(() => neo4jSchemaVerdict(undefined)).message).toBe('no result');
    expect(thrown(() => neo4jSchemaVerdict({ pendingFiles: ['V2__a.cypher', 'V3__b.cypher'], checkedFiles: [], drift: [] })).message).toBe('2 migration(s) not applied: V2__a.cypher, V3__b.cypher');
    const drift = [{ kind: 'missing', message: 'constraint a missing' }, { kind: 'unexpected', message: 'index z unexpected' }, { kind: 'different', message: 'index b differs' }];
    expect(thrown(() => neo4jSchemaVerdict({ pendingFiles: [], checkedFiles: ['V1'], drift })).message).toBe('constraint a missing; index b differs');
    expect(neo4jSchemaVerdict({ pendingFiles: [], checkedFiles: ['V1', 'V2'], drift: [drift[1]!] })).toBe('2 migration(s) checked, no drift');
  });

  it('libraryVerdict: counts when loaded, a skip when empty, a failure when partly loaded or the probe failed', () => {
    const lib = (l: object) => ({ ok: true, detail: 'Neo4j 5', info: { library: l } });
    expect(libraryVerdict(lib({ exercises: 870, foods: 7000, routines: 12, loaded: true }))).toBe('870 exercises, 7000 foods, 12 routines');
    const empty = thrown(() => libraryVerdict(lib({ exercises: 0, foods: 0, routines: 0, loaded: false })));
    expect(empty).toBeInstanceOf(SkipCheck);
    expect(empty.message).toBe('the stack was not seeded (`helfy seed`)');
    const partial = thrown(() => libraryVerdict(lib({ exercises: 870, foods: 0, routines: 0, loaded: false })));
    expect(partial).not.toBeInstanceOf(SkipCheck);
    expect(partial.message).toBe('library partly loaded: 870 exercises, 0 foods, 0 routines (run `helfy seed`)');
    // "loaded" with no food is not loaded.
    expect(thrown(() => libraryVerdict(lib({ exercises: 870, foods: 0, routines: 1, loaded: true }))).message).toMatch(/^library partly loaded/);
    expect(thrown(() => libraryVerdict({ ok: false, detail: 'connect ECONNREFUSED' })).message).toBe('connect ECONNREFUSED');
    expect(thrown(() => libraryVerdict({ ok: true, detail: 'x', info: {} })).message).toBe('no library counts');
  });
});

describe('temporal', () => {
  it('namespaceVerdict names the server version and state; a missing namespace fails with the hint', () => {
    expect(namespaceVerdict({ serverVersion: '1.25.1', namespace: { state: 'REGISTERED' } }, 'helfy')).toBe('Temporal 1.25.1; namespace helfy (REGISTERED)');
    expect(namespaceVerdict({ serverVersion: '1.25.1', namespace: {} }, 'helfy')).toBe('Temporal 1.25.1; namespace helfy (registered)');
    expect(thrown(() => namespaceVerdict({ serverVersion: '1.25.1', namespace: null }, 'helfy')).message).toBe('namespace helfy not found (run `helfy db bootstrap`)');
  });

  it('workflowRunVerdict: undefined while running; the weight must match on completion; any other status fails', () => {
    expect(workflowRunVerdict({ status: 'RUNNING', result: null, failure: null }, 'wf', 72.3)).toBeUndefined();
    expect(workflowRunVerdict({ status: 'COMPLETED', result: { weightKg: 72.3 }, failure: null }, 'wf', 72.3)).toBe('wf completed (weight 72.3 kg summarised)');
    expect(thrown(() => workflowRunVerdict({ status: 'COMPLETED', result: { weightKg: null }, failure: null }, 'wf', 72.3)).message).toBe('workflow completed with weightKg null; expected 72.3');
    expect(thrown(() => workflowRunVerdict({ status: 'TERMINATED', result: null, failure: null }, 'wf', 72.3)).message).toBe('workflow TERMINATED: ');
    expect(thrown(() => workflowRunVerdict({ status: 'FAILED', result: null, failure: 'activity timed out' }, 'wf', 72.3)).message).toBe('workflow FAILED: activity timed out');
  });

  it('runDailySummary starts the workflow, records its id and polls until it completes', async () => {
    let polls = 0;
    const s = await server((req, res) => {
      if (req.url === '/api/summaries/daily') return json(res, 202, { workflowId: 'daily-summary:u1:2026-02-28' });
      polls++;
      json(res, 200, polls < 3 ? { status: 'RUNNING', result: null, failure: null } : { status: 'COMPLETED', result: { weightKg: 72.3 }, failure: null });
    });
    const trace = newTrace();
    expect(await runDailySummary(s.base, 'tok', user, trace, live())).toBe('daily-summary:u1:2026-02-28 completed (weight 72.3 kg summarised)');
    expect(polls).toBe(3);
    // The runs are asked every WORKFLOW_POLL_MS, not in a busy loop.
    expect(s.seen[3]!.at - s.seen[1]!.at).toBeGreaterThanOrEqual(2 * WORKFLOW_POLL_MS - 20);
    expect([...trace.workflowIds]).toEqual(['daily-summary:u1:2026-02-28']);
    expect(JSON.parse(s.seen[0]!.body)).toEqual({ day: '2026-02-28' });
    expect(s.seen[1]!.url).toBe('/api/summaries/daily/runs/daily-summary%3Au1%3A2026-02-28');
    expect(s.seen[1]!.headers.authorization).toBe('Bearer tok');
  });

  it('runDailySummary fails on a refused start (nothing recorded) and on a failed run', async () => {
    const refused = await server((_req, res) => json(res, 503, { error: { message: 'temporal unavailable' } }));
    const trace = newTrace();
    await expect(runDailySummary(refused.base, 'tok', user, trace, live())).rejects.toThrow('POST /api/summaries/daily: HTTP 503 (expected 202): temporal unavailable');
    expect(trace.workflowIds.size).toBe(0);
    const failing = await server((req, res) => (req.url === '/api/summaries/daily' ? json(res, 202, { workflowId: 'wf-9' }) : json(res, 200, { status: 'FAILED', result: null, failure: 'worker crashed' })));
    await expect(runDailySummary(failing.base, 'tok', user, trace, live())).rejects.toThrow('workflow FAILED: worker crashed');
    expect([...trace.workflowIds]).toEqual(['wf-9']);
  });
});

describe('api', () => {
  it('probeVerdict: the detail, as a result or as the error', () => {
    expect(probeVerdict({ ok: true, detail: 'api 1.0: ok' })).toBe('api 1.0: ok');
    expect(thrown(() => probeVerdict({ ok: false, detail: 'GET x → HTTP 500' })).message).toBe('GET x → HTTP 500');
  });

  it('api.health and api.ready fail with the probe detail against a service that is down', async () => {
    const s = await server((req, res) => (req.url === '/health'
      ? json(res, 503, { status: 'down' })
      : json(res, 503, { service: 'api', version: '1.2.3', checks: { postgres: { ok: false, error: 'connect ECONNREFUSED' }, neo4j: { ok: true } } })));
    const health = apiHealthCheck(s.base, 2000);
    expect(health).toMatchObject({ id: 'api.health', group: 'api', name: 'GET /health', timeoutMs: 2000, service: 'api' });
    await expect(health.run({ signal: live(), results: new Map() })).rejects.toThrow(`GET ${s.base}/health → HTTP 503`);
    await expect(apiReadyCheck(s.base, 2000).run({ signal: live(), results: new Map() })).rejects.toThrow('api 1.2.3: not ready: postgres down (postgres: connect ECONNREFUSED)');
  });

  it('registerUser sends the user and records its id and summary workflow; a refusal records nothing', async () => {
    const ok = await server((_req, res) => json(res, 201, { user: { id: 'u-42' }, session: { accessToken: 'at-1' } }));
    const trace = newTrace();
    expect(await registerUser(ok.base, user, trace, live())).toEqual({ summary: 'registered smoke-1@helfy.test', userId: 'u-42', token: 'at-1' });
    expect(JSON.parse(ok.seen[0]!.body)).toEqual({ email: user.email, password: user.password, displayName: user.displayName });
    expect(trace.userId).toBe('u-42');
    expect([...trace.workflowIds]).toEqual(['daily-summary:u-42:2026-02-28']);

    const taken = await server((_req, res) => json(res, 409, { error: { message: 'email already registered' } }));
    const t2 = newTrace();
    await expect(registerUser(taken.base, user, t2, live())).rejects.toThrow('POST /api/auth/register: HTTP 409 (expected 201): email already registered');
    expect(t2).toEqual({ workflowIds: new Set() });
  });

  it('logIn wants a token for the same user', async () => {
    const other = await server((_req, res) => json(res, 200, { accessToken: 'x', user: { email: 'someone@else.test' } }));
    await expect(logIn(other.base, user, newTrace(), live())).rejects.toThrow('login answered without a token for the user');
    const noToken = await server((_req, res) => json(res, 200, { accessToken: '', user: { email: user.email } }));
    await expect(logIn(noToken.base, user, newTrace(), live())).rejects.toThrow('login answered without a token for the user');
    const good = await server((_req, res) => json(res, 200, { accessToken: 'at-2', user: { email: user.email } }));
    expect(await logIn(good.base, user, newTrace(), live())).toEqual({ summary: 'logged in', token: 'at-2' });
    const wrong = await server((_req, res) => json(res, 401, { error: { message: 'invalid credentials' } }));
    await expect(logIn(wrong.base, user, newTrace(), live())).rejects.toThrow('POST /api/auth/login: HTTP 401 (expected 200): invalid credentials');
  });

  it('seriesQuery covers the UTC day (across a month end) in one bucket', () => {
    expect(Object.fromEntries(seriesQuery('2026-02-28'))).toEqual({ metric: 'weight', from: '2026-02-28T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z', bucket: '1d' });
  });

  it('seriesVerdict wants exactly one bucket of one point with the weight', () => {
    expect(seriesVerdict([{ avg: 72.3, count: 1 }], 72.3)).toBeUndefined();
    expect(thrown(() => seriesVerdict([], 72.3)).message).toBe('series answered []; expected one bucket of 1 point, avg 72.3');
    expect(thrown(() => seriesVerdict([{ avg: 72.3, count: 2 }], 72.3)).message).toBe('series answered [{"avg":72.3,"count":2}]; expected one bucket of 1 point, avg 72.3');
    expect(thrown(() => seriesVerdict([{ avg: 72.4, count: 1 }], 72.3)).message).toMatch(/^series answered/);
    expect(thrown(() => seriesVerdict([{ avg: 72.3, count: 1 }, { avg: 1, count: 1 }], 72.3)).message).toMatch(/^series answered/);
  });

  it('writeAndReadWeight writes the point and fails when the series does not give it back', async () => {
    const s = await server((req, res) => (req.method === 'POST' ? json(res, 201, { inserted: 1 }) : json(res, 200, { buckets: [], engine: 'plain' })));
    await expect(writeAndReadWeight(s.base, 'tok', user, newTrace(), live())).rejects.toThrow('series answered []; expected one bucket of 1 point, avg 72.3');
    expect(JSON.parse(s.seen[0]!.body)).toEqual({ points: [{ time: user.pointTime, metric: 'weight', value: 72.3, source: 'helfy-smoke' }] });
    expect(s.seen[1]!.url).toBe(`/api/biometrics/series?${seriesQuery('2026-02-28')}`);
    const good = await server((req, res) => (req.method === 'POST' ? json(res, 201, {}) : json(res, 200, { buckets: [{ avg: 72.3, count: 1 }], engine: 'timescaledb' })));
    expect(await writeAndReadWeight(good.base, 'tok', user, newTrace(), live())).toEqual({ summary: 'weight 72.3 kg read back (timescaledb)', token: 'tok' });
  });
});

describe('web', () => {
  const page = '<h1>Hello, <!-- -->Smoke 1</h1><ul><li data-metric="steps">72.3</li><li data-metric="weight"><b>72.3<!-- --> kg</b></li></ul>';

  it('stripHtmlComments removes React text separators', () => {
    expect(stripHtmlComments('Hello, <!-- -->Smoke<!--\nx\n--> 1')).toBe('Hello, Smoke 1');
  });

  it('dashboardVerdict: status (with the redirect target), greeting, then the weight tile', () => {
    const html = stripHtmlComments(page);
    expect(dashboardVerdict({ status: 200, location: null, html }, user)).toBe(`server-rendered dashboard of Smoke 1 with weight 72.3 kg (${html.length} bytes)`);
    expect(thrown(() => dashboardVerdict({ status: 307, location: '/login?next=%2Fdashboard', html: '' }, user)).message).toBe('GET /dashboard: HTTP 307 → /login?next=%2Fdashboard');
    expect(thrown(() => dashboardVerdict({ status: 500, location: null, html }, user)).message).toBe('GET /dashboard: HTTP 500');
    expect(thrown(() => dashboardVerdict({ status: 200, location: null, html: page }, user)).message).toBe('GET /dashboard: the page does not greet Smoke 1');
    // The weight in another tile (before or after it) does not count.
    const noTile = '<h1>Hello, Smoke 1</h1><li data-metric="steps">72.3</li><li data-metric="weight">—</li><li data-metric="sleep">72.3</li>';
    expect(thrown(() => dashboardVerdict({ status: 200, location: null, html: noTile }, user)).message).toBe('GET /dashboard: the weight tile does not show 72.3 kg');
    expect(dashboardVerdict({ status: 200, location: null, html: '<h1>Hello, Smoke 1</h1><li data-metric="weight">70.0</li>' }, { displayName: 'Smoke 1', weightKg: 70 })).toMatch(/with weight 70\.0 kg/);
  });

  it('fetchDashboard sends the session cookie and reports a redirect to the log-in page', async () => {
    const s = await server((req, res) => {
      if (req.headers.cookie !== 'helfy_at=tok') {
        res.writeHead(302, { location: '/login' });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
    });
    await expect(fetchDashboard(s.base, 'stale', user, live())).rejects.toThrow('GET /dashboard: HTTP 302 → /login');
    expect(await fetchDashboard(s.base, 'tok', user, live())).toBe(`server-rendered dashboard of Smoke 1 with weight 72.3 kg (${stripHtmlComments(page).length} bytes)`);
    expect(s.seen.map((x) => x.url)).toEqual(['/dashboard', '/dashboard']);
  });

  it('loadDashboardInChromium without a Chromium fails with the install hint', async () => {
    await expect(loadDashboardInChromium('http://127.0.0.1:1', '/nonexistent/chromium', 'tok', user))
      .rejects.toThrow("no Chromium at /nonexistent/chromium (hint: install Debian's chromium, e.g. `apt-get install chromium`, or set HELFY_CHROMIUM)");
  });
});

describe('security verdicts', () => {
  const c = (service: string, ports: { host: string; hostPort: number; containerPort: number }[]) => ({ service, ports });

  it('portsVerdict: every port on the bind address; anything when it binds to all', () => {
    const list = [c('postgres', [{ host: '127.0.0.1', hostPort: 5432, containerPort: 5432 }]), c('api', [{ host: '', hostPort: 3000, containerPort: 3000 }, { host: '0.0.0.0', hostPort: 3001, containerPort: 3001 }])];
    expect(thrown(() => portsVerdict(list, '127.0.0.1')).message).toBe('published beyond 127.0.0.1: api *:3000->3000, api 0.0.0.0:3001->3001');
    expect(portsVerdict(list, '0.0.0.0')).toBe('3 published port(s), all on 0.0.0.0');
    expect(portsVerdict(list, '::')).toBe('3 published port(s), all on ::');
    expect(portsVerdict([list[0]!, c('worker', [])], '127.0.0.1')).toBe('1 published port(s), all on 127.0.0.1');
  });

  it('secretsToFind keeps the secret settings long enough to search for', () => {
    const env = new Map([
      ['HELFY_JWT_SECRET', { value: 'a-long-jwt-secret' }],
      ['HELFY_NEO4J_PASSWORD', { value: 'short' }],
      ['HELFY_API_PORT', { value: '3000300030003000' }],
      ['SOMETHING_ELSE', { value: 'not-a-helfy-secret' }],
      ['HELFY_POSTGRES_PASSWORD', { value: '12345678' }],
    ]);
    expect(secretsToFind(env)).toEqual([{ key: 'HELFY_JWT_SECRET', value: 'a-long-jwt-secret' }, { key: 'HELFY_POSTGRES_PASSWORD', value: '12345678' }]);
  });

  it('secretsVerdict names key and service, sorted, never the value; counts when clean', () => {
    const secrets = [{ key: 'HELFY_JWT_SECRET', value: 'jwt-secret-value' }, { key: 'HELFY_APP_PASSWORD', value: 'app-password' }];
    const lines = (...t: string[]) => t.map((text) => ({ text }));
    const leaky = [
      { service: 'worker', lines: lines('boot', 'dsn postgres://helfy_api:app-password@pg') },
      { service: 'api', lines: lines('token signed with jwt-secret-value', 'pw app-password') },
      { service: 'web', lines: lines('ready') },
    ];
    const e = thrown(() => secretsVerdict(secrets, leaky));
    expect(e.message).toBe('secret value(s) found in logs: HELFY_APP_PASSWORD in api, HELFY_APP_PASSWORD in worker, HELFY_JWT_SECRET in api');
    expect(e.message).not.toContain('app-password');
    expect(secretsVerdict(secrets, [{ service: 'web', lines: lines('ready') }, { service: 'api', lines: [] }])).toBe('2 secret(s) checked against the logs of 2 container(s)');
  });
});

describe('smokeChecks and selectGroups', () => {
  let dir: string;
  let cfg: HelfyConfig;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'helfy-checks-parts-'));
    writeFileSync(join(dir, 'helfy.config.json'), '{}\n');
    cfg = loadConfig({ cwd: dir, env: { HELFY_BIND_ADDRESS: '::' }, requireSecrets: false });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const build = (c: HelfyConfig, browser: boolean, timeoutMs = 5000): CheckDef[] => smokeChecks({
    cfg: c, rt: {} as never, services: ['postgres', 'api'], status: new Promise(() => {}), user, trace: newTrace(), timeoutMs, browser, chromiumPath: '/nonexistent/chromium',
  });

  it('lists every check in report order, with its group, service and prerequisites', () => {
    const defs = build(cfg, false);
    expect(defs.map((d) => [d.id, d.group, d.service ?? null, d.needs ?? []])).toEqual([
      ['health.postgres', 'health', 'postgres', []],
      ['health.api', 'health', 'api', []],
      ['postgres.roundtrip', 'postgres', 'postgres', []],
      ['postgres.timescaledb', 'postgres', 'postgres', []],
      ['postgres.migrations', 'postgres', 'postgres', []],
      ['neo4j.schema', 'neo4j', 'neo4j', []],
      ['neo4j.library', 'neo4j', 'neo4j', []],
      ['temporal.namespace', 'temporal', 'temporal', []],
      ['api.health', 'api', 'api', []],
      ['api.ready', 'api', 'api', []],
      ['api.register', 'api', 'api', []],
      ['api.login', 'api', 'api', ['api.register']],
      ['api.biometrics', 'api', 'api', ['api.register']],
      ['temporal.workflow', 'temporal', 'worker', ['api.biometrics']],
      ['web.dashboard', 'web', 'web', ['api.biometrics']],
      ['security.ports', 'security', null, []],
      ['security.secrets', 'security', null, []],
    ]);
    expect(defs.every((d) => d.timeoutMs === 5000)).toBe(true);
    expect(defs.find((d) => d.id === 'temporal.namespace')!.name).toBe(`namespace ${cfg.temporal.namespace} exists`);
    expect(defs.find((d) => d.id === 'security.ports')!.name).toBe('every published port binds to :: only');
  });

  it('adds the Chromium check last with --browser, given at least 30 s', () => {
    const defs = build(cfg, true, 5000);
    expect(defs).toHaveLength(18);
    expect(defs.at(-1)).toMatchObject({ id: 'web.browser', group: 'web', service: 'web', needs: ['api.biometrics'], timeoutMs: BROWSER_MIN_TIMEOUT_MS });
    expect(BROWSER_MIN_TIMEOUT_MS).toBe(30_000);
    expect(build(cfg, true, 45_000).at(-1)!.timeoutMs).toBe(45_000);
  });

  it('points the API checks at the API port on loopback when the stack binds to all addresses', async () => {
    const s = await server((_req, res) => json(res, 200, { status: 'ok', service: 'api', version: '9.9.9' }));
    const port = Number(new URL(s.base).port);
    const defs = build({ ...cfg, ports: { ...cfg.ports, api: port } }, false);
    expect(await defs.find((d) => d.id === 'api.health')!.run({ signal: live(), results: new Map() })).toBe('api 9.9.9: ok');
    expect(s.seen.map((x) => x.url)).toEqual(['/health']);
  });

  it('selectGroups keeps the chosen groups plus what they need, in report order', () => {
    expect(selectGroups(build(cfg, false), ['web']).map((d) => d.id)).toEqual(['api.register', 'api.biometrics', 'web.dashboard']);
    expect(selectGroups(build(cfg, false), ['security', 'neo4j']).map((d) => d.id)).toEqual(['neo4j.schema', 'neo4j.library', 'security.ports', 'security.secrets']);
  });
});
