import type { PageContextServer } from 'vike/types';
import { ApiResponseError, dailyFigures, me, nutritionDaily, workoutsSince, type Bucket } from '../../server/api.js';
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
  // The tiles and the chart: the API's daily figures (its daily aggregate) over the user's local
  // days, the 30 ending their today. A local day is drawn at its date's UTC midnight (`dayAt`), so
  // the chart and the labels (formatted as UTC dates) show the user's own dates.
  // Meals and workouts are still read by UTC day (their routes count UTC days).
  const now = Date.now();
  const utcToday = Math.floor(now / DAY) * DAY;
  const metrics = [...new Set([metric, ...DASHBOARD_METRICS])];
  const r = await withApi(async () => {
    const [user, daily, totals, workouts] = await Promise.all([
      me(token),
      dailyFigures(token, metrics),
      optional(nutritionDaily(token, new Date(utcToday).toISOString().slice(0, 10))),
      optional(workoutsSince(token, new Date(utcToday))).then((w) => w ?? []),
    ]);
    return { user, daily, totals, workouts };
  });
  const saved = q.saved;
  if (!r.ok) {
    const from = utcToday - 29 * DAY;
    return { apiDown: r.apiDown, metric, from, to: utcToday + DAY, day: new Date(utcToday).toISOString().slice(0, 10), saved } as const;
  }
  const { user, daily, totals, workouts } = r.value;
  const dayAt = (day: string) => Date.parse(`${day}T00:00:00Z`);
  const from = dayAt(daily.from);
  const to = dayAt(daily.to) + DAY;
  const points: Bucket[] = daily.days.filter((d) => d.metric === metric).map((d) => ({ t: dayAt(d.day), avg: d.avg, min: d.min, max: d.max, count: d.count }));
  const today = DASHBOARD_METRICS.map((m) => {
    const last = daily.days.filter((d) => d.metric === m).reduce<(typeof daily.days)[number] | undefined>((a, b) => (!a || b.day > a.day ? b : a), undefined);
    return { metric: m, value: last?.value, isToday: last ? last.day === daily.today : false, day: last ? dayAt(last.day) : undefined };
  });
  return {
    apiDown: undefined,
    metric,
    from,
    to,
    day: daily.today,
    timezone: daily.timezone,
    saved,
    user: { displayName: user.displayName, email: user.email },
    points,
    today,
    totals: totals ?? null,
    workouts: workouts.map((w) => ({ id: w.id, time: w.time, name: w.name, sets: w.sets, volumeKg: w.volumeKg })),
  } as const;
}
export type Data = Awaited<ReturnType<typeof data>>;
