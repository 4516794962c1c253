/**
 * The checks of `helfy smoke`, grouped as JUnit classnames: health, postgres, neo4j, temporal,
 * api, web, security. Each is small and bounded by the scheduler's timeout; the API flow uses a
 * throwaway user whose email the caller removes afterwards, whatever happened.
 */
import { readDotenvFile, type HelfyConfig } from '../config/load.js';
import { SETTINGS } from '../config/settings.js';
import { hostFor, httpUrl, probeHttp, probeReady } from '../stack/probes.js';
import type { StackRuntime } from '../stack/runtime.js';
import type { StatusResult } from '../stack/status.js';
import type { ServiceName } from '../stack/types.js';
import { SkipCheck, type CheckDef } from './scheduler.js';

export const GROUPS = ['health', 'postgres', 'neo4j', 'temporal', 'api', 'web', 'security'] as const;
export type Group = (typeof GROUPS)[number];

export interface SmokeUser {
  email: string;
  password: string;
  displayName: string;
  /** A weight (kg, one decimal) that only this run writes, to recognise it on the dashboard. */
  weightKg: number;
  /** The UTC day of the point (and of the summary workflow). */
  day: string;
  pointTime: string;
}

/** What the cleanup must remove, filled in as the checks go. */
export interface SmokeTrace {
  userId?: string;
  workflowIds: Set<string>;
  /** An API request was cut off (timeout, Ctrl-C): the server may still finish it after the cleanup. */
  cutOff?: boolean;
}

export interface ChecksInput {
  cfg: HelfyConfig;
  rt: StackRuntime;
  /** The services to check (those `status` lists) and their status, computed in parallel with the other checks. */
  services: readonly ServiceName[];
  status: Promise<StatusResult>;
  user: SmokeUser;
  trace: SmokeTrace;
  timeoutMs: number;
  browser: boolean;
  chromiumPath: string;
}

const quiet = { info() {}, success() {}, warn() {}, error() {}, debug() {}, raw() {} };

async function api<T = any>(base: string, path: string, init: { method?: string; token?: string; body?: unknown; signal: AbortSignal; trace?: SmokeTrace }): Promise<{ status: number; body: T }> {
  if (init.trace) init.signal.addEventListener('abort', () => (init.trace!.cutOff = true), { once: true });
  const res = await fetch(base + path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), 'user-agent': 'helfy-smoke' },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    signal: init.signal,
    redirect: 'manual',
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: body as T };
}

function expectStatus(r: { status: number; body: unknown }, want: number, what: string): void {
  if (r.status === want) return;
  const err = (r.body as { error?: { message?: string } } | undefined)?.error?.message ?? (typeof r.body === 'string' ? r.body.slice(0, 200) : JSON.stringify(r.body).slice(0, 200));
  throw new Error(`${what}: HTTP ${r.status} (expected ${want}): ${err}`);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

export function smokeChecks(i: ChecksInput): CheckDef[] {
  const { cfg, rt, user, trace } = i;
  const host = hostFor(cfg);
  const apiBase = httpUrl(host, cfg.ports.api);
  const webBase = httpUrl(host, cfg.ports.web);
  const t = i.timeoutMs;
  const defs: CheckDef[] = [];

  // health: the same state logic and live probes as `helfy up` / `helfy status`.
  for (const name of i.services) {
    defs.push({
      id: `health.${name}`, group: 'health', name: `${name} is healthy`, timeoutMs: t, service: name,
      async run() {
        const s = (await i.status).services.find((x) => x.name === name);
        if (!s) throw new Error(`${name}: not in the stack`);
        if (!s.healthy) throw new Error(`${s.name}: ${s.state} — ${s.detail}${s.probe && !s.probe.ok ? ` (probe: ${s.probe.detail})` : ''}`);
        return `${s.state}: ${s.detail}`;
      },
    });
  }

  defs.push(
    {
      id: 'postgres.roundtrip', group: 'postgres', name: 'helfy_api writes and reads back a row in a rolled-back transaction', timeoutMs: t, service: 'postgres',
      async run() {
        const { apiRoleRoundTrip } = await import('../db/smoke.js');
        const row = await apiRoleRoundTrip(cfg, `roundtrip-${user.email}`, t);
        return `wrote and read back users row ${row.id}, rolled back`;
      },
    },
    {
      id: 'postgres.timescaledb', group: 'postgres', name: 'timescaledb on helfy_app (when required)', timeoutMs: t, service: 'postgres',
      async run() {
        const { postgresStatus } = await import('../db/postgres/bootstrap.js');
        const app = (await postgresStatus(cfg)).databases.find((d) => d.purpose === 'app');
        if (!app?.exists) throw new Error('database helfy_app does not exist (run `helfy db bootstrap`)');
        if (app.timescaledb) return `timescaledb ${app.timescaledb}`;
        if (cfg.timescale === 'required') throw new Error('timescaledb is not installed on helfy_app (HELFY_TIMESCALE=required)');
        throw new SkipCheck('timescaledb absent; HELFY_TIMESCALE=optional (plain tables)');
      },
    },
    {
      id: 'postgres.migrations', group: 'postgres', name: 'PostgreSQL migrations up to date', timeoutMs: t, service: 'postgres',
      async run() {
        const { migrationStatus } = await import('../db/orchestrate.js');
        const { postgres } = await migrationStatus(cfg, ['postgres']);
        const bad = (postgres ?? []).filter((m) => m.state !== 'applied');
        if (bad.length) throw new Error(`${bad.length} migration(s) not applied: ${bad.map((m) => `${m.tag} (${m.state})`).join(', ')}`);
        return `${postgres?.length ?? 0} applied`;
      },
    },
    {
      id: 'neo4j.schema', group: 'neo4j', name: 'constraints and indexes of the applied migrations exist', timeoutMs: t, service: 'neo4j',
      async run() {
        const { verifyStores } = await import('../db/orchestrate.js');
        const { neo4j } = await verifyStores(cfg, quiet, ['neo4j']);
        if (!neo4j) throw new Error('no result');
        if (neo4j.pendingFiles.length) throw new Error(`${neo4j.pendingFiles.length} migration(s) not applied: ${neo4j.pendingFiles.join(', ')}`);
        const real = neo4j.drift.filter((d) => d.kind !== 'unexpected');
        if (real.length) throw new Error(real.map((d) => d.message).join('; '));
        return `${neo4j.checkedFiles.length} migration(s) checked, no drift`;
      },
    },
    {
      id: 'neo4j.library', group: 'neo4j', name: 'the library is loaded (when the stack was seeded)', timeoutMs: t, service: 'neo4j',
      async run() {
        const { probeNeo4j } = await import('../db/probes.js');
        const p = await probeNeo4j(cfg, t);
        if (!p.ok) throw new Error(p.detail);
        const lib = p.info?.library as { exercises: number; foods: number; routines: number; loaded: boolean } | undefined;
        if (!lib) throw new Error('no library counts');
        if (lib.loaded && lib.exercises > 0 && lib.foods > 0) return `${lib.exercises} exercises, ${lib.foods} foods, ${lib.routines} routines`;
        if (lib.exercises + lib.foods + lib.routines === 0) throw new SkipCheck('the stack was not seeded (`helfy seed`)');
        throw new Error(`library partly loaded: ${lib.exercises} exercises, ${lib.foods} foods, ${lib.routines} routines (run \`helfy seed\`)`);
      },
    },
    {
      id: 'temporal.namespace', group: 'temporal', name: `namespace ${cfg.temporal.namespace} exists`, timeoutMs: t, service: 'temporal',
      async run() {
        const { temporalStatus, temporalAddress } = await import('../db/temporal/namespace.js');
        const st = await temporalStatus({ address: temporalAddress(cfg.temporal), namespace: cfg.temporal.namespace, timeoutMs: t });
        if (!st.namespace) throw new Error(`namespace ${cfg.temporal.namespace} not found (run \`helfy db bootstrap\`)`);
        return `Temporal ${st.serverVersion}; namespace ${cfg.temporal.namespace} (${st.namespace.state ?? 'registered'})`;
      },
    },
    {
      id: 'api.health', group: 'api', name: 'GET /health', timeoutMs: t, service: 'api',
      async run() {
        const r = await probeHttp(httpUrl(host, cfg.ports.api, '/health'), t, true);
        if (!r.ok) throw new Error(r.detail);
        return r.detail;
      },
    },
    {
      id: 'api.ready', group: 'api', name: 'GET /health/ready', timeoutMs: t, service: 'api',
      async run() {
        const r = await probeReady(httpUrl(host, cfg.ports.api, '/health/ready'), t);
        if (!r.ok) throw new Error(r.detail);
        return r.detail;
      },
    },
    {
      id: 'api.register', group: 'api', name: 'a throwaway user registers', timeoutMs: t, service: 'api',
      async run({ signal }) {
        const r = await api<{ user: { id: string }; session: { accessToken: string } }>(apiBase, '/api/auth/register', { body: { email: user.email, password: user.password, displayName: user.displayName }, signal, trace });
        expectStatus(r, 201, 'POST /api/auth/register');
        trace.userId = r.body.user.id;
        trace.workflowIds.add(`daily-summary:${r.body.user.id}:${user.day}`);
        // The session of the registration lets the data checks start while log-in runs beside them.
        return { summary: `registered ${user.email}`, userId: r.body.user.id, token: r.body.session.accessToken };
      },
    },
    {
      id: 'api.login', group: 'api', name: 'the throwaway user logs in', timeoutMs: t, service: 'api', needs: ['api.register'],
      async run({ signal }) {
        const r = await api<{ accessToken: string; user: { email: string } }>(apiBase, '/api/auth/login', { body: { email: user.email, password: user.password }, signal, trace });
        expectStatus(r, 200, 'POST /api/auth/login');
        if (!r.body.accessToken || r.body.user.email !== user.email) throw new Error('login answered without a token for the user');
        return { summary: 'logged in', token: r.body.accessToken };
      },
    },
    {
      id: 'api.biometrics', group: 'api', name: 'writes a biometric and reads it back through the bucketed series', timeoutMs: t, service: 'api', needs: ['api.register'],
      async run({ signal, results }) {
        const { token } = results.get('api.register') as { token: string };
        const w = await api(apiBase, '/api/biometrics', { token, body: { points: [{ time: user.pointTime, metric: 'weight', value: user.weightKg, source: 'helfy-smoke' }] }, signal, trace });
        expectStatus(w, 201, 'POST /api/biometrics');
        const from = `${user.day}T00:00:00.000Z`;
        const to = new Date(Date.parse(from) + 86_400_000).toISOString();
        const q = new URLSearchParams({ metric: 'weight', from, to, bucket: '1d' });
        const r = await api<{ buckets: { avg: number; count: number }[]; engine: string }>(apiBase, `/api/biometrics/series?${q}`, { token, signal });
        expectStatus(r, 200, 'GET /api/biometrics/series');
        const b = r.body.buckets;
        if (b.length !== 1 || b[0]!.count !== 1 || Math.abs(b[0]!.avg - user.weightKg) > 1e-6) throw new Error(`series answered ${JSON.stringify(b)}; expected one bucket of 1 point, avg ${user.weightKg}`);
        return { summary: `weight ${user.weightKg} kg read back (${r.body.engine})`, token };
      },
    },
    {
      id: 'temporal.workflow', group: 'temporal', name: 'the dailySummary workflow runs on the worker and completes', timeoutMs: t, service: 'worker', needs: ['api.biometrics'],
      async run({ signal, results }) {
        const { token } = results.get('api.biometrics') as { token: string };
        const s = await api<{ workflowId: string }>(apiBase, '/api/summaries/daily', { token, body: { day: user.day }, signal, trace });
        expectStatus(s, 202, 'POST /api/summaries/daily');
        trace.workflowIds.add(s.body.workflowId);
        for (;;) {
          const r = await api<{ status: string; result: { weightKg: number | null } | null; failure: string | null }>(apiBase, `/api/summaries/daily/runs/${encodeURIComponent(s.body.workflowId)}`, { token, signal });
          expectStatus(r, 200, 'GET /api/summaries/daily/runs/{id}');
          if (r.body.status === 'COMPLETED') {
            if (r.body.result?.weightKg !== user.weightKg) throw new Error(`workflow completed with weightKg ${r.body.result?.weightKg}; expected ${user.weightKg}`);
            return `${s.body.workflowId} completed (weight ${user.weightKg} kg summarised)`;
          }
          if (r.body.status !== 'RUNNING') throw new Error(`workflow ${r.body.status}: ${r.body.failure ?? ''}`);
          await sleep(200, signal);
        }
      },
    },
    {
      id: 'web.dashboard', group: 'web', name: "the dashboard is server-rendered with the user's data", timeoutMs: t, service: 'web', needs: ['api.biometrics'],
      async run({ signal, results }) {
        const { token } = results.get('api.biometrics') as { token: string };
        const res = await fetch(`${webBase}/dashboard`, { headers: { cookie: `helfy_at=${token}` }, redirect: 'manual', signal });
        // React separates adjacent text nodes with <!-- --> in server-rendered HTML.
        const html = (await res.text()).replace(/<!--[\s\S]*?-->/g, '');
        if (res.status !== 200) throw new Error(`GET /dashboard: HTTP ${res.status}${res.headers.get('location') ? ` → ${res.headers.get('location')}` : ''}`);
        if (!html.includes(`Hello, ${user.displayName}`)) throw new Error(`GET /dashboard: the page does not greet ${user.displayName}`);
        const weight = user.weightKg.toFixed(1);
        const tile = /data-metric="weight"[\s\S]*?<\/li>/.exec(html)?.[0] ?? '';
        if (!tile.includes(weight)) throw new Error(`GET /dashboard: the weight tile does not show ${weight} kg`);
        return `server-rendered dashboard of ${user.displayName} with weight ${weight} kg (${html.length} bytes)`;
      },
    },
    {
      id: 'security.ports', group: 'security', name: `every published port binds to ${cfg.bindAddress} only`, timeoutMs: t,
      async run() {
        const list = await rt.containers();
        const all = cfg.bindAddress === '0.0.0.0' || cfg.bindAddress === '::';
        const wrong = list.flatMap((c) => c.ports.filter((p) => !all && p.host !== cfg.bindAddress).map((p) => `${c.service} ${p.host || '*'}:${p.hostPort}->${p.containerPort}`));
        if (wrong.length) throw new Error(`published beyond ${cfg.bindAddress}: ${wrong.join(', ')}`);
        const n = list.reduce((a, c) => a + c.ports.length, 0);
        return `${n} published port(s), all on ${cfg.bindAddress}`;
      },
    },
    {
      id: 'security.secrets', group: 'security', name: 'no secret from .env appears in any service log', timeoutMs: t,
      async run() {
        const secretKeys = new Set((SETTINGS as readonly { env: string; secret?: boolean }[]).filter((s) => s.secret).map((s) => s.env));
        const secrets = [...readDotenvFile(cfg.root)].filter(([k, v]) => secretKeys.has(k) && v.value.length >= 8).map(([k, v]) => ({ key: k, value: v.value }));
        const list = await rt.containers();
        const found = new Set<string>();
        await Promise.all(list.map(async (c) => {
          const lines = await rt.logs(c.id, {});
          for (const s of secrets) if (lines.some((l) => l.text.includes(s.value))) found.add(`${s.key} in ${c.service}`);
        }));
        // Only the key names: the values are never printed.
        if (found.size) throw new Error(`secret value(s) found in logs: ${[...found].sort().join(', ')}`);
        return `${secrets.length} secret(s) checked against the logs of ${list.length} container(s)`;
      },
    },
  );

  if (i.browser) {
    defs.push({
      id: 'web.browser', group: 'web', name: 'the dashboard loads in Chromium without console errors', timeoutMs: Math.max(t, 30_000), service: 'web', needs: ['api.biometrics'],
      async run({ results }) {
        const { token } = results.get('api.biometrics') as { token: string };
        const { existsSync } = await import('node:fs');
        if (!existsSync(i.chromiumPath)) throw new Error(`no Chromium at ${i.chromiumPath} (hint: install Debian's chromium, e.g. \`apt-get install chromium\`, or set HELFY_CHROMIUM)`);
        let pw: typeof import('playwright-core');
        try {
          // A dev tool, not a dependency of helfy: resolved at run time, never bundled.
          const mod = 'playwright-core';
          pw = (await import(/* @vite-ignore */ mod)) as typeof import('playwright-core');
        } catch {
          throw new Error('playwright-core is not installed (hint: `npm install playwright-core@1.64.1` next to helfy)');
        }
        const browser = await pw.chromium.launch({ executablePath: i.chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
        try {
          const context = await browser.newContext();
          await context.addCookies([{ name: 'helfy_at', value: token, url: webBase }]);
          const page = await context.newPage();
          const errors: string[] = [];
          page.on('pageerror', (e) => errors.push(e.message));
          page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
          page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
          await page.goto(`${webBase}/dashboard`, { waitUntil: 'networkidle' });
          const h1 = await page.getByRole('heading', { level: 1 }).textContent();
          if (h1 !== `Hello, ${user.displayName}`) throw new Error(`heading ${JSON.stringify(h1)} instead of "Hello, ${user.displayName}"`);
          if (errors.length) throw new Error(`console errors: ${errors.slice(0, 5).join('; ')}`);
          return 'dashboard loaded in Chromium, no console errors';
        } finally {
          await browser.close();
        }
      },
    });
  }
  return defs;
}

/** The checks of `groups` plus the ones they need (e.g. web needs the API's throwaway user). */
export function selectGroups(defs: CheckDef[], groups: readonly string[]): CheckDef[] {
  const byId = new Map(defs.map((d) => [d.id, d]));
  const keep = new Set<string>();
  const visit = (d: CheckDef) => {
    if (keep.has(d.id)) return;
    keep.add(d.id);
    for (const n of d.needs ?? []) visit(byId.get(n)!);
  };
  defs.filter((d) => groups.includes(d.group)).forEach(visit);
  return defs.filter((d) => keep.has(d.id));
}
