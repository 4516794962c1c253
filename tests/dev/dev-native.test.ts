/**
 * `helfy dev` on the native runtime, through the built CLI (HELFY_RUNTIME=native, no Docker):
 * a workspace from `helfy init --yes` on free ports, `helfy up` (PostgreSQL, Neo4j, Temporal and
 * the built api/worker/web as supervised processes), then `helfy dev` on a pseudo-terminal: it
 * stops the native api/worker/web (their ports are dev's now), finds the stores up through
 * `up`'s own code, runs the apps in watch mode; an API edit is served after the reload; Ctrl-C
 * ends it with exit 130 and no dev process left while the native stores keep running; then
 * `down --volumes --yes` cleans up. One stack start for the file.
 *
 * apps/ holds copies of templates/api and templates/web (node_modules hard-linked, as the other
 * dev tests do) instead of init's copies, to spare an `npm ci` of each app.
 */
import { existsSync, readdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPortFree } from '../../src/runtime/ports.js';
import { makeWorkspace, type Workspace } from '../stack/e2e-support.js';
import { copyApp, editFile, HEALTH_HANDLER, HEALTH_ROUTE, pollUntil, processesUnder, REPO, startDev, type DevRun } from './harness.js';

const NATIVE_ENV = { HELFY_RUNTIME: 'native', DOCKER_HOST: 'unix:///nonexistent', HELFY_TIMESCALE: 'optional' };
const STORES = ['postgres', 'neo4j', 'temporal'] as const;
const APPS = ['api', 'worker', 'web'] as const;

/** Live (non-zombie) members of a process group, from /proc. */
function groupPids(pgid: number): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const raw = readFileSync(`/proc/${n}/stat`, 'utf8');
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** The pid of a native service as its supervisor state file records it (also its process group). */
function pidOf(ws: Workspace, name: string): number | undefined {
  const f = join(ws.dir, '.helfy/run', `${name}.json`);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { pid: number }).pid : undefined;
}

async function health(ws: Workspace): Promise<Record<string, boolean>> {
  const r = await ws.run(['status', '--json']);
  expect(r.json?.runtime?.kind, r.stderr).toBe('native');
  return Object.fromEntries((r.json.services as { name: string; healthy: boolean }[]).map((s) => [s.name, s.healthy]));
}

describe('helfy dev on the native runtime (HELFY_RUNTIME=native, no Docker)', () => {
  let ws: Workspace;
  let d: DevRun | undefined;
  const groups = new Set<number>();
  const storePids: Record<string, number> = {};
  const appPids: Record<string, number> = {};
  const devEnv = () => ({ ...ws.env, ...NATIVE_ENV });

  beforeAll(async () => {
    ws = await makeWorkspace(`devn${Date.now().toString(36)}`, NATIVE_ENV);
    // mkdtemp makes it 0700; as root PostgreSQL runs as `postgres`, which must get through.
    chmodSync(ws.dir, 0o755);
    rmSync(join(ws.dir, 'apps'), { recursive: true, force: true });
    for (const app of ['api', 'web']) copyApp(join(REPO, 'templates', app), join(ws.dir, 'apps', app));

    const up = await ws.run(['up', '--json'], { timeoutMs: 1_500_000 });
    expect(up.code, `${up.stderr.slice(-4000)}\n${up.stdout.slice(-4000)}`).toBe(0);
    expect(up.json.runtime.kind).toBe('native');
    for (const n of [...STORES, ...APPS]) {
      const pid = pidOf(ws, n);
      expect([n, pid]).toEqual([n, expect.any(Number)]);
      groups.add(pid!);
      (STORES.includes(n as never) ? storePids : appPids)[n] = pid!;
    }
    expect(await health(ws)).toMatchObject({ postgres: true, neo4j: true, temporal: true, api: true, worker: true, web: true });
    // The built API (not watch mode) holds the API port now.
    expect(await isPortFree('127.0.0.1', ws.ports.api)).toBe(false);
  }, 1_560_000);

  afterAll(async () => {
    if (!ws) return;
    if (d && d.proc.exitCode === null) d.proc.kill('SIGKILL');
    for (const p of processesUnder(join(ws.dir, 'apps'))) {
      try {
        process.kill(-p.pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await ws.run(['down', '--volumes', '--yes'], { timeoutMs: 180_000 });
    for (const g of groups) for (const p of groupPids(g)) process.kill(p, 'SIGKILL');
    rmSync(ws.dir, { recursive: true, force: true });
  }, 240_000);

  it('dev stops the native api/worker/web of `up` (and says so), keeps the stores, runs the apps in watch mode', async () => {
    d = startDev(ws.dir, devEnv(), [], { docker: true });
    const stopping = /stopping the native ([a-z, ]+) processes \(helfy dev runs them in watch mode on the same ports\)/;
    await d.waitFor(stopping, 120_000);
    expect(stopping.exec(d.screen())![1]!.split(', ').sort()).toEqual(['api', 'web', 'worker']);
    await d.waitFor(/data stores already up/, 300_000);
    for (const n of APPS) await d.waitFor(new RegExp(`${n} is up`), 180_000);
    // The processes of `up` are gone; the stores are the very same processes.
    for (const n of APPS) expect([n, groupPids(appPids[n]!)]).toEqual([n, []]);
    for (const n of STORES) expect([n, groupPids(storePids[n]!).length > 0]).toEqual([n, true]);
    for (const n of STORES) expect([n, pidOf(ws, n)]).toEqual([n, storePids[n]]);
    // What serves the ports now are dev's watch-mode processes.
    const watchers = processesUnder(join(ws.dir, 'apps'));
    expect(watchers.some((p) => /tsx\/dist\/cli\.mjs watch .*src\/server\.ts/.test(p.cmdline))).toBe(true);
    expect(watchers.some((p) => /tsx\/dist\/cli\.mjs watch .*src\/worker\.ts/.test(p.cmdline))).toBe(true);
    expect(watchers.some((p) => /vike\/bin\.js dev --port/.test(p.cmdline))).toBe(true);
    expect(watchers.some((p) => /dist\/server\.js|dist\/worker\.js|dist\/server\/index\.mjs/.test(p.cmdline))).toBe(false);
    expect(await (await fetch(`http://127.0.0.1:${ws.ports.api}/health`)).json()).toEqual({ status: 'ok', service: 'api', version: '0.1.0' });
    // The API in watch mode reaches the native PostgreSQL / Neo4j / Temporal.
    const ready = await fetch(`http://127.0.0.1:${ws.ports.api}/health/ready`);
    expect(ready.status, await ready.clone().text()).toBe(200);
    const page = await fetch(`http://127.0.0.1:${ws.ports.web}/login`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<h1>Log in</h1>');
  }, 900_000);

  it('an edit to an API route is served after the reload', async () => {
    expect(d, 'dev is running').toBeDefined();
    editFile(join(ws.dir, HEALTH_ROUTE), HEALTH_HANDLER, HEALTH_HANDLER.replace('version: VERSION', "version: 'native-dev-edit'"));
    await pollUntil(`http://127.0.0.1:${ws.ports.api}/health`, (b) => b.startsWith('200') && b.includes('"version":"native-dev-edit"'), 30_000, 100, () => d!.screen().slice(-6000));
  }, 60_000);

  it('Ctrl-C: exit 130, every dev process gone, the native stores still running and healthy', async () => {
    expect(d, 'dev is running').toBeDefined();
    expect(processesUnder(join(ws.dir, 'apps')).length).toBeGreaterThanOrEqual(3);
    const r = await Promise.race([
      (d!.ctrlC(), d!.exited),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no exit within 30 s:\n${d!.screen().slice(-3000)}`)), 30_000)),
    ]);
    expect(r.code, d!.screen().slice(-3000)).toBe(130);
    expect(d!.screen()).toMatch(/interrupted: the dev processes were stopped/);
    expect(processesUnder(join(ws.dir, 'apps'))).toEqual([]);
    expect(await isPortFree('127.0.0.1', ws.ports.api)).toBe(true);
    expect(await isPortFree('127.0.0.1', ws.ports.web)).toBe(true);
    for (const n of STORES) expect([n, groupPids(storePids[n]!).length > 0]).toEqual([n, true]);
    expect(await health(ws)).toMatchObject({ postgres: true, neo4j: true, temporal: true, api: false, worker: false, web: false });
  }, 90_000);

  it('down --volumes --yes stops the stores and deletes their data', async () => {
    const r = await ws.run(['down', '--volumes', '--yes', '--json'], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    for (const g of groups) expect([g, groupPids(g)]).toEqual([g, []]);
    expect(existsSync(join(ws.dir, '.helfy/data/postgres'))).toBe(false);
    expect(existsSync(join(ws.dir, '.helfy/data/neo4j'))).toBe(false);
  }, 200_000);
});
