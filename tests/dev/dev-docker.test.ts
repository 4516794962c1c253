/**
 * `helfy dev` with its default data stores: PostgreSQL, Neo4j and Temporal started in Docker by
 * the same code as `helfy up` (real engine, the stand-in images of tests/support/docker), and an
 * app container that holds the web port stopped first, with a message.
 *
 * The web container here is a stand-in too: the never-healthy test image tagged for this test
 * only, started with compose from helfy's own compose file, publishing the web port like the real
 * one (building the real web image takes minutes on this engine's vfs driver; dev only needs a
 * running `web` container of the project to stop). Skipped only with HELFY_SKIP_DOCKER=1.
 */
import { execa } from 'execa';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { isPortFree } from '../../src/runtime/ports.js';
import { service } from '../../src/stack/catalog.js';
import { COMPOSE_FILE } from '../../src/stack/compose-file.js';
import { composeEnv } from '../../src/stack/env.js';
import { makeWorkspace, neverHealthyImage, prepareDocker, projectContainers, releaseDocker, type Workspace } from '../stack/e2e-support.js';
import { copyApp, processesUnder, REPO, startDev } from './harness.js';

const SKIP = process.env.HELFY_SKIP_DOCKER === '1';

describe.skipIf(SKIP)('helfy dev with the data stores in Docker (real engine)', () => {
  let ws: Workspace;
  let webTag: string | undefined;

  beforeAll(async () => {
    const images = await prepareDocker();
    ws = await makeWorkspace(`dev${Date.now().toString(36)}`, images);
    rmSync(join(ws.dir, 'apps'), { recursive: true, force: true });
    for (const app of ['api', 'web']) copyApp(join(REPO, 'templates', app), join(ws.dir, 'apps', app));

    // A running `web` container of this project on the web port.
    const never = await neverHealthyImage(images.HELFY_POSTGRES_IMAGE ?? 'debian:bookworm-slim');
    const tag = `devtest-${ws.name}`;
    await execa('docker', ['tag', never, `helfy-local/web:${tag}`]);
    webTag = tag;
    const cfg = loadConfig({ cwd: ws.dir, env: ws.env });
    const vars = { ...composeEnv(cfg).vars, [service('web').build!.tagVar]: tag };
    await execa('docker-compose', ['-p', ws.name, '-f', COMPOSE_FILE, 'up', '-d', '--no-deps', 'web'], { env: { ...process.env, ...ws.env, ...vars }, extendEnv: false });
    expect((await projectContainers(ws.name)).find((c) => c.service === 'web')?.state).toBe('running');
    expect(await isPortFree('127.0.0.1', ws.ports.web)).toBe(false);
  }, 3_600_000);

  afterAll(async () => {
    if (ws) {
      for (const p of processesUnder(ws.dir)) {
        try {
          process.kill(-p.pgid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await ws.run(['down', '--volumes', '--yes']);
      rmSync(ws.dir, { recursive: true, force: true });
    }
    // Only this test's tag; the image stays for the tests that made it.
    if (webTag) await execa('docker', ['rmi', `helfy-local/web:${webTag}`], { reject: false });
    await releaseDocker();
  }, 300_000);

  it('stops the web container (and says so), starts the stores like `up`, serves the page; Ctrl-C: exit 130, the stores keep running', async () => {
    const d = startDev(ws.dir, ws.env, ['web'], { docker: true });
    try {
      await d.waitFor(/stopping the web container \(helfy dev runs them as local processes on the same ports\)/, 120_000);
      await d.waitFor(/data stores up in/, 900_000);
      await d.waitFor(/web is up/, 120_000);
      const page = await fetch(`http://127.0.0.1:${ws.ports.web}/login`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<h1>Log in</h1>');
      const r = await Promise.race([
        (d.ctrlC(), d.exited),
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no exit within 30 s:\n${d.screen().slice(-3000)}`)), 30_000)),
      ]);
      expect(r.code, d.screen().slice(-3000)).toBe(130);
      expect(processesUnder(join(ws.dir, 'apps'))).toEqual([]);
      expect(await isPortFree('127.0.0.1', ws.ports.web)).toBe(true);
      const containers = await projectContainers(ws.name);
      const state = (s: string) => containers.find((c) => c.service === s)?.state;
      expect(state('postgres')).toBe('running');
      expect(state('neo4j')).toBe('running');
      expect(state('temporal')).toBe('running');
      expect(state('web')).toBe('exited');
      // The stores answer: status probes them live.
      const status = await ws.run(['status', '--json']);
      const healthy = Object.fromEntries((status.json.services as { name: string; healthy: boolean }[]).map((s) => [s.name, s.healthy]));
      expect(healthy).toMatchObject({ postgres: true, neo4j: true, temporal: true, web: false });
    } finally {
      if (d.proc.exitCode === null) d.proc.kill('SIGKILL');
    }
  }, 1_200_000);
});
