/** The `api` checks of `helfy smoke`: health, readiness, and the throwaway user's register → log in → data flow. */
import { probeHttp, probeReady } from '../stack/probes.js';
import { apiCall, expectStatus } from './http.js';
import type { CheckDef } from './scheduler.js';
import type { SmokeTrace, SmokeUser } from './types.js';

/** A probe's detail when it passed, else an Error with it. */
export function probeVerdict(r: { ok: boolean; detail: string }): string {
  if (!r.ok) throw new Error(r.detail);
  return r.detail;
}

/** What api.register hands its dependents. */
export interface Registered {
  summary: string;
  userId: string;
  token: string;
}

/** Registers the throwaway user; its id and its summary workflow's id go to the trace. */
export async function registerUser(apiBase: string, user: Pick<SmokeUser, 'email' | 'password' | 'displayName' | 'day'>, trace: SmokeTrace, signal: AbortSignal): Promise<Registered> {
  const r = await apiCall<{ user: { id: string }; session: { accessToken: string } }>(apiBase, '/api/auth/register', { body: { email: user.email, password: user.password, displayName: user.displayName }, signal, trace });
  expectStatus(r, 201, 'POST /api/auth/register');
  trace.userId = r.body.user.id;
  trace.workflowIds.add(`daily-summary:${r.body.user.id}:${user.day}`);
  // The session of the registration lets the data checks start while log-in runs beside them.
  return { summary: `registered ${user.email}`, userId: r.body.user.id, token: r.body.session.accessToken };
}

/** Logs the throwaway user in; the answer must carry a token and the user's own email. */
export async function logIn(apiBase: string, user: Pick<SmokeUser, 'email' | 'password'>, trace: SmokeTrace, signal: AbortSignal): Promise<{ summary: string; token: string }> {
  const r = await apiCall<{ accessToken: string; user: { email: string } }>(apiBase, '/api/auth/login', { body: { email: user.email, password: user.password }, signal, trace });
  expectStatus(r, 200, 'POST /api/auth/login');
  if (!r.body.accessToken || r.body.user.email !== user.email) throw new Error('login answered without a token for the user');
  return { summary: 'logged in', token: r.body.accessToken };
}

/** The query of the weight series over the user's UTC day, in 1-day buckets. */
export function seriesQuery(day: string): URLSearchParams {
  const from = `${day}T00:00:00.000Z`;
  const to = new Date(Date.parse(from) + 86_400_000).toISOString();
  return new URLSearchParams({ metric: 'weight', from, to, bucket: '1d' });
}

/** The series must hold exactly the one point written, with its value. */
export function seriesVerdict(buckets: readonly { avg: number; count: number }[], weightKg: number): void {
  const b = buckets;
  if (b.length !== 1 || b[0]!.count !== 1 || Math.abs(b[0]!.avg - weightKg) > 1e-6) throw new Error(`series answered ${JSON.stringify(b)}; expected one bucket of 1 point, avg ${weightKg}`);
}

/** Writes the run's weight point and reads it back through the bucketed series. */
export async function writeAndReadWeight(apiBase: string, token: string, user: Pick<SmokeUser, 'pointTime' | 'weightKg' | 'day'>, trace: SmokeTrace, signal: AbortSignal): Promise<{ summary: string; token: string }> {
  const w = await apiCall(apiBase, '/api/biometrics', { token, body: { points: [{ time: user.pointTime, metric: 'weight', value: user.weightKg, source: 'helfy-smoke' }] }, signal, trace });
  expectStatus(w, 201, 'POST /api/biometrics');
  const r = await apiCall<{ buckets: { avg: number; count: number }[]; engine: string }>(apiBase, `/api/biometrics/series?${seriesQuery(user.day)}`, { token, signal });
  expectStatus(r, 200, 'GET /api/biometrics/series');
  seriesVerdict(r.body.buckets, user.weightKg);
  return { summary: `weight ${user.weightKg} kg read back (${r.body.engine})`, token };
}

export function apiHealthCheck(apiBase: string, timeoutMs: number): CheckDef {
  return {
    id: 'api.health', group: 'api', name: 'GET /health', timeoutMs, service: 'api',
    run: async () => probeVerdict(await probeHttp(`${apiBase}/health`, timeoutMs, true)),
  };
}

export function apiReadyCheck(apiBase: string, timeoutMs: number): CheckDef {
  return {
    id: 'api.ready', group: 'api', name: 'GET /health/ready', timeoutMs, service: 'api',
    run: async () => probeVerdict(await probeReady(`${apiBase}/health/ready`, timeoutMs)),
  };
}

export function registerCheck(apiBase: string, user: SmokeUser, trace: SmokeTrace, timeoutMs: number): CheckDef {
  return {
    id: 'api.register', group: 'api', name: 'a throwaway user registers', timeoutMs, service: 'api',
    run: ({ signal }) => registerUser(apiBase, user, trace, signal),
  };
}

export function loginCheck(apiBase: string, user: SmokeUser, trace: SmokeTrace, timeoutMs: number): CheckDef {
  return {
    id: 'api.login', group: 'api', name: 'the throwaway user logs in', timeoutMs, service: 'api', needs: ['api.register'],
    run: ({ signal }) => logIn(apiBase, user, trace, signal),
  };
}

export function biometricsCheck(apiBase: string, user: SmokeUser, trace: SmokeTrace, timeoutMs: number): CheckDef {
  return {
    id: 'api.biometrics', group: 'api', name: 'writes a biometric and reads it back through the bucketed series', timeoutMs, service: 'api', needs: ['api.register'],
    async run({ signal, results }) {
      const { token } = results.get('api.register') as { token: string };
      return writeAndReadWeight(apiBase, token, user, trace, signal);
    },
  };
}

/** The api group, in report order (`apiBase` is the API's origin, e.g. http://127.0.0.1:3000). */
export function apiChecks(apiBase: string, user: SmokeUser, trace: SmokeTrace, timeoutMs: number): CheckDef[] {
  return [
    apiHealthCheck(apiBase, timeoutMs),
    apiReadyCheck(apiBase, timeoutMs),
    registerCheck(apiBase, user, trace, timeoutMs),
    loginCheck(apiBase, user, trace, timeoutMs),
    biometricsCheck(apiBase, user, trace, timeoutMs),
  ];
}
