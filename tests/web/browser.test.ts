/**
 * The web app in a real browser: Debian's chromium (infra/browser.sh) driven by playwright-core
 * 1.64.1 (no browser download), against the built web server and the real API on PostgreSQL +
 * Neo4j. One person's path: sign up, log a measurement, see it on the dashboard chart, search the
 * library and open an exercise (its muscles and alternatives), log out. The dashboard screenshot is
 * kept as test-artifacts/web-dashboard.png. Then a phone's view, and axe-core on every page.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, REPO, startStack, startWeb, type Stack, type WebServer } from './harness.js';

const CHROMIUM = process.env.HELFY_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(REPO, 'test-artifacts');
const DAY = 86_400_000;

let stack: Stack;
let web: WebServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  buildWeb();
  [stack, browser] = await Promise.all([
    startStack(),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] }),
  ]);
  web = await startWeb(stack.api.url);
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) pageErrors.push(`${r.status()} ${r.url()}`);
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await stack?.stop();
}, 60_000);

describe('a person using Helfy in chromium', () => {
  it('signs up and lands on their dashboard; the tokens are invisible to page scripts', async () => {
    await page.goto(`${web.url}/`);
    await expect.poll(() => page.url()).toBe(`${web.url}/login`);
    await page.getByRole('link', { name: 'Sign up' }).click();
    await page.getByLabel('Your name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('analytical engine 1843');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForURL(`${web.url}/dashboard`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Hello, Ada Lovelace');
    expect(await page.evaluate('document.cookie')).toBe('');
    const cookies = await page.context().cookies();
    expect(cookies.filter((c) => c.name.startsWith('helfy_')).map((c) => [c.name, c.httpOnly, c.sameSite]).sort()).toEqual([
      ['helfy_at', true, 'Lax'],
      ['helfy_rt', true, 'Lax'],
    ]);
  });

  it('logs a weight and sees it on the dashboard chart, as the latest of 30 days', async () => {
    // Four weeks of history first, straight through the API with the session's own token.
    const token = (await page.context().cookies()).find((c) => c.name === 'helfy_at')!.value;
    const today = Math.floor(Date.now() / DAY) * DAY;
    const points = [];
    for (let d = 27; d >= 1; d--) {
      if (d % 3 === 2) continue; // a few days without a measurement
      const base = 74.2 - (27 - d) * 0.06 + Math.sin(d) * 0.25;
      points.push({ time: new Date(today - d * DAY + 7 * 3600_000).toISOString(), metric: 'weight', value: Math.round(base * 10) / 10, unit: 'kg' });
      points.push({ time: new Date(today - d * DAY + 21 * 3600_000).toISOString(), metric: 'weight', value: Math.round((base + 0.5) * 10) / 10, unit: 'kg' });
      points.push({ time: new Date(today - d * DAY + 6 * 3600_000).toISOString(), metric: 'resting_heart_rate', value: 60 - Math.round((27 - d) / 6), unit: 'bpm' });
    }
    const r = await fetch(`${stack.api.url}/api/biometrics`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ points }) });
    expect(r.status).toBe(201);
    const historyDays = new Set(points.filter((p) => p.metric === 'weight').map((p) => p.time.slice(0, 10))).size;

    await page.getByRole('navigation').getByRole('link', { name: 'Log a measurement' }).click();
    await page.waitForURL(/\/log\/biometric/);
    await page.getByLabel('What did you measure?').selectOption('sleep');
    expect(await page.locator('#f-value-hint').textContent()).toBe('In h (the unit of the measurement you chose).');
    await page.getByLabel('What did you measure?').selectOption('weight');
    expect(await page.locator('#f-value-hint').textContent()).toBe('In kg (the unit of the measurement you chose).');
    await page.getByLabel('Value').fill('72.4');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/dashboard\?metric=weight&saved=biometric/);
    expect(await page.getByRole('status').first().textContent()).toBe('Measurement saved.');

    const chart = page.locator('figure.chart svg');
    expect(await chart.getAttribute('data-points')).toBe(String(historyDays + 1));
    expect(await page.getByTestId('chart-latest').textContent()).toBe('72.4');
    expect(await chart.getAttribute('aria-label')).toMatch(/^Weight \(kg\), last 30 days: \d+ days with data, latest 72\.4 kg on /);
    expect(await page.locator('.tile[data-metric="weight"] .tile-value').textContent()).toBe('72.4 kg');
    expect(await page.locator('.tile[data-metric="weight"] .tile-note').textContent()).toBe('today');
    // Axes: y ticks with the unit, x ticks a week apart ending today.
    expect(await page.locator('figure.chart .axis-unit').textContent()).toBe('kg');
    const xLabels = await page.locator('figure.chart .xtick text').allTextContents();
    expect(xLabels.at(-1)).toBe(new Date(today).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' }));
    expect(xLabels.length).toBeGreaterThanOrEqual(4);
    expect((await page.locator('figure.chart .grid text').allTextContents()).length).toBeGreaterThanOrEqual(3);

    // The resting heart rate from the history is on its tile ("last on <yesterday>").
    expect(await page.locator('.tile[data-metric="resting_heart_rate"] .tile-note').textContent()).toMatch(/^last on /);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, 'web-dashboard.png'), fullPage: true });
  });

  it('searches the exercise library and opens an exercise with its muscles and alternatives', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Exercise library' }).click();
    await page.waitForURL(`${web.url}/library`);
    await page.getByLabel('Search by name').fill('squat');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/library\?q=squat/);
    const names = await page.locator('ul.results > li > a').allTextContents();
    expect(names.sort()).toEqual(['Barbell Squat', 'Bodyweight Squat', 'Goblet Squat']);

    await page.getByRole('link', { name: 'Barbell Squat' }).click();
    await page.waitForURL(`${web.url}/library/Barbell_Squat`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Barbell Squat');
    expect(await page.locator('ul.muscles[data-role="primary"] li').allTextContents()).toEqual(['Quadriceps · legs']);
    expect((await page.locator('ul.muscles[data-role="secondary"] li').allTextContents()).sort()).toEqual(['Glutes · legs', 'Hamstrings · legs']);
    expect(await page.locator('section[aria-labelledby="muscles-h"] p').last().textContent()).toBe('Barbell');
    // Alternatives with no equipment: only the bodyweight squat. With a dumbbell: the goblet squat too.
    expect(await page.locator('ol.alternatives li a').allTextContents()).toEqual(['Bodyweight Squat']);
    await page.getByLabel('Dumbbell').check();
    await page.getByRole('button', { name: 'Show alternatives' }).click();
    await page.waitForURL(/have=dumbbell/);
    expect((await page.locator('ol.alternatives li a').allTextContents()).sort()).toEqual(['Bodyweight Squat', 'Goblet Squat']);
    expect(await page.getByRole('heading', { name: 'How to' }).isVisible()).toBe(true);
    await page.screenshot({ path: resolve(ARTIFACTS, 'web-exercise.png'), fullPage: true });
  });

  it('logs a workout: exercises chosen from the library, a set added with JavaScript, on the dashboard', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Log a workout' }).click();
    await page.waitForURL(`${web.url}/log/workout`);
    await page.getByLabel('Find exercises').fill('squat');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/log\/workout\?q=squat/);
    expect((await page.getByLabel('Exercise of set 1').locator('option').allTextContents()).slice(1).sort()).toEqual(['Barbell Squat', 'Bodyweight Squat', 'Goblet Squat']);
    await page.getByLabel('Name (optional)').fill('Leg day');
    await page.getByLabel('Exercise of set 1').selectOption('Barbell_Squat');
    await page.getByLabel('Reps of set 1').fill('5');
    await page.getByLabel('Weight of set 1 in kg').fill('100');
    // Hydrated React adds the row in the page: no navigation, so a value set on window survives.
    await page.evaluate('window.__helfyMarker = 42');
    await page.getByRole('button', { name: 'Add a set' }).click();
    expect(await page.locator('table.sets tbody tr').count()).toBe(4);
    expect(await page.evaluate('window.__helfyMarker')).toBe(42);
    expect(await page.getByLabel('Reps of set 1').inputValue()).toBe('5');
    await page.getByLabel('Exercise of set 4').selectOption('Goblet_Squat');
    await page.getByLabel('Reps of set 4').fill('12');
    await page.screenshot({ path: resolve(ARTIFACTS, 'web-workout.png'), fullPage: true });
    await page.getByRole('button', { name: 'Save workout' }).click();
    await page.waitForURL(/\/dashboard\?saved=workout/);
    expect(await page.locator('.tile[data-metric="workouts"] .tile-value').textContent()).toBe('1');
    expect(await page.locator('.tile[data-metric="workouts"] .tile-note').textContent()).toBe('Leg day (2 sets)');
    const sets = await stack.sql<{ exercise_id: string; reps: number; weight_kg: number | null }>(
      `SELECT s.exercise_id, s.reps, s.weight_kg FROM workout_sets s JOIN users u ON u.id = s.user_id WHERE u.email = 'ada@example.com' ORDER BY s.set_number`,
    );
    expect(sets).toEqual([
      { exercise_id: 'Barbell_Squat', reps: 5, weight_kg: 100 },
      { exercise_id: 'Goblet_Squat', reps: 12, weight_kg: null },
    ]);
  });

  it('logs out: the session is gone and the dashboard asks to log in again', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login\?loggedOut=1/);
    expect(await page.locator('.banner.info').textContent()).toBe('You are logged out.');
    expect((await page.context().cookies()).filter((c) => c.name.startsWith('helfy_'))).toEqual([]);
    await page.goto(`${web.url}/dashboard`);
    await page.waitForURL(/\/login\?next=%2Fdashboard/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Log in');
    // The refresh token was revoked by the API on log-out.
    const rows = await stack.sql<{ n: number }>(`SELECT count(*)::int AS n FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = 'ada@example.com' AND t.revoked_at IS NULL`);
    expect(rows[0]!.n).toBe(0);
  });

  it('ran without a script error or a failed request in the browser', () => {
    expect(pageErrors).toEqual([]);
  });
});

/**
 * A phone (390 × 844): no page scrolls sideways, with long library names on it (a food and an
 * exercise named with many words, and with one very long word) and the forms still usable there.
 * With and without JavaScript (the pages are server-rendered; their layout must not need it).
 * Screenshots: test-artifacts/phone-*.png.
 */
describe('on a phone, 390 × 844', () => {
  const PHONE = { width: 390, height: 844 };
  const LONG = {
    exercises: [
      { id: 'Long_Turkish_Get_Up', name: 'Single-Arm Kettlebell Alternating Bottoms-Up Turkish Get-Up With Overhead Press And Windmill' },
      { id: 'Long_Hyperextension', name: 'Hyperextensionwithtwistandisometricholdonaglutehamdeveloperbench' },
    ],
    foods: [
      { id: 'long-cheerios', name: 'Cereals ready-to-eat, GENERAL MILLS, CHEERIOS, Honey Nut, fortified with vitamins and minerals, with added whole grain oats' },
      { id: 'long-granola', name: 'Granola, Pneumonoultramicroscopicsilicovolcanoconiosisresistant-homemade' },
    ],
  };
  let phone: Page;
  const phoneErrors: string[] = [];
  const scrollWidth = (p: Page) => p.evaluate<number>('document.documentElement.scrollWidth');

  beforeAll(async () => {
    await stack.neo4j.executeQuery(
      `UNWIND $exercises AS x MERGE (e:Exercise {id: x.id}) SET e.name = x.name, e.level = 'expert', e.source = 'helfy-test'
       WITH count(*) AS n UNWIND $foods AS x MERGE (f:Food {id: x.id}) SET f.name = x.name, f.energyKcal = 420, f.source = 'helfy-test'`,
      LONG,
    );
    const context = await browser.newContext({ viewport: PHONE, locale: 'en-GB', timezoneId: 'UTC' });
    phone = await context.newPage();
    phone.on('pageerror', (e) => phoneErrors.push(e.message));
    phone.on('response', (r) => {
      if (r.status() >= 400) phoneErrors.push(`${r.status()} ${r.url()}`);
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  it('the log-in and sign-up pages fit', async () => {
    for (const path of ['/login', '/signup']) {
      await phone.goto(`${web.url}${path}`);
      expect(await scrollWidth(phone), path).toBeLessThanOrEqual(PHONE.width);
    }
    await phone.getByLabel('Your name').fill('Grace Hopper');
    await phone.getByLabel('Email').fill('grace@example.com');
    await phone.getByLabel('Password').fill('cobol compiler 1959');
    await phone.getByRole('button', { name: 'Sign up' }).click();
    await phone.waitForURL(`${web.url}/dashboard`);
  });

  it('logs a workout with the long-named exercises: the form fits and works', async () => {
    await phone.goto(`${web.url}/log/workout`);
    expect(await phone.getByLabel('Exercise of set 1').locator('option').allTextContents()).toEqual(expect.arrayContaining(LONG.exercises.map((x) => x.name)));
    expect(await scrollWidth(phone)).toBeLessThanOrEqual(PHONE.width);
    await phone.getByLabel('Name (optional)').fill('Posteriorchainandcoreconditioningsessionnumberfortytwo');
    await phone.getByLabel('Exercise of set 1').selectOption(LONG.exercises[0]!.id);
    await phone.getByLabel('Reps of set 1').fill('3');
    await phone.getByLabel('Weight of set 1 in kg').fill('16');
    await phone.getByLabel('Exercise of set 2').selectOption(LONG.exercises[1]!.id);
    await phone.getByLabel('Reps of set 2').fill('12');
    expect(await scrollWidth(phone)).toBeLessThanOrEqual(PHONE.width);
    await phone.screenshot({ path: resolve(ARTIFACTS, 'phone-workout.png'), fullPage: true });
    await phone.getByRole('button', { name: 'Save workout' }).click();
    await phone.waitForURL(/\/dashboard\?saved=workout/);
    expect(await phone.locator('.tile[data-metric="workouts"] .tile-note').textContent()).toBe('Posteriorchainandcoreconditioningsessionnumberfortytwo (2 sets)');
    expect(await scrollWidth(phone)).toBeLessThanOrEqual(PHONE.width);
  });

  it('logs a meal with the long-named foods: the form fits and works', async () => {
    await phone.goto(`${web.url}/log/meal`);
    const options = await phone.getByLabel('Food 1', { exact: true }).locator('option').allTextContents();
    expect(options).toEqual(expect.arrayContaining([...LONG.foods.map((x) => `${x.name} · 420 kcal/100 g`), 'Rice, white, long-grain, regular, raw, unenriched · 365 kcal/100 g']));
    expect(await scrollWidth(phone)).toBeLessThanOrEqual(PHONE.width);
    await phone.getByLabel('Food 1', { exact: true }).selectOption(LONG.foods[0]!.id);
    await phone.getByLabel('Amount of food 1 in grams').fill('40');
    await phone.getByLabel('Food 2', { exact: true }).selectOption(LONG.foods[1]!.id);
    await phone.getByLabel('Amount of food 2 in grams').fill('');
    await phone.getByRole('button', { name: 'Save meal' }).click();
    // The missing amount: the error is next to its field, and the page still fits.
    await phone.waitForSelector('#f-grams_1-error');
    expect(await scrollWidth(phone)).toBeLessThanOrEqual(PHONE.width);
    await phone.screenshot({ path: resolve(ARTIFACTS, 'phone-meal.png'), fullPage: true });
    await phone.getByLabel('Amount of food 2 in grams').fill('60');
    await phone.getByRole('button', { name: 'Save meal' }).click();
    await phone.waitForURL(/\/dashboard\?saved=meal/);
    await phone.screenshot({ path: resolve(ARTIFACTS, 'phone-dashboard.png'), fullPage: true });
  });

  it('every page fits, with JavaScript and without', async () => {
    const word = 'Pneumonoultramicroscopicsilicovolcanoconiosisresistant';
    const paths = [
      '/dashboard',
      '/log/biometric',
      '/log/workout',
      '/log/workout?q=kettlebell',
      '/log/meal',
      `/log/meal?q=${word}`,
      '/library',
      '/library?q=hyperextensionwithtwist',
      `/library/${LONG.exercises[0]!.id}`,
      `/library/${LONG.exercises[1]!.id}`,
      '/library/Barbell_Squat',
      '/no-such-page',
    ];
    const noScript = await browser.newContext({ viewport: PHONE, javaScriptEnabled: false, storageState: await phone.context().storageState() });
    const plain = await noScript.newPage();
    try {
      const widths: Record<string, number[]> = {};
      for (const path of paths) {
        await phone.goto(`${web.url}${path}`);
        await plain.goto(`${web.url}${path}`);
        widths[path] = [await scrollWidth(phone), await scrollWidth(plain)];
      }
      expect(widths).toEqual(Object.fromEntries(paths.map((p) => [p, [PHONE.width, PHONE.width]])));
      await phone.goto(`${web.url}/library/${LONG.exercises[1]!.id}`);
      await phone.screenshot({ path: resolve(ARTIFACTS, 'phone-exercise.png'), fullPage: true });
      await plain.goto(`${web.url}/log/workout?q=kettlebell`);
      await plain.screenshot({ path: resolve(ARTIFACTS, 'phone-workout-no-js.png'), fullPage: true });
    } finally {
      await noScript.close();
    }
  });

  it('ran without a script error or a failed request (but the 404 and the 422 asked for)', () => {
    expect(phoneErrors.filter((e) => !/^404 .*\/no-such-page$|^422 .*\/log\/meal$/.test(e))).toEqual([]);
  });
});

/**
 * Accessibility: axe-core (devDependency, its axe.min.js evaluated in the page) on every page of the
 * app at 390 and 1100 px wide: signed out (/ → /login, /signup, and the sign-up form with its
 * errors) and signed in, with a user of its own whose dashboard has a chart, a workout and a meal.
 * The rule set: every rule tagged WCAG 2.0, 2.1 or 2.2 level A or AA, plus axe's best practices
 * (landmarks, heading order, one h1, …) — all that axe decides automatically except AAA and its
 * experimental rules. Zero violations; axe's "incomplete" (needs a human) results are not failures.
 * The pages keep their Content-Security-Policy (no bypassCSP): axe is evaluated through the
 * DevTools protocol, not injected as an inline script, which the policy would refuse.
 */
describe('accessibility: axe-core on every page, 390 and 1100 px wide', () => {
  const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa', 'best-practice'];
  const WIDTHS = [390, 1100] as const;
  const views = new Map<number, Page>();

  interface AxeViolation {
    id: string;
    impact: string | null;
    help: string;
    nodes: { target: string[] }[];
  }
  /** axe on the page as it is now: one line per violation, "<label>: <rule> (<impact>) <help>: <first targets>". */
  async function check(p: Page, label: string): Promise<string[]> {
    if ((await p.evaluate('typeof axe')) !== 'object') await p.evaluate(`${AXE_SOURCE}\n;void 0`);
    const r = await p.evaluate<{ passes: unknown[]; violations: AxeViolation[] }, string[]>(
      (tags) => (globalThis as unknown as { axe: { run(c: unknown, o: unknown): Promise<never> } }).axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
      AXE_TAGS,
    );
    const lines = r.violations.map((v) => `${label}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}${v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''}`);
    if (r.passes.length < 10) lines.push(`${label}: axe passed only ${r.passes.length} rules (did it run?)`);
    return lines;
  }

  beforeAll(async () => {
    for (const width of WIDTHS) {
      const context: BrowserContext = await browser.newContext({ viewport: { width, height: width < 600 ? 844 : 900 }, locale: 'en-GB', timezoneId: 'UTC' });
      views.set(width, await context.newPage());
    }
  });

  it('signed out: the log-in and sign-up pages, and the sign-up form with its errors', async () => {
    const found: string[] = [];
    for (const [width, p] of views) {
      await p.goto(`${web.url}/`);
      expect(p.url()).toBe(`${web.url}/login`);
      found.push(...await check(p, `${width} /login`));
      await p.goto(`${web.url}/signup`);
      found.push(...await check(p, `${width} /signup`));
      await p.getByRole('button', { name: 'Sign up' }).click();
      await p.waitForSelector('#f-email-error');
      found.push(...await check(p, `${width} /signup (errors)`));
    }
    expect(found, found.join('\n')).toEqual([]);
  });

  it('signed in: dashboard, the three log forms, the library and an exercise, a missing page', async () => {
    // Signed up at 1100 px; the 390 px context gets the same session.
    const wide = views.get(1100)!;
    await wide.getByLabel('Your name').fill('Alan Turing');
    await wide.getByLabel('Email').fill('alan@example.com');
    await wide.getByLabel('Password').fill('on computable numbers');
    await wide.getByRole('button', { name: 'Sign up' }).click();
    await wide.waitForURL(`${web.url}/dashboard`);
    const cookies = await wide.context().cookies();
    await views.get(390)!.context().addCookies(cookies);
    // A dashboard with something on it: a week of weights (the chart), a workout and a meal today.
    const token = cookies.find((c) => c.name === 'helfy_at')!.value;
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${stack.api.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(r.status, `${path}: ${await r.text()}`).toBe(201);
    };
    const now = Date.now();
    await post('/api/biometrics', { points: Array.from({ length: 7 }, (_, d) => ({ time: new Date(now - d * DAY).toISOString(), metric: 'weight', value: 70 + d / 10, unit: 'kg' })) });
    await post('/api/workouts', { time: new Date(now).toISOString(), name: 'Legs', sets: [{ exerciseId: 'Barbell_Squat', reps: 5, weightKg: 80 }] });
    await post('/api/nutrition', { time: new Date(now).toISOString(), foodId: '09040', meal: 'lunch', quantityG: 120 });

    const found: string[] = [];
    const paths = ['/dashboard?saved=meal', '/log/biometric', '/log/workout?q=squat', '/log/meal', '/library?q=squat', '/library/Barbell_Squat', '/no-such-page'];
    for (const [width, p] of views) {
      for (const path of paths) {
        await p.goto(`${web.url}${path}`);
        if (path.startsWith('/dashboard')) expect(await p.locator('figure.chart svg[role="img"]').count(), 'the chart is drawn').toBe(1);
        found.push(...await check(p, `${width} ${path}`));
      }
    }
    expect(found, found.join('\n')).toEqual([]);
  });

  afterAll(async () => {
    for (const p of views.values()) await p.context().close();
  });
});
