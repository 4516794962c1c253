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
  // Meals and workouts: the user's today is not known before the answers come (it is the daily
  // figures' `today`), and it lies within the UTC dates yesterday..tomorrow and within the last 26
  // hours (a 25-hour DST day included); so both are asked for that span, in parallel with the rest,
  // and cut to the user's today here. The nutrition route counts the caller's local days itself.
  const now = Date.now();
  const utcToday = Math.floor(now / DAY) * DAY;
  const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
  const metrics = [...new Set([metric, ...DASHBOARD_METRICS])];
  const r = await withApi(async () => {
    const [user, daily, totals, workouts] = await Promise.all([
      me(token),
      dailyFigures(token, metrics),
      optional(nutritionDaily(token, isoDay(utcToday - DAY), isoDay(utcToday + DAY))),
      optional(workoutsSince(token, new Date(now - 26 * 3_600_000))).then((w) => w ?? []),
    ]);
    return { user, daily, totals, workouts };
  });
  const saved = q.saved;
  if (!r.ok) {
    const from = utcToday - 29 * DAY;
    return { apiDown: r.apiDown, metric, from, to: utcToday + DAY, day: new Date(utcToday).toISOString().slice(0, 10), saved } as const;
  }
  const { user, daily, totals, workouts } = r.value;
  const localDay = new Intl.DateTimeFormat('en-CA', { timeZone: daily.timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
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
    totals: totals?.find((x) => x.day === daily.today) ?? null,
    workouts: workouts.filter((w) => localDay.format(new Date(w.time)) === daily.today).map((w) => ({ id: w.id, time: w.time, name: w.name, sets: w.sets, volumeKg: w.volumeKg })),
  } as const;
}
export type Data = Awaited<ReturnType<typeof data>>;
