/**
 * `helfy dev` on the native runtime, through the built CLI (HELFY_RUNTIME=native, no Docker),
 * on a pseudo-terminal, in a workspace from `helfy init --yes` on free ports:
 * 1. dev in the fresh workspace starts the native PostgreSQL, Neo4j and Temporal (`up`'s code)
 *    and the apps in watch mode; Ctrl-C: exit 130, no dev process left, the stores running;
 * 2. `helfy up` builds the apps and runs them as supervised processes beside those stores;
 * 3. dev again stops those api/worker/web (their ports are dev's now), keeps the very same store
 *    processes, runs the apps in watch mode; an API edit is served after the reload; Ctrl-C as in 1;
 * 4. `down --volumes --yes` cleans up. One stack start for the file.
 *
 * apps/ holds copies of templates/api and templates/web (node_modules hard-linked, as the other
 * dev tests do) instead of init's copies, to spare an `npm ci` of each app.
 */
import { existsSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPortFree } from '../../src/runtime/ports.js';
import { makeWorkspace, type Workspace } from '../stack/e2e-support.js';
import { copyApp, editFile, HEALTH_HANDLER, HEALTH_ROUTE, pollUntil, processesUnder, REPO, startDev, type DevRun } from './harness.js';
import { GroupSet, groupPids } from '../helpers/proc.js';

const NATIVE_ENV = { HELFY_RUNTIME: 'native', DOCKER_HOST: 'unix:///nonexistent' };
const STORES = ['postgres', 'neo4j', 'temporal'] as const;
const APPS = ['api', 'worker', 'web'] as const;

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
  const groups = new GroupSet();
  const storePids: Record<string, number> = {};
  const appPids: Record<string, number> = {};
  const devEnv = () => ({ ...ws.env, ...NATIVE_ENV });
  const tail = () => d?.screen().slice(-6000) ?? '';

  /** Ctrl-C at dev's terminal: exit 130 and its message, no dev process left, ports free, the native stores running. */
  async function ctrlCLeavesStores(): Promise<void> {
    expect(processesUnder(join(ws.dir, 'apps')).length).toBeGreaterThanOrEqual(3);
    const r = await Promise.race([
      (d!.ctrlC(), d!.exited),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no exit within 30 s:\n${tail()}`)), 30_000)),
    ]);
    expect(r.code, tail()).toBe(130);
    expect(d!.screen()).toMatch(/interrupted: the dev processes were stopped/);
    expect(processesUnder(join(ws.dir, 'apps'))).toEqual([]);
    expect(await isPortFree('127.0.0.1', ws.ports.api)).toBe(true);
    expect(await isPortFree('127.0.0.1', ws.ports.web)).toBe(true);
    for (const n of STORES) expect([n, groupPids(storePids[n]!).length > 0]).toEqual([n, true]);
    expect(await health(ws)).toMatchObject({ postgres: true, neo4j: true, temporal: true, api: false, worker: false, web: false });
  }

  /** dev's watch-mode processes serve the API and web ports (no built output runs), the API reaching the stores. */
  async function watchModeServes(): Promise<void> {
    const procs = processesUnder(join(ws.dir, 'apps'));
    expect(procs.some((p) => /tsx\/dist\/cli\.mjs watch .*src\/server\.ts/.test(p.cmdline))).toBe(true);
    expect(procs.some((p) => /tsx\/dist\/cli\.mjs watch .*src\/worker\.ts/.test(p.cmdline))).toBe(true);
    expect(procs.some((p) => /vike\/bin\.js dev --port/.test(p.cmdline))).toBe(true);
    expect(procs.filter((p) => /dist\/server\.js|dist\/worker\.js|dist\/server\/index\.mjs/.test(p.cmdline))).toEqual([]);
    expect(await (await fetch(`http://127.0.0.1:${ws.ports.api}/health`)).json()).toEqual({ status: 'ok', service: 'api', version: '0.1.0' });
    const ready = await fetch(`http://127.0.0.1:${ws.ports.api}/health/ready`);
    expect(ready.status, await ready.clone().text()).toBe(200);
    const page = await fetch(`http://127.0.0.1:${ws.ports.web}/login`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<h1>Log in</h1>');
  }

  beforeAll(async () => {
    ws = await makeWorkspace(`devn${Date.now().toString(36)}`, NATIVE_ENV);
    // mkdtemp makes it 0700; as root PostgreSQL runs as `postgres`, which must get through.
    chmodSync(ws.dir, 0o755);
    rmSync(join(ws.dir, 'apps'), { recursive: true, force: true });
    for (const app of ['api', 'web']) copyApp(join(REPO, 'templates', app), join(ws.dir, 'apps', app));
  }, 120_000);

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
    groups.killAll();
    rmSync(ws.dir, { recursive: true, force: true });
  }, 240_000);

  it('dev in a fresh workspace starts the native stores like `up` and the apps in watch mode; Ctrl-C: exit 130, the stores keep running', async () => {
    d = startDev(ws.dir, devEnv(), [], { docker: true });
    await d.waitFor(/data stores up in/, 900_000);
    for (const n of STORES) {
      const pid = pidOf(ws, n);
      expect([n, pid]).toEqual([n, expect.any(Number)]);
      storePids[n] = pid!;
      groups.add(pid!);
    }
    // Nothing of the apps runs supervised: dev runs them itself.
    for (const n of APPS) expect([n, pidOf(ws, n)]).toEqual([n, undefined]);
    for (const n of APPS) await d.waitFor(new RegExp(`${n} is up`), 180_000);
    await watchModeServes();
    await ctrlCLeavesStores();
  }, 1_200_000);

  it('`helfy up` then builds the apps and runs them beside the same stores', async () => {
    const up = await ws.run(['up', '--json'], { timeoutMs: 1_500_000 });
    expect(up.code, `${up.stderr.slice(-4000)}\n${up.stdout.slice(-4000)}`).toBe(0);
    expect(up.json.runtime.kind).toBe('native');
    expect(up.json.built.services).toEqual(['api', 'web']);
    for (const n of STORES) expect([n, pidOf(ws, n)]).toEqual([n, storePids[n]]);
    for (const n of APPS) {
      const pid = pidOf(ws, n);
      expect([n, pid]).toEqual([n, expect.any(Number)]);
      appPids[n] = pid!;
      groups.add(pid!);
    }
    expect(await health(ws)).toMatchObject({ postgres: true, neo4j: true, temporal: true, api: true, worker: true, web: true });
    expect(processesUnder(join(ws.dir, 'apps')).some((p) => /dist\/server\.js/.test(p.cmdline))).toBe(true);
  }, 1_560_000);

  it('dev stops the native api/worker/web of `up` (and says so), keeps the very same stores, runs the apps in watch mode', async () => {
    d = startDev(ws.dir, devEnv(), [], { docker: true });
    const stopping = /stopping the native ([a-z, ]+) processes \(helfy dev runs them in watch mode on the same ports\)/;
    await d.waitFor(stopping, 120_000);
    expect(stopping.exec(d.screen())![1]!.split(', ').sort()).toEqual(['api', 'web', 'worker']);
    await d.waitFor(/data stores already up/, 300_000);
    for (const n of APPS) await d.waitFor(new RegExp(`${n} is up`), 180_000);
    for (const n of APPS) expect([n, groupPids(appPids[n]!)]).toEqual([n, []]);
    for (const n of STORES) expect([n, pidOf(ws, n)]).toEqual([n, storePids[n]]);
    for (const n of STORES) expect([n, groupPids(storePids[n]!).length > 0]).toEqual([n, true]);
    await watchModeServes();
  }, 900_000);

  it('an edit to an API route is served after the reload', async () => {
    expect(d?.proc.exitCode, 'dev is running').toBeNull();
    editFile(join(ws.dir, HEALTH_ROUTE), HEALTH_HANDLER, HEALTH_HANDLER.replace('version: VERSION', "version: 'native-dev-edit'"));
    await pollUntil(`http://127.0.0.1:${ws.ports.api}/health`, (b) => b.startsWith('200') && b.includes('"version":"native-dev-edit"'), 30_000, 100, tail);
  }, 60_000);

  it('Ctrl-C: exit 130, every dev process gone, the native stores still running and healthy', async () => {
    expect(d?.proc.exitCode, 'dev is running').toBeNull();
    await ctrlCLeavesStores();
  }, 90_000);

  it('down --volumes --yes stops the stores and deletes their data', async () => {
    const r = await ws.run(['down', '--volumes', '--yes', '--json'], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    for (const g of groups) expect([g, groupPids(g)]).toEqual([g, []]);
    expect(existsSync(join(ws.dir, '.helfy/data/postgres'))).toBe(false);
    expect(existsSync(join(ws.dir, '.helfy/data/neo4j'))).toBe(false);
  }, 200_000);
});
