/**
 * The web app without a browser (what curl sees): the built server (`node dist/server/index.mjs`)
 * against the real API on real PostgreSQL + Neo4j. Pages are complete HTML from the server; the
 * session is two httpOnly cookies; bad input (wrong fields, forged or expired cookies, a dead API)
 * gets a clear page.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browserless, buildWeb, signJwt, startStack, startWeb, type Stack, type WebServer } from './harness.js';

let stack: Stack;
let web: WebServer;

beforeAll(async () => {
  buildWeb();
  stack = await startStack();
  web = await startWeb(stack.api.url);
}, 240_000);

afterAll(async () => {
  await web?.stop();
  await stack?.stop();
}, 60_000);

const text = (html: string) => html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ').replace(/&nbsp;|\s+/g, ' ');
const DAY = 86_400_000;

async function signUp(email: string, name = 'Ada Lovelace'): Promise<Browserless> {
  const b = new Browserless(web.url);
  const r = await b.request('/signup', { method: 'POST', form: { displayName: name, email, password: 'correct horse battery' } });
  expect(r.status).toBe(303);
  expect(r.headers.get('location')).toBe('/dashboard');
  return b;
}

describe('server basics', () => {
  it('GET /health answers the compose healthcheck contract', async () => {
    const r = await fetch(`${web.url}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok', service: 'web', version: '0.1.0' });
  });

  it('an unknown URL is a 404 page, not a 500', async () => {
    const r = await fetch(`${web.url}/no/such/page`);
    expect(r.status).toBe(404);
    const html = await r.text();
    expect(html).toContain('<h1>Page not found</h1>');
  });

  it('SIGTERM: stops accepting, exits 0 promptly (not killed by the signal: PID 1 in a container ignores it otherwise)', async () => {
    const other = await startWeb(stack.api.url);
    const t0 = Date.now();
    const exited = new Promise<[number | null, string | null]>((res) => other.proc.once('exit', (code, sig) => res([code, sig])));
    other.proc.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(other.output()).toMatch(/"msg":"shutting down","service":"web","signal":"SIGTERM"/);
  });

  it('every input of the sign-up and log-in forms has a label', async () => {
    for (const path of ['/signup', '/login']) {
      const html = await (await fetch(web.url + path)).text();
      const ids = [...html.matchAll(/<(?:input|select)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"/g)].map((m) => m[1]);
      expect(ids.length).toBeGreaterThanOrEqual(2);
      for (const id of ids) expect(html).toContain(`for="${id}"`);
    }
  });
});

describe('sessions', () => {
  it('sign-up sets the tokens as httpOnly SameSite=Lax cookies only (nothing in the page)', async () => {
    const b = await signUp('cookies@example.com');
    const set = b.setCookies.filter((c) => /^helfy_(at|rt)=/.test(c));
    expect(set).toHaveLength(2);
    for (const c of set) {
      expect(c).toMatch(/HttpOnly/i);
      expect(c).toMatch(/SameSite=Lax/i);
      expect(c).toMatch(/Path=\//);
    }
    const html = await (await b.request('/dashboard')).text();
    expect(html).not.toContain(b.cookies.get('helfy_at')!);
    expect(html).not.toContain(b.cookies.get('helfy_rt')!);
  });

  it('a page that needs a session redirects to log in without one', async () => {
    const r = await fetch(`${web.url}/dashboard`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toMatch(/\/login\?next=%2Fdashboard$/);
  });

  it('a forged access token (wrong signature) is sent back to log in, and the cookies go', async () => {
    const b = new Browserless(web.url);
    const forged = await signJwt({ sub: '00000000-0000-4000-8000-000000000000', typ: 'access', iss: 'helfy-api', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 }, 'not-the-secret-at-all');
    b.cookies.set('helfy_at', forged);
    const r = await b.request('/dashboard');
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('/login?expired=1');
    const login = await b.request('/login?expired=1');
    expect(login.status).toBe(200);
    expect(text(await login.text())).toContain('Your session has ended. Please log in again.');
    expect(b.cookies.has('helfy_at')).toBe(false);
  });

  it('an expired access token with a refused refresh token is sent back to log in', async () => {
    const b = await signUp('expired@example.com');
    const user = (await stack.sql<{ id: string }>(`SELECT id FROM users WHERE email = 'expired@example.com'`))[0]!;
    const past = Math.floor(Date.now() / 1000) - 3600;
    b.cookies.set('helfy_at', await signJwt({ sub: user.id, typ: 'access', iss: 'helfy-api', iat: past - 900, exp: past }, stack.api.jwtSecret));
    b.cookies.set('helfy_rt', 'x'.repeat(43));
    const r = await b.request('/dashboard');
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toMatch(/^\/login/);
    expect(b.cookies.has('helfy_at')).toBe(false);
    expect(b.cookies.has('helfy_rt')).toBe(false);
  });

  it('an expired access token is refreshed with the refresh cookie, transparently', async () => {
    const b = await signUp('refresh@example.com');
    const oldRefresh = b.cookies.get('helfy_rt')!;
    const user = (await stack.sql<{ id: string }>(`SELECT id FROM users WHERE email = 'refresh@example.com'`))[0]!;
    const past = Math.floor(Date.now() / 1000) - 60;
    b.cookies.set('helfy_at', await signJwt({ sub: user.id, typ: 'access', iss: 'helfy-api', iat: past - 900, exp: past }, stack.api.jwtSecret));
    const r = await b.request('/dashboard');
    expect(r.status).toBe(200);
    expect(text(await r.text())).toContain('Hello, Ada Lovelace');
    expect(b.cookies.get('helfy_rt')).not.toBe(oldRefresh); // rotated
  });

  it('parallel requests with the same expired session share one refresh (a second use would revoke the family)', async () => {
    const b = await signUp('parallel@example.com');
    const user = (await stack.sql<{ id: string }>(`SELECT id FROM users WHERE email = 'parallel@example.com'`))[0]!;
    const past = Math.floor(Date.now() / 1000) - 60;
    b.cookies.set('helfy_at', await signJwt({ sub: user.id, typ: 'access', iss: 'helfy-api', iat: past - 900, exp: past }, stack.api.jwtSecret));
    const cookie = [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const rs = await Promise.all(Array.from({ length: 5 }, () => fetch(`${web.url}/dashboard`, { headers: { cookie }, redirect: 'manual' })));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const newRefresh = new Set(rs.map((r) => r.headers.getSetCookie().find((c) => c.startsWith('helfy_rt='))));
    expect(newRefresh.size).toBe(1);
    const tokens = await stack.sql<{ revoked: boolean }>(`SELECT revoked_at IS NOT NULL AS revoked FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at`, [user.id]);
    expect(tokens).toEqual([{ revoked: true }, { revoked: false }]); // the old one rotated, the new one live
  });

  it('wrong password: the error is shown next to the password field, the email is kept, status 401', async () => {
    await signUp('wrongpw@example.com');
    const b = new Browserless(web.url);
    const r = await b.request('/login', { method: 'POST', form: { email: 'wrongpw@example.com', password: 'not the password' } });
    expect(r.status).toBe(401);
    const html = await r.text();
    expect(html).toMatch(/<p id="f-password-error" class="error" role="alert">Wrong email or password<\/p>/);
    expect(html).toMatch(/id="f-password"[^>]*aria-describedby="f-password-error"|aria-describedby="f-password-error"[^>]*id="f-password"/);
    expect(html).toContain('value="wrongpw@example.com"');
    expect(b.cookies.size).toBe(0);
  });

  it("the API's validation errors appear next to the field they name", async () => {
    const b = new Browserless(web.url);
    const r = await b.request('/signup', { method: 'POST', form: { displayName: 'Bob', email: 'bob@example.com', password: 'short' } });
    expect(r.status).toBe(422);
    const html = await r.text();
    expect(html).toMatch(/<p id="f-password-error" class="error" role="alert">must be at least 10 characters<\/p>/);
    expect(html).toContain('value="bob@example.com"');
    expect(html).not.toContain('value="short"');
  });

  it('log-in returns to the page that asked for it', async () => {
    await signUp('next@example.com');
    const b = new Browserless(web.url);
    const ask = await b.request('/library');
    expect(ask.status).toBe(302);
    expect(ask.headers.get('location')).toBe('/login?next=%2Flibrary');
    const form = await (await b.request('/login?next=%2Flibrary')).text();
    expect(form).toContain('<input type="hidden" name="next" value="/library"/>');
    const r = await b.request('/login', { method: 'POST', form: { email: 'next@example.com', password: 'correct horse battery', next: '/library' } });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/library');
    // Never off-site.
    const off = await new Browserless(web.url).request('/login', { method: 'POST', form: { email: 'next@example.com', password: 'correct horse battery', next: '//evil.example/' } });
    expect(off.headers.get('location')).toBe('/dashboard');
    // Nor what a browser reads as off-site: `/\evil.example/` is `//evil.example/` to it (and to URL).
    const slash = await new Browserless(web.url).request('/login', { method: 'POST', form: { email: 'next@example.com', password: 'correct horse battery', next: '/\\evil.example/' } });
    expect(slash.status).toBe(303);
    const loc = slash.headers.get('location')!;
    expect(new URL(loc, web.url).origin).toBe(new URL(web.url).origin);
    expect(loc).toBe('/dashboard');
  });

  it('an unknown exercise is a 404 page that says so', async () => {
    const b = await signUp('unknown-ex@example.com');
    const r = await b.request('/library/No_Such_Exercise');
    expect(r.status).toBe(404);
    expect(text(await r.text())).toContain('There is no exercise “No_Such_Exercise” in the library.');
  });

  it('pages carry a strict Content-Security-Policy and anti-framing headers', async () => {
    const r = await fetch(`${web.url}/login`);
    expect(r.headers.get('content-security-policy')).toBe("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'");
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('an oversized form post is refused with 413 before it is read', async () => {
    const r = await fetch(`${web.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `email=a%40b.c&password=${'x'.repeat(100_000)}`, redirect: 'manual' });
    expect(r.status).toBe(413);
    expect(await r.text()).toBe('The form is too large.');
  });

  it('a form posted from another origin is refused', async () => {
    const r = await fetch(`${web.url}/login`, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a%40b.c&password=x', redirect: 'manual' });
    expect(r.status).toBe(403);
  });
});

describe('the dashboard is server-rendered with the user data', () => {
  it("shows today's numbers and the 30-day chart from the API's daily buckets, no JavaScript involved", async () => {
    const b = await signUp('dash@example.com', 'Grace Hopper');
    const token = b.cookies.get('helfy_at')!;
    // Three weeks of weights through the API itself (two samples on some days), and a resting HR today.
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY;
    const points: { time: string; metric: string; value: number; unit: string }[] = [];
    const expected = new Map<number, number[]>();
    for (let d = 20; d >= 0; d -= 2) {
      const day = today - d * DAY;
      const vals = d % 4 === 0 ? [80 - d * 0.1, 80.6 - d * 0.1] : [80.2 - d * 0.1];
      // Samples at 08:00 and 18:00, but today's between midnight and now (the API refuses the future).
      const at = (i: number) => (d === 0 ? day + Math.floor(((now - day) * (i + 1)) / 3) : day + (8 + i * 10) * 3600_000);
      vals.forEach((v, i) => points.push({ time: new Date(at(i)).toISOString(), metric: 'weight', value: Math.round(v * 100) / 100, unit: 'kg' }));
      expected.set(day, vals.map((v) => Math.round(v * 100) / 100));
    }
    points.push({ time: new Date(now - 120_000).toISOString(), metric: 'resting_heart_rate', value: 58, unit: 'bpm' });
    const ins = await fetch(`${stack.api.url}/api/biometrics`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ points }) });
    expect(ins.status).toBe(201);

    const r = await b.request('/dashboard');
    expect(r.status).toBe(200);
    const html = await r.text();
    const t = text(html);
    expect(t).toContain('Hello, Grace Hopper');
    // Today's tiles: the weight of today (avg of today's two samples) and the resting heart rate.
    const todays = expected.get(today)!;
    const todayAvg = (todays.reduce((a, v) => a + v, 0) / todays.length).toFixed(1);
    expect(html).toMatch(new RegExp(`data-metric="weight"[\\s\\S]*?<span class="tile-value">${todayAvg.replace('.', '\\.')}`));
    expect(html).toMatch(/data-metric="resting_heart_rate"[\s\S]*?<span class="tile-value">58/);
    // The chart: one dot per day with data, the latest value, and the numbers table.
    expect(html).toContain(`data-metric="weight" data-points="${expected.size}"`);
    expect(html).toContain(`<strong data-testid="chart-latest">${todayAvg}</strong>`);
    expect(html).toMatch(/Weight \(kg\), last 30 days/);
    const rows = [...html.matchAll(/<tr><td>([^<]+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><td>(\d+)<\/td><\/tr>/g)];
    expect(rows).toHaveLength(expected.size);
    const byDay = [...expected.entries()].sort((a, b) => b[0] - a[0]);
    rows.forEach((m, i) => {
      const [day, vals] = byDay[i]!;
      expect(m[1]).toBe(new Date(day).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' }));
      expect(m[2]).toBe((vals.reduce((a, v) => a + v, 0) / vals.length).toFixed(1));
      expect(m[3]).toBe(Math.min(...vals).toFixed(1));
      expect(m[4]).toBe(Math.max(...vals).toFixed(1));
      expect(Number(m[5])).toBe(vals.length);
    });
    // Axes: labelled y ticks with the unit and dated x ticks.
    expect(html).toMatch(/<text class="axis-unit"[^>]*>kg<\/text>/);
    expect(html).toContain(`>${new Date(today).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' })}</text>`);
  });
});

describe("meals and workouts on the dashboard count the user's own day", () => {
  /** The UTC instant of local midnight starting the local day that contains `at` (an independent computation: the zone's offset from Intl). */
  const offsetMs = (tz: string, at: number) => {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')!.value;
    const m = /GMT([+-])(\d\d):(\d\d)/.exec(name);
    return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000 : 0;
  };
  const localMidnight = (tz: string, at: number) => {
    const wall = at + offsetMs(tz, at);
    const guess = Math.floor(wall / DAY) * DAY - offsetMs(tz, at);
    return Math.floor(wall / DAY) * DAY - offsetMs(tz, guess);
  };

  // Each user logs a meal and a workout a minute before their local midnight and a minute after it:
  // only the second pair is today. Counted by UTC day, one of the two is always wrong for these
  // zones, whatever the time of the run (Tokyo's midnight is 15:00 UTC, Los Angeles' 07:00/08:00).
  for (const tz of ['Asia/Tokyo', 'America/Los_Angeles']) {
    it(`${tz}: only what was logged after local midnight is today`, async () => {
      const email = `local-${tz.split('/')[1]!.toLowerCase()}@example.com`;
      const b = await signUp(email, `Local ${tz}`);
      await stack.sql(`UPDATE users SET timezone = $1 WHERE email = $2`, [tz, email]);
      const token = b.cookies.get('helfy_at')!;
      const now = Date.now();
      const midnight = localMidnight(tz, now);
      if (now - midnight < 120_000) await new Promise((r) => setTimeout(r, 120_000)); // the local day has to be 2 minutes old
      const post = async (path: string, body: unknown) => {
        const r = await fetch(`${stack.api.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect(r.status, path).toBe(201);
      };
      const before = new Date(midnight - 60_000).toISOString();
      const after = new Date(midnight + 60_000).toISOString();
      await post('/api/nutrition', { time: before, foodId: '20044', meal: 'snack', quantityG: 100 }); // 365 kcal, yesterday
      await post('/api/nutrition', { time: after, foodId: '09040', meal: 'snack', quantityG: 100 }); // 89 kcal, today
      await post('/api/workouts', { time: before, name: 'Late yesterday', sets: [{ exerciseId: 'Barbell_Squat', reps: 5, weightKg: 100 }] });
      await post('/api/workouts', { time: after, name: 'Early today', sets: [{ exerciseId: 'Barbell_Squat', reps: 3, weightKg: 90 }] });
      const html = await (await b.request('/dashboard')).text();
      expect(text(html)).toContain(`( ${tz} )`); // "Today, <date> (<zone>)"
      expect(html).toMatch(/data-metric="energy"[\s\S]*?<span class="tile-value">89<!-- --> <small>kcal<\/small>/);
      expect(text(html)).toMatch(/Workouts 1 Early today \(1 set\)/);
      expect(text(html)).not.toContain('Late yesterday');
    });
  }
});

describe('logging workouts, meals and measurements through the forms', () => {
  let b: Browserless;
  beforeAll(async () => {
    b = await signUp('forms@example.com', 'Form Filler');
  });

  it('every input on every logging page has a label', async () => {
    for (const path of ['/log/biometric', '/log/workout', '/log/meal', '/library']) {
      const html = await (await b.request(path)).text();
      const ids = [...html.matchAll(/<(?:input|select)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"/g)].map((m) => m[1]);
      const inputs = [...html.matchAll(/<(?:input|select)(?![^>]*type="(?:hidden|checkbox)")/g)].length;
      expect(ids.length).toBe(inputs);
      for (const id of ids) expect(html, `${path} #${id}`).toContain(`for="${id}"`);
    }
  });

  it('the workout page offers the library exercises; a workout with two sets shows on the dashboard', async () => {
    const page = await (await b.request('/log/workout?q=squat')).text();
    expect(page).toContain('<option value="Barbell_Squat">Barbell Squat</option>');
    expect(page).not.toContain('Dumbbell_Bicep_Curl');
    const r = await b.request('/log/workout', { method: 'POST', form: { rows: '3', name: 'Leg day', exercise_0: 'Barbell_Squat', reps_0: '5', weight_0: '100', exercise_1: 'Goblet_Squat', reps_1: '12', weight_1: '24,5', action: 'save' } });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/dashboard?saved=workout');
    const sets = await stack.sql<{ exercise_id: string; reps: number; weight_kg: number; set_number: number }>(
      `SELECT s.exercise_id, s.reps, s.weight_kg, s.set_number FROM workout_sets s JOIN users u ON u.id = s.user_id WHERE u.email = 'forms@example.com' ORDER BY s.set_number`,
    );
    expect(sets).toEqual([
      { exercise_id: 'Barbell_Squat', reps: 5, weight_kg: 100, set_number: 1 },
      { exercise_id: 'Goblet_Squat', reps: 12, weight_kg: 24.5, set_number: 2 },
    ]);
    const t = text(await (await b.request('/dashboard?saved=workout')).text());
    expect(t).toContain('Workout saved.');
    expect(t).toMatch(/Workouts 1 Leg day \(2 sets\)/);
  });

  it('an exercise that is not in the library: the API refuses it and the error is next to that set', async () => {
    const r = await b.request('/log/workout', { method: 'POST', form: { rows: '2', exercise_0: 'Barbell_Squat', reps_0: '5', exercise_1: 'Not_An_Exercise', reps_1: '8', action: 'save' } });
    expect(r.status).toBe(422);
    const html = await r.text();
    expect(html).toMatch(/<p id="f-exercise_1-error" class="error" role="alert">[^<]*Not_An_Exercise[^<]*<\/p>/);
    expect(html).not.toContain('f-exercise_0-error');
    const n = await stack.sql<{ n: number }>(`SELECT count(*)::int AS n FROM workouts w JOIN users u ON u.id = w.user_id WHERE u.email = 'forms@example.com'`);
    expect(n[0]!.n).toBe(1); // only the earlier one
  });

  it('checks the sets before calling the API: reps missing → error next to that field; "Add a set" without JavaScript adds a row', async () => {
    const r = await b.request('/log/workout', { method: 'POST', form: { rows: '3', exercise_0: 'Barbell_Squat', reps_0: '', action: 'save' } });
    expect(r.status).toBe(422);
    expect(await r.text()).toMatch(/<p id="f-reps_0-error" class="error" role="alert">Enter the repetitions \(a whole number\)<\/p>/);
    const add = await b.request('/log/workout', { method: 'POST', form: { rows: '3', exercise_0: 'Goblet_Squat', action: 'addSet' } });
    expect(add.status).toBe(200);
    const html = await add.text();
    expect(html).toContain('id="f-exercise_3"');
    expect(html).toMatch(/<option value="Goblet_Squat" selected="">Goblet Squat<\/option>/);
  });

  it("a meal of two foods: the dashboard shows today's energy computed from the library foods", async () => {
    const page = await (await b.request('/log/meal?q=banana')).text();
    expect(page).toMatch(/<option value="09040">Bananas, raw · 89 kcal\/100 g<\/option>/);
    const r = await b.request('/log/meal', { method: 'POST', form: { rows: '3', meal: 'breakfast', food_0: '09040', grams_0: '120', food_1: '20044', grams_1: '50', action: 'save' } });
    expect(r.status).toBe(303);
    const html = await (await b.request('/dashboard')).text();
    // 1.2 × 89 + 0.5 × 365 = 289.3 kcal; protein 1.2 × 1.09 + 0.5 × 7.13 = 4.9 g
    expect(html).toMatch(/data-metric="energy"[\s\S]*?<span class="tile-value">289<!-- --> <small>kcal<\/small>/);
    expect(text(html)).toMatch(/Eaten today 289 kcal P 5 g · F 1 g · C 67 g/);
  });

  it("a meal with an unknown food stores nothing (one batch, one transaction) and says which food", async () => {
    const before = await stack.sql<{ n: number }>(`SELECT count(*)::int AS n FROM nutrition`);
    const r = await b.request('/log/meal', { method: 'POST', form: { rows: '2', meal: 'lunch', food_0: '09040', grams_0: '100', food_1: '99999', grams_1: '10', action: 'save' } });
    expect(r.status).toBe(422);
    expect(await r.text()).toMatch(/<p id="f-food_1-error" class="error" role="alert">This food is not in the library<\/p>/);
    expect(await stack.sql(`SELECT count(*)::int AS n FROM nutrition`)).toEqual(before);
  });

  it('an impossible measurement: the API names the value and the error sits next to it', async () => {
    const r = await b.request('/log/biometric', { method: 'POST', form: { metric: 'heart_rate', value: '10000' } });
    expect(r.status).toBe(422);
    const html = await r.text();
    expect(html).toMatch(/<p id="f-value-error" class="error" role="alert">heart_rate must be at least 20 and at most 250 bpm<\/p>/);
    expect(html).toContain('value="10000"');
    const bad = await b.request('/log/biometric', { method: 'POST', form: { metric: 'weight', value: 'heavy' } });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/<p id="f-value-error" class="error" role="alert">Enter a number<\/p>/);
  });

  it('sleep is typed in hours and stored in the API unit (minutes)', async () => {
    const r = await b.request('/log/biometric', { method: 'POST', form: { metric: 'sleep', value: '7.5' } });
    expect(r.status).toBe(303);
    const rows = await stack.sql<{ value: number; unit: string }>(`SELECT value, unit FROM biometrics b JOIN users u ON u.id = b.user_id WHERE u.email = 'forms@example.com' AND metric = 'sleep'`);
    expect(rows).toEqual([{ value: 450, unit: 'min' }]);
    const html = await (await b.request('/dashboard')).text();
    expect(html).toMatch(/data-metric="sleep"[\s\S]*?<span class="tile-value">7\.5<!-- --> <small>h<\/small>/);
  });

  it('same-origin /api/* reaches the API with the session cookie as the bearer token', async () => {
    const me = await b.request('/api/me');
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email: 'forms@example.com', displayName: 'Form Filler' });
    // A JSON POST streams through too, as the caller; from another origin it is refused.
    const post = await b.request('/api/biometrics', { method: 'POST', headers: { 'content-type': 'application/json', origin: web.url }, body: JSON.stringify({ points: [{ time: new Date(Date.now() - 5000).toISOString(), metric: 'steps', value: 4321 }] }) });
    expect(post.status).toBe(201);
    expect(await post.json()).toEqual({ inserted: 1, updated: 0, duplicates: 0 });
    const rows = await stack.sql<{ value: number }>(`SELECT value FROM biometrics b JOIN users u ON u.id = b.user_id WHERE u.email = 'forms@example.com' AND metric = 'steps'`);
    expect(rows).toEqual([{ value: 4321 }]);
    const cross = await b.request('/api/biometrics', { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://127.0.0.1:1' }, body: '{"points":[]}' });
    expect(cross.status).toBe(403);
    // The API trusts the web server's X-Forwarded-For: a browser must not be able to choose it.
    const spoof = await fetch(`${web.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' }, body: JSON.stringify({ email: 'forms@example.com', password: 'wrong password here' }) });
    expect(spoof.status).toBe(401);
    const seen = await stack.sql<{ ip: string }>(`SELECT host(ip) AS ip FROM audit_log WHERE action = 'auth.login_failed' AND metadata::text LIKE '%forms@example.com%' ORDER BY id DESC LIMIT 1`);
    expect(seen).toEqual([{ ip: '127.0.0.1' }]);
    // The web server speaks for the browser (its own X-Forwarded-For, with PROXY_SECRET): a browser
    // on 127.0.0.2 is 127.0.0.2 to the API, through the proxy and through the forms alike ...
    // (A connection to 127.0.0.2 still comes from 127.0.0.1 unless bound to 127.0.0.2: hence node:http.)
    const viaOther = (path: string, init: { headers: Record<string, string>; body: string }) =>
      new Promise<{ status: number }>((res, rej) => {
        const req = request({ host: '127.0.0.1', port: web.port, path, method: 'POST', localAddress: '127.0.0.2', headers: init.headers }, (r) => {
          r.resume();
          r.on('end', () => res({ status: r.statusCode ?? 0 }));
        });
        req.on('error', rej);
        req.end(init.body);
      });
    const lastFailure = async (email: string) =>
      stack.sql<{ ip: string }>(`SELECT host(ip) AS ip FROM audit_log WHERE action = 'auth.login_failed' AND metadata->>'email' = $1 ORDER BY id DESC LIMIT 1`, [email]);
    expect((await viaOther('/api/auth/login', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'proxied-1@example.com', password: 'wrong password here' }) })).status).toBe(401);
    expect(await lastFailure('proxied-1@example.com')).toEqual([{ ip: '127.0.0.2' }]);
    expect((await viaOther('/login', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ email: 'proxied-2@example.com', password: 'wrong password here' }).toString() })).status).toBe(401);
    expect(await lastFailure('proxied-2@example.com')).toEqual([{ ip: '127.0.0.2' }]);
    // ... while another local program's X-Forwarded-For (straight to the API, no or a wrong secret) is not believed.
    for (const headers of [{}, { 'x-proxy-secret': 'not-the-proxy-secret-0123456789' }] as Record<string, string>[]) {
      const direct = await fetch(`${stack.api.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.10', ...headers }, body: JSON.stringify({ email: 'direct@example.com', password: 'wrong password here' }) });
      expect(direct.status).toBe(401);
      expect(await lastFailure('direct@example.com')).toEqual([{ ip: '127.0.0.1' }]);
    }
    const anon = await fetch(`${web.url}/api/me`);
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { error: { code: string } }).error.code).toBe('TOKEN_MISSING');
  });
});

describe('the API is down', () => {
  it('pages say so clearly, forms save nothing and say so, /health stays 200; back when the API is', async () => {
    const b = await signUp('down@example.com');
    await stack.api.pause();
    try {
      const dash = await b.request('/dashboard');
      expect(dash.status).toBe(200);
      const t = text(await dash.text());
      expect(t).toContain('The Helfy API is not reachable right now.');
      expect(t).toContain(`the Helfy API at ${stack.api.url} did not answer (ECONNREFUSED)`);
      const lib = text(await (await b.request('/library?q=squat')).text());
      expect(lib).toContain('The Helfy API is not reachable right now.');
      const post = await b.request('/log/biometric', { method: 'POST', form: { metric: 'weight', value: '70' } });
      expect(post.status).toBe(503);
      expect(text(await post.text())).toContain('The Helfy API is not reachable right now; nothing was saved.');
      const proxied = await b.request('/api/me');
      expect(proxied.status).toBe(502);
      expect(((await proxied.json()) as { error: { code: string } }).error.code).toBe('API_UNAVAILABLE');
      const h = await fetch(`${web.url}/health`);
      expect(h.status).toBe(200);
      expect(((await h.json()) as { status: string }).status).toBe('ok');
    } finally {
      await stack.api.resume();
    }
    expect(text(await (await b.request('/dashboard')).text())).toContain('Hello, Ada Lovelace');
  });
});
