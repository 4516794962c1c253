/**
 * The dev loop: time from saving a file to the new content being served.
 *
 *  - page: an edit to apps/web/pages/login/+Page.tsx under `helfy dev` (Vike's dev server) until
 *    GET /login returns the new HTML; baseline: the same edit, then `vike build` and a restart of
 *    `node dist/server/index.mjs` (what serving it without the dev server takes).
 *  - route: an edit to the /health handler of apps/api under `helfy dev` (tsx watch restarts the
 *    API) until GET /health returns the new body; baseline: `npm run build` (esbuild + the
 *    workflow bundle) and a restart of `node dist/server.js`.
 *
 * Real PostgreSQL, Neo4j and Temporal from tests/support/services; the built CLI on a pty, as in
 * tests/dev. Rounds alternate dev and baseline; p50 (and max) per kind.
 * Run: npm run build && npx tsx bench/dev-reload.ts [dev-edits] [baseline-rounds]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { childEnvironment, devEnvironment } from '../src/apps/env.js';
import { composeEnv } from '../src/stack/env.js';
import { editFile, freePort, HEALTH_HANDLER, HEALTH_ROUTE, LOGIN_PAGE, makeWorkspace, pollUntil, startDev, startStores } from '../tests/dev/harness.js';

const edits = Number(process.argv[2] ?? 10);
const baseRounds = Number(process.argv[3] ?? 3);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

const stores = await startStores();
const [ws, base] = await Promise.all([makeWorkspace('devbench', { apps: true }), makeWorkspace('devbase', { apps: true })]);
const dev = startDev(ws, stores.env);
const children: ChildProcess[] = [];
try {
  await dev.waitFor(/api is up/, 180_000);
  await dev.waitFor(/web is up/, 180_000);
  const api = `http://127.0.0.1:${stores.env.HELFY_API_PORT}`;
  const web = `http://127.0.0.1:${stores.env.HELFY_WEB_PORT}`;
  // Warm: Vite transforms and caches the page on its first request.
  await pollUntil(`${web}/login`, (b) => b.startsWith('200'), 60_000);

  // The baseline's processes: built copies of the same apps, with the same environment as dev's.
  const cfg = loadConfig({ cwd: base, env: stores.env });
  const vars = composeEnv(cfg).vars;
  const [bApiPort, bWebPort] = [await freePort(), await freePort()];
  const apiEnv = childEnvironment(process.env, { ...devEnvironment(cfg, 'api', { vars, workerHealthPort: 0 }), PORT: String(bApiPort), NODE_ENV: 'production' });
  const webEnv = childEnvironment(process.env, { ...devEnvironment(cfg, 'web', { vars, workerHealthPort: 0 }), PORT: String(bWebPort), API_URL: api, NODE_ENV: 'production' });
  const bApi = join(base, 'apps', 'api');
  const bWeb = join(base, 'apps', 'web');
  let apiProc: ChildProcess | undefined;
  let webProc: ChildProcess | undefined;
  const stopProc = async (p?: ChildProcess) => {
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 5000).unref();
    await gone;
  };
  const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) => {
    const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  };
  const startNode = (script: string, cwd: string, env: NodeJS.ProcessEnv) => {
    const p = spawn(process.execPath, [script], { cwd, env, stdio: 'ignore' });
    children.push(p);
    return p;
  };
  const rebuildApi = async () => {
    await stopProc(apiProc);
    run('npm', ['run', 'build', '--silent'], bApi, apiEnv);
    apiProc = startNode('dist/server.js', bApi, apiEnv);
  };
  const rebuildWeb = async () => {
    await stopProc(webProc);
    run(process.execPath, [join(bWeb, 'node_modules', 'vike', 'bin.js'), 'build'], bWeb, webEnv);
    webProc = startNode('dist/server/index.mjs', bWeb, webEnv);
  };
  await rebuildApi();
  await rebuildWeb();
  await pollUntil(`http://127.0.0.1:${bApiPort}/health`, (b) => b.startsWith('200'), 60_000);
  await pollUntil(`http://127.0.0.1:${bWebPort}/login`, (b) => b.startsWith('200'), 60_000);

  const t = { devPage: [] as number[], devRoute: [] as number[], basePage: [] as number[], baseRoute: [] as number[] };
  let pageText = '<h1>Log in</h1>';
  let routeText = HEALTH_HANDLER;
  let bPageText = '<h1>Log in</h1>';
  let bRouteText = HEALTH_HANDLER;
  const perBase = Math.max(1, Math.floor(edits / baseRounds));
  for (let i = 1; i <= edits; i++) {
    // Dev: save, then poll every 10 ms until the new content is served.
    const page = `<h1>Log in (bench ${i})</h1>`;
    let t0 = performance.now();
    editFile(join(ws, LOGIN_PAGE), pageText, page);
    pageText = page;
    await pollUntil(`${web}/login`, (b) => b.includes(page), 30_000, 10);
    t.devPage.push(performance.now() - t0);

    const route = HEALTH_HANDLER.replace('version: VERSION', `version: 'bench-${i}'`);
    t0 = performance.now();
    editFile(join(ws, HEALTH_ROUTE), routeText, route);
    routeText = route;
    await pollUntil(`${api}/health`, (b) => b.startsWith('200') && b.includes(`"bench-${i}"`), 60_000, 10);
    t.devRoute.push(performance.now() - t0);

    if (i % perBase === 0 && t.basePage.length < baseRounds) {
      const bp = `<h1>Log in (base ${i})</h1>`;
      t0 = performance.now();
      editFile(join(bWeb, 'pages', 'login', '+Page.tsx'), bPageText, bp);
      bPageText = bp;
      await rebuildWeb();
      await pollUntil(`http://127.0.0.1:${bWebPort}/login`, (b) => b.includes(bp), 120_000, 10);
      t.basePage.push(performance.now() - t0);

      const br = HEALTH_HANDLER.replace('version: VERSION', `version: 'base-${i}'`);
      t0 = performance.now();
      editFile(join(bApi, 'src', 'routes', 'health.ts'), bRouteText, br);
      bRouteText = br;
      await rebuildApi();
      await pollUntil(`http://127.0.0.1:${bApiPort}/health`, (b) => b.includes(`"base-${i}"`), 120_000, 10);
      t.baseRoute.push(performance.now() - t0);
    }
    process.stderr.write(`round ${i}: page ${fmt(t.devPage.at(-1)!)}, route ${fmt(t.devRoute.at(-1)!)}\n`);
  }
  await stopProc(apiProc);
  await stopProc(webProc);

  const row = (what: string, d: number[], b: number[]) =>
    `| ${what} | p50 ${fmt(pct(d, 50))} (max ${fmt(Math.max(...d))}, ${d.length} edits) | p50 ${fmt(pct(b, 50))} (${b.length} rounds) | ${(pct(b, 50) / pct(d, 50)).toFixed(1)}× faster |`;
  console.log('| save → served | helfy dev | rebuild + restart | ratio |');
  console.log('|---|---|---|---|');
  console.log(row('page (apps/web/pages/login/+Page.tsx → GET /login)', t.devPage, t.basePage));
  console.log(row('API route (apps/api/src/routes/health.ts → GET /health)', t.devRoute, t.baseRoute));
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (dev.proc.exitCode === null) {
    dev.ctrlC();
    await Promise.race([dev.exited, new Promise((r) => setTimeout(r, 20_000))]);
  }
  await stores.stop();
  for (const d of [ws, base]) rmSync(d, { recursive: true, force: true });
}
