/**
 * The forms, as plain HTML form posts (they work without JavaScript). Success: 303 to the next
 * page (post/redirect/get). Failure: the same page rendered again (status 422 or 503) with the
 * values entered and each error next to the field it names.
 */
import type { Hono, Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie } from 'hono/cookie';
import { METRICS } from '../components/metrics.js';
import { api, ApiResponseError, ApiUnavailableError, routes, type Tokens } from './api.js';
import { clientIp, type FormState, type WebContext, type WebVariables } from './context.js';
import { safeNext } from './redirect.js';
import { clearSessionCookies, REFRESH_COOKIE, setSessionCookies } from './session.js';

type Values = Record<string, string>;

async function readForm(c: WebContext): Promise<Values> {
  const body = await c.req.parseBody();
  const values: Values = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') values[k] = v.trim();
  return values;
}

/** Renders the page of this URL again with the form state, under the given status. */
async function again(c: WebContext, next: Next, form: FormState, status: number): Promise<Response> {
  c.set('form', form);
  await next();
  // Vike has answered (c.res is final): replace it with the same page under our status.
  const res = c.res;
  c.res = undefined;
  c.res = new Response(res.body, { status, headers: res.headers });
  return c.res;
}

/** API field path (`points.0.value`, `sets.1.reps`) → form field name via `map`, else the last segment. */
export function fieldErrors(e: ApiResponseError, map: (path: string[]) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, message] of Object.entries(e.fields)) {
    const name = map(field.split('.')) ?? field.split('.').at(-1)!;
    if (!(name in out)) out[name] = message;
  }
  return out;
}

/** What a failed API call means for the form: 4xx → the API's message (and fields); down → 503. */
function failure(e: unknown, values: Values, map: (path: string[]) => string | undefined = () => undefined): { form: FormState; status: number } {
  const safe = { ...values };
  delete safe.password;
  if (e instanceof ApiUnavailableError) return { form: { values: safe, errors: {}, message: 'The Helfy API is not reachable right now; nothing was saved. Try again in a moment.' }, status: 503 };
  if (e instanceof ApiResponseError && e.status < 500) {
    const errors = fieldErrors(e, map);
    return { form: { values: safe, errors, ...(Object.keys(errors).length ? {} : { message: e.message }) }, status: e.status === 401 || e.status === 429 ? e.status : 422 };
  }
  return { form: { values: safe, errors: {}, message: 'Something went wrong on the server; nothing was saved.' }, status: 500 };
}

function requireSession(c: WebContext): string | Response {
  const s = c.get('session');
  if (!s) return c.redirect('/login?next=' + encodeURIComponent(new URL(c.req.url).pathname), 303);
  return s.accessToken;
}

/** `2026-12-01T08:30` from a datetime-local input (the browser's local time, offset in tz_offset) → ISO. */
export function toIso(local: string | undefined, tzOffsetMin: string | undefined): string | undefined {
  if (!local) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return undefined;
  const off = Number(tzOffsetMin ?? 0) || 0; // Date#getTimezoneOffset(): minutes behind UTC
  const utc = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!) + off * 60_000;
  return new Date(utc).toISOString();
}

/** Form bodies are small: 64 kB is far above a 30-set workout. */
const FORM_LIMIT = bodyLimit({
  maxSize: 64 * 1024,
  onError: (c) => c.text('The form is too large.', 413),
});

export function registerForms(app: Hono<{ Variables: WebVariables }>): void {
  for (const path of ['/signup', '/login', '/logout', '/log/*']) app.post(path, FORM_LIMIT);

  app.post('/signup', async (c, next) => {
    const v = await readForm(c);
    const errors: Record<string, string> = {};
    if (!v.displayName) errors.displayName = 'Enter your name';
    if (!v.email) errors.email = 'Enter your email address';
    if (!v.password) errors.password = 'Choose a password';
    if (Object.keys(errors).length) return again(c, next, { values: { ...v, password: '' }, errors }, 422);
    try {
      const r = await api<{ user: unknown; session: Tokens }>(routes.register, { body: { email: v.email, password: v.password, displayName: v.displayName }, clientIp: clientIp(c) });
      setSessionCookies(c, r.session);
      return c.redirect('/dashboard', 303);
    } catch (e) {
      const f = failure(e, v);
      if (e instanceof ApiResponseError && e.status === 409) f.form.errors = { email: e.message };
      return again(c, next, f.form, f.status);
    }
  });

  app.post('/login', async (c, next) => {
    const v = await readForm(c);
    const errors: Record<string, string> = {};
    if (!v.email) errors.email = 'Enter your email address';
    if (!v.password) errors.password = 'Enter your password';
    if (Object.keys(errors).length) return again(c, next, { values: { ...v, password: '' }, errors }, 422);
    try {
      setSessionCookies(c, await api<Tokens>(routes.login, { body: { email: v.email, password: v.password }, clientIp: clientIp(c) }));
      return c.redirect(safeNext(v.next, '/dashboard'), 303);
    } catch (e) {
      const f = failure(e, v);
      if (e instanceof ApiResponseError && e.status === 401) f.form = { values: { email: v.email ?? '' }, errors: { password: 'Wrong email or password' } };
      if (e instanceof ApiResponseError && e.status === 429) f.form = { values: { email: v.email ?? '' }, errors: {}, message: e.message };
      return again(c, next, f.form, f.status);
    }
  });

  app.post('/logout', async (c) => {
    const refresh = getCookie(c, REFRESH_COOKIE);
    const s = c.get('session');
    if (refresh) {
      // Best effort: the cookies go in any case.
      await api(routes.logout, { body: { refreshToken: refresh }, token: s?.accessToken, clientIp: clientIp(c) }).catch(() => undefined);
    }
    clearSessionCookies(c);
    return c.redirect('/login?loggedOut=1', 303);
  });

  app.post('/log/biometric', async (c, next) => {
    const token = requireSession(c);
    if (token instanceof Response) return token;
    const v = await readForm(c);
    const info = METRICS[v.metric ?? ''];
    const errors: Record<string, string> = {};
    if (!info) errors.metric = 'Choose what you measured';
    const value = Number((v.value ?? '').replace(',', '.'));
    if (!v.value) errors.value = 'Enter a value';
    else if (!Number.isFinite(value)) errors.value = 'Enter a number';
    if (v.time && !toIso(v.time, v.tzOffset)) errors.time = 'Enter a date and time';
    if (Object.keys(errors).length) return again(c, next, { values: v, errors }, 422);
    const time = toIso(v.time, v.tzOffset) ?? new Date().toISOString();
    try {
      const apiValue = Math.round(value * info!.scale * 1e6) / 1e6;
      await api(routes.biometrics, { token, body: { points: [{ time, metric: v.metric, value: apiValue, unit: info!.apiUnit, source: 'manual' }] } });
      return c.redirect(`/dashboard?metric=${encodeURIComponent(v.metric!)}&saved=biometric`, 303);
    } catch (e) {
      if (e instanceof ApiResponseError && e.status === 401) return c.redirect('/login?expired=1', 303);
      const f = failure(e, v, (p) => (p[0] === 'points' ? p.at(-1) : undefined));
      return again(c, next, f.form, f.status);
    }
  });

  app.post('/log/workout', async (c, next) => {
    const token = requireSession(c);
    if (token instanceof Response) return token;
    const v = await readForm(c);
    const rows = Math.min(30, Math.max(1, Number(v.rows) || 3));
    if (v.action === 'addSet') return again(c, next, { values: { ...v, rows: String(rows + 1) }, errors: {} }, 200);
    const errors: Record<string, string> = {};
    const sets: { exerciseId: string; reps?: number; weightKg?: number }[] = [];
    for (let i = 0; i < rows; i++) {
      const ex = v[`exercise_${i}`];
      const reps = v[`reps_${i}`];
      const weight = v[`weight_${i}`];
      if (!ex && !reps && !weight) continue;
      if (!ex) errors[`exercise_${i}`] = 'Choose an exercise';
      const r = Number(reps);
      if (!reps || !Number.isInteger(r) || r < 1) errors[`reps_${i}`] = 'Enter the repetitions (a whole number)';
      const w = weight ? Number(weight.replace(',', '.')) : undefined;
      if (w !== undefined && (!Number.isFinite(w) || w < 0)) errors[`weight_${i}`] = 'Enter a weight in kg (0 or more)';
      sets.push({ exerciseId: ex ?? '', reps: r, ...(w !== undefined ? { weightKg: w } : {}) });
    }
    if (!sets.length) errors.exercise_0 = 'Add at least one set';
    if (v.time && !toIso(v.time, v.tzOffset)) errors.time = 'Enter a date and time';
    if (Object.keys(errors).length) return again(c, next, { values: v, errors }, 422);
    const time = toIso(v.time, v.tzOffset) ?? new Date().toISOString();
    // rowOf: API set index → the form row it came from (empty rows were skipped).
    const rowOf: number[] = [];
    for (let i = 0; i < rows; i++) if (v[`exercise_${i}`] || v[`reps_${i}`] || v[`weight_${i}`]) rowOf.push(i);
    try {
      await api(routes.workouts, { token, body: { time, ...(v.name ? { name: v.name } : {}), status: 'completed', sets } });
      return c.redirect('/dashboard?saved=workout', 303);
    } catch (e) {
      if (e instanceof ApiResponseError && e.status === 401) return c.redirect('/login?expired=1', 303);
      const f = failure(e, v, (p) => {
        if (p[0] !== 'sets' || p.length < 3) return undefined;
        const row = rowOf[Number(p[1])] ?? 0;
        const key = p[2] === 'exerciseId' ? 'exercise' : p[2] === 'weightKg' ? 'weight' : p[2];
        return `${key}_${row}`;
      });
      // 422 "unknown exercise" without field details: put it on the first row.
      if (e instanceof ApiResponseError && !Object.keys(f.form.errors).length && /exercise/i.test(e.message)) f.form.errors = { exercise_0: e.message };
      return again(c, next, f.form, f.status);
    }
  });

  app.post('/log/meal', async (c, next) => {
    const token = requireSession(c);
    if (token instanceof Response) return token;
    const v = await readForm(c);
    const rows = Math.min(30, Math.max(1, Number(v.rows) || 3));
    if (v.action === 'addFood') return again(c, next, { values: { ...v, rows: String(rows + 1) }, errors: {} }, 200);
    const errors: Record<string, string> = {};
    const items: { row: number; foodId: string; grams: number }[] = [];
    for (let i = 0; i < rows; i++) {
      const food = v[`food_${i}`];
      const grams = v[`grams_${i}`];
      if (!food && !grams) continue;
      if (!food) errors[`food_${i}`] = 'Choose a food';
      const g = Number((grams ?? '').replace(',', '.'));
      if (!grams || !Number.isFinite(g) || g <= 0) errors[`grams_${i}`] = 'Enter the amount in grams';
      items.push({ row: i, foodId: food ?? '', grams: g });
    }
    if (!items.length) errors.food_0 = 'Add at least one food';
    if (v.time && !toIso(v.time, v.tzOffset)) errors.time = 'Enter a date and time';
    if (Object.keys(errors).length) return again(c, next, { values: v, errors }, 422);
    const time = toIso(v.time, v.tzOffset) ?? new Date().toISOString();
    try {
      // One request, one transaction: every food is checked first, all or nothing.
      await api(routes.nutritionBatch, { token, body: { entries: items.map((it) => ({ time, meal: v.meal || 'other', foodId: it.foodId, quantityG: it.grams })) } });
      return c.redirect('/dashboard?saved=meal', 303);
    } catch (e) {
      if (e instanceof ApiResponseError && e.status === 401) return c.redirect('/login?expired=1', 303);
      // entries.<i>.foodId / .quantityG → the form row that entry came from.
      const f = failure(e, v, (p) => {
        if (p[0] !== 'entries' || p.length < 3) return undefined;
        const row = items[Number(p[1])]?.row ?? 0;
        return p[2] === 'foodId' ? `food_${row}` : p[2] === 'quantityG' ? `grams_${row}` : `${p[2]}_${row}`;
      });
      if (e instanceof ApiResponseError && e.code === 'UNKNOWN_FOOD') for (const k of Object.keys(f.form.errors)) f.form.errors[k] = 'This food is not in the library';
      return again(c, next, f.form, f.status);
    }
  });
}
