/** The `web` checks of `helfy smoke`: the server-rendered dashboard, and (with --browser) the page in Chromium. */
import { existsSync } from 'node:fs';
import type { CheckDef } from './scheduler.js';
import type { SmokeUser } from './types.js';

/** The least time the Chromium check is given (launching a browser is slow). */
export const BROWSER_MIN_TIMEOUT_MS = 30_000;

/** React separates adjacent text nodes with <!-- --> in server-rendered HTML: without them the text reads as shown. */
export function stripHtmlComments(html: string): string {
  return html.replace(/<!--[\s\S]*?-->/g, '');
}

/** An answer of GET /dashboard: status, Location header (null when none), HTML without comments. */
export interface DashboardPage {
  status: number;
  location: string | null;
  html: string;
}

/** A 200 page that greets the user and whose weight tile shows the run's weight (one decimal). */
export function dashboardVerdict(page: DashboardPage, user: Pick<SmokeUser, 'displayName' | 'weightKg'>): string {
  const { html } = page;
  if (page.status !== 200) throw new Error(`GET /dashboard: HTTP ${page.status}${page.location ? ` → ${page.location}` : ''}`);
  if (!html.includes(`Hello, ${user.displayName}`)) throw new Error(`GET /dashboard: the page does not greet ${user.displayName}`);
  const weight = user.weightKg.toFixed(1);
  const tile = /data-metric="weight"[\s\S]*?<\/li>/.exec(html)?.[0] ?? '';
  if (!tile.includes(weight)) throw new Error(`GET /dashboard: the weight tile does not show ${weight} kg`);
  return `server-rendered dashboard of ${user.displayName} with weight ${weight} kg (${html.length} bytes)`;
}

/** GET /dashboard with the user's session cookie, no redirect followed. */
export async function fetchDashboard(webBase: string, token: string, user: Pick<SmokeUser, 'displayName' | 'weightKg'>, signal: AbortSignal): Promise<string> {
  const res = await fetch(`${webBase}/dashboard`, { headers: { cookie: `helfy_at=${token}` }, redirect: 'manual', signal });
  const html = stripHtmlComments(await res.text());
  return dashboardVerdict({ status: res.status, location: res.headers.get('location'), html }, user);
}

/** playwright-core, resolved at run time (a dev tool, not a dependency of helfy), or an Error with the install hint. */
export async function loadPlaywright(): Promise<typeof import('playwright-core')> {
  try {
    // A dev tool, not a dependency of helfy: resolved at run time, never bundled.
    const mod = 'playwright-core';
    return (await import(/* @vite-ignore */ mod)) as typeof import('playwright-core');
  } catch {
    throw new Error('playwright-core is not installed (hint: `npm install playwright-core@1.64.1` next to helfy)');
  }
}

/** Opens the dashboard in Chromium with the user's session: the heading must greet the user, with no console error. */
export async function loadDashboardInChromium(webBase: string, chromiumPath: string, token: string, user: Pick<SmokeUser, 'displayName'>): Promise<string> {
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath} (hint: install Debian's chromium, e.g. \`apt-get install chromium\`, or set HELFY_CHROMIUM)`);
  const pw = await loadPlaywright();
  const browser = await pw.chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
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
}

/** Needs api.biometrics (its token, and the weight the page must show). */
export function dashboardCheck(webBase: string, user: SmokeUser, timeoutMs: number): CheckDef {
  return {
    id: 'web.dashboard', group: 'web', name: "the dashboard is server-rendered with the user's data", timeoutMs, service: 'web', needs: ['api.biometrics'],
    async run({ signal, results }) {
      const { token } = results.get('api.biometrics') as { token: string };
      return fetchDashboard(webBase, token, user, signal);
    },
  };
}

/** Only with --browser; given at least BROWSER_MIN_TIMEOUT_MS. */
export function browserCheck(webBase: string, chromiumPath: string, user: SmokeUser, timeoutMs: number): CheckDef {
  return {
    id: 'web.browser', group: 'web', name: 'the dashboard loads in Chromium without console errors', timeoutMs: Math.max(timeoutMs, BROWSER_MIN_TIMEOUT_MS), service: 'web', needs: ['api.biometrics'],
    async run({ results }) {
      const { token } = results.get('api.biometrics') as { token: string };
      return loadDashboardInChromium(webBase, chromiumPath, token, user);
    },
  };
}
