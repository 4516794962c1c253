import type { PageContextServer } from 'vike/types';
import { ApiResponseError, biometricRange, me, nutritionDaily, workoutsSince, type Bucket } from '../../server/api.js';
import { tokenOrLogin, withApi } from '../../server/pagedata.js';
import { DASHBOARD_METRICS, METRICS } from '../../components/metrics.js';

const DAY = 86_400_000;

/** A part of the dashboard the API does not offer (404) is left out rather than failing the page. */
const optional = <T>(p: Promise<T>): Promise<T | undefined> =>
  p.catch((e) => {
    if (e instanceof ApiResponseError && e.status === 404) return undefined;
    throw e;
  });

export async function data(pageContext: PageContextServer) {
  const token = tokenOrLogin(pageContext);
  const q = pageContext.urlParsed.search;
  const metric = q.metric && METRICS[q.metric] ? q.metric : 'weight';
  // Days are UTC days, as the API buckets them. The chart covers today and the 29 days before it.
  const now = Date.now();
  const todayStart = Math.floor(now / DAY) * DAY;
  const from = todayStart - 29 * DAY;
  const to = todayStart + DAY;
  const day = new Date(todayStart).toISOString().slice(0, 10);
  const metrics = [...new Set([metric, ...DASHBOARD_METRICS])];
  const r = await withApi(async () => {
    const [user, ranges, totals, workouts] = await Promise.all([
      me(token),
      Promise.all(metrics.map((m) => biometricRange(token, m, new Date(from), new Date(to)))),
      optional(nutritionDaily(token, day)),
      optional(workoutsSince(token, new Date(todayStart))).then((w) => w ?? []),
    ]);
    const series: Record<string, Bucket[]> = {};
    metrics.forEach((m, i) => (series[m] = ranges[i]!));
    return { user, series, totals, workouts };
  });
  const saved = q.saved;
  if (!r.ok) return { apiDown: r.apiDown, metric, from, to, day, saved } as const;
  const { user, series, totals, workouts } = r.value;
  const today = DASHBOARD_METRICS.map((m) => {
    const s = series[m] ?? [];
    const last = s.length ? s.reduce((a, b) => (b.t > a.t ? b : a)) : undefined;
    return { metric: m, value: last?.avg, isToday: last ? last.t >= todayStart : false, day: last?.t };
  });
  return {
    apiDown: undefined,
    metric,
    from,
    to,
    day,
    saved,
    user: { displayName: user.displayName, email: user.email },
    points: series[metric] ?? [],
    today,
    totals: totals ?? null,
    workouts: workouts.map((w) => ({ id: w.id, time: w.time, name: w.name, sets: w.sets, volumeKg: w.volumeKg })),
  } as const;
}
export type Data = Awaited<ReturnType<typeof data>>;
