/**
 * The one client of the Helfy API, used only on the server (+data hooks, form handlers, +server.ts).
 * The API address is read from API_URL at call time (compose sets it at run time; never inlined
 * at build time). Every call has a timeout, so a dead API gives a clear message, never a hang.
 */

import { metricInfo } from '../components/metrics.js';

export class ApiUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiUnavailableError';
  }
}

/** A 4xx/5xx answer of the API, with its `{ error: { code, message, details } }` body. */
export class ApiResponseError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** field name → message, from `details[].field` of a validation error. */
    readonly fields: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiResponseError';
  }
}

export function apiBaseUrl(): string {
  return (process.env.API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
}

/**
 * The headers that speak for the browser to the API: its address as X-Forwarded-For and, when
 * PROXY_SECRET is set (read at call time; helfy's native runtime sets it, where every local
 * program reaches the API from 127.0.0.1 like this server), that secret as X-Proxy-Secret: the
 * API believes the address only with it. Never logged. Without an address, neither header.
 */
export function forwardedFor(ip: string | undefined): { 'x-forwarded-for'?: string; 'x-proxy-secret'?: string } {
  if (!ip) return {};
  const secret = process.env.PROXY_SECRET;
  return secret ? { 'x-forwarded-for': ip, 'x-proxy-secret': secret } : { 'x-forwarded-for': ip };
}

const TIMEOUT_MS = Number(process.env.API_TIMEOUT_MS ?? 5000);

export interface CallOptions {
  method?: string;
  token?: string | undefined;
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  /** The browser's address, sent as X-Forwarded-For (the API's per-address log-in limit, with TRUST_PROXY); see forwardedFor. */
  clientIp?: string | undefined;
}

export async function api<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const url = new URL(apiBaseUrl() + path);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  Object.assign(headers, forwardedFor(opts.clientIp));
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new ApiUnavailableError(`the Helfy API at ${url.origin} did not answer (${cause})`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    if (res.status === 502 || res.status === 504) throw new ApiUnavailableError(`the Helfy API at ${url.origin} answered ${res.status}`);
    const err = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const fields: Record<string, string> = {};
    // Validation: details = [{ field, message }]; a refused reference (422): details.fields = ['sets.0.exerciseId'].
    const details = err?.details;
    if (Array.isArray(details)) {
      for (const d of details as { field?: string; message?: string }[]) if (d.field && d.message && !(d.field in fields)) fields[d.field] = d.message;
    } else if (details && typeof details === 'object' && Array.isArray((details as { fields?: unknown }).fields)) {
      const msg = (err?.message ?? 'refused').replace(/^[\w.]+: /, '');
      for (const f of (details as { fields: unknown[] }).fields) if (typeof f === 'string' && !(f in fields)) fields[f] = msg;
    }
    throw new ApiResponseError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `the API answered ${res.status}`, fields);
  }
  return json as T;
}

// ---------------------------------------------------------------------------------------------
// The routes the web app uses (one place: a renamed route is a one-line change).
// ---------------------------------------------------------------------------------------------

export interface User {
  id: string;
  email: string;
  displayName: string;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  /** Access token lifetime in seconds. */
  expiresIn?: number;
  refreshExpiresAt?: string;
}

export const routes = {
  register: '/api/auth/register',
  login: '/api/auth/login',
  refresh: '/api/auth/refresh',
  logout: '/api/auth/logout',
  me: '/api/me',
  biometrics: '/api/biometrics',
  biometricsSeries: '/api/biometrics/series',
  biometricsDaily: '/api/biometrics/daily',
  workouts: '/api/workouts',
  nutrition: '/api/nutrition',
  nutritionBatch: '/api/nutrition/batch',
  nutritionDaily: '/api/nutrition/daily',
  exercises: '/api/library/exercises',
  exercise: (id: string) => `/api/library/exercises/${encodeURIComponent(id)}`,
  alternatives: (id: string) => `/api/library/exercises/${encodeURIComponent(id)}/alternatives`,
  foods: '/api/library/foods',
  food: (id: string) => `/api/library/foods/${encodeURIComponent(id)}`,
};

// ---------------------------------------------------------------------------------------------
// Typed calls with the answers normalised to what the pages show.
// ---------------------------------------------------------------------------------------------

export interface Bucket {
  /** Bucket start, ms since the epoch. */
  t: number;
  avg: number;
  min: number;
  max: number;
  count: number;
}

type RawBucket = { bucket?: string; time?: string; start?: string; avg: number; min: number; max: number; count: number };

/** The API's bucketed range query (daily buckets unless told otherwise). */
export async function biometricRange(token: string, metric: string, from: Date, to: Date, bucket = '1d'): Promise<Bucket[]> {
  const r = await api<{ buckets?: RawBucket[] } | RawBucket[]>(routes.biometricsSeries, {
    token,
    query: { metric, from: from.toISOString(), to: to.toISOString(), bucket },
  });
  const rows = Array.isArray(r) ? r : (r.buckets ?? []);
  // Values come in the API's unit; the pages show them in the metric's display unit.
  const k = metricInfo(metric).scale;
  return rows.map((b) => ({ t: Date.parse((b.bucket ?? b.time ?? b.start)!), avg: Number(b.avg) / k, min: Number(b.min) / k, max: Number(b.max) / k, count: Number(b.count) }));
}

/** One metric's figures on one of the user's local days (values in the metric's display unit). */
export interface DayFigure {
  /** The local day, YYYY-MM-DD. */
  day: string;
  metric: string;
  /** The day's figure: the total for additive metrics (steps, sleep), the average otherwise. */
  value: number;
  avg: number;
  min: number;
  max: number;
  count: number;
}

export interface DailyFigures {
  /** The user's time zone, which the days follow. */
  timezone: string;
  /** The user's local date now. */
  today: string;
  from: string;
  to: string;
  days: DayFigure[];
}

/** The API's daily figures (from its daily aggregate) of several metrics over the user's local days, by default the 30 ending today. */
export async function dailyFigures(token: string, metrics: readonly string[], range: { from?: string; to?: string } = {}): Promise<DailyFigures> {
  const r = await api<DailyFigures>(routes.biometricsDaily, { token, query: { metrics: metrics.join(','), ...range } });
  return {
    ...r,
    days: r.days.map((d) => {
      const k = metricInfo(d.metric).scale;
      return { day: d.day, metric: d.metric, value: Number(d.value) / k, avg: Number(d.avg) / k, min: Number(d.min) / k, max: Number(d.max) / k, count: Number(d.count) };
    }),
  };
}

export interface DailyTotals {
  energyKcal: number;
  proteinG: number;
  fatG: number;
  carbsG: number;
  entries?: number;
}

/** Totals per local day (the API counts the caller's own days) over [from, to]. */
export async function nutritionDaily(token: string, from: string, to: string): Promise<(DailyTotals & { day: string })[]> {
  const r = await api<{ days: (DailyTotals & { day: string })[] }>(routes.nutritionDaily, { token, query: { from, to } });
  return r.days;
}

export interface WorkoutSummary {
  id: string;
  time: string;
  name: string | null;
  /** Number of sets. */
  sets: number;
  volumeKg: number;
}

export async function workoutsSince(token: string, from: Date): Promise<WorkoutSummary[]> {
  const r = await api<{ items: WorkoutSummary[] }>(routes.workouts, { token, query: { from: from.toISOString(), limit: 20 } });
  return r.items;
}

export interface Me extends User {
  createdAt?: string;
}

export const me = (token: string) => api<Me>(routes.me, { token });

export interface ExerciseSummary {
  id: string;
  name: string;
  level: string | null;
  category: string | null;
  equipment: string[];
  primaryMuscles: string[];
}

export interface ExerciseFilters {
  q?: string | undefined;
  muscle?: string | undefined;
  region?: string | undefined;
  equipment?: string | undefined;
  category?: string | undefined;
  level?: string | undefined;
  limit?: number;
}

const list = <T>(r: unknown, ...keys: string[]): T[] => {
  if (Array.isArray(r)) return r as T[];
  for (const k of keys) {
    const v = (r as Record<string, unknown> | undefined)?.[k];
    if (Array.isArray(v)) return v as T[];
  }
  return [];
};

export async function searchExercises(token: string, f: ExerciseFilters): Promise<ExerciseSummary[]> {
  const r = await api<unknown>(routes.exercises, { token, query: { ...f, limit: f.limit ?? 50 } });
  return list<ExerciseSummary>(r, 'items', 'exercises', 'results');
}

export interface Muscle {
  name: string;
  region?: string | null;
}

export interface ExerciseDetail {
  id: string;
  name: string;
  level: string | null;
  category: string | null;
  force: string | null;
  mechanic: string | null;
  instructions: string[];
  primaryMuscles: Muscle[];
  secondaryMuscles: Muscle[];
  equipment: string[];
}

export const exerciseDetail = (token: string, id: string) => api<ExerciseDetail>(routes.exercise(id), { token });

export async function alternatives(token: string, id: string, equipment?: string[]): Promise<{ id: string; name: string; sharedMuscles: string[]; equipment: string[] }[]> {
  const r = await api<unknown>(routes.alternatives(id), { token, query: { equipment: equipment?.join(','), limit: 10 } });
  return list(r, 'items', 'alternatives', 'results');
}

export interface FoodSummary {
  id: string;
  name: string;
  brand: string | null;
  group: string | null;
  energyKcal: number | null;
}

export async function searchFoods(token: string, q: string | undefined, limit = 50): Promise<FoodSummary[]> {
  const r = await api<unknown>(routes.foods, { token, query: { q, limit } });
  return list<FoodSummary>(r, 'items', 'foods', 'results');
}

