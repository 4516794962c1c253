/**
 * `backup verify` leftovers on the real Docker engine: a container and a volume labelled with
 * this test's own throw-away project and a dead owner pid are removed by sweepVerifyLeftovers; a
 * live owner's and another project's stay. Nothing is started (`docker create` only).
 */
import { execa } from 'execa';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerGone, ownerTag } from '../../src/backup/lock.js';
import { dockerBackupRuntime, ONEOFF_LABEL, OWNER_LABEL } from '../../src/runtime/docker/backup.js';
import { prepareDocker, releaseDocker } from '../stack/e2e-support.js';

const project = `helfysweep${Date.now().toString(36)}`;
const otherProject = `${project}x`;
const made: { containers: string[]; volumes: string[] } = { containers: [], volumes: [] };
let image = '';

const docker = (args: string[]) => execa('docker', args).then((r) => r.stdout.trim());
const labels = (proj: string, owner: string) => ['--label', `${ONEOFF_LABEL}=verify-test`, '--label', `com.docker.compose.project-backup=${proj}`, '--label', `${OWNER_LABEL}=${owner}`];

beforeAll(async () => {
  const images = await prepareDocker();
  image = images.HELFY_NEO4J_IMAGE ?? (await docker(['image', 'ls', '-q'])).split('\n')[0]!;
}, 600_000);
afterAll(async () => {
  for (const c of made.containers) await execa('docker', ['rm', '-f', '-v', c], { reject: false });
  for (const v of made.volumes) await execa('docker', ['volume', 'rm', '-f', v], { reject: false });
  await releaseDocker();
}, 120_000);

describe('sweepVerifyLeftovers', () => {
  it('removes a dead owner\'s verify container and volume of this project only', async () => {
    const p = execa('node', ['-e', '']);
    const deadOwner = `${hostname()}:${p.pid}`;
    await p;
    expect(ownerGone(deadOwner)).toBe(true);
    expect(ownerGone(ownerTag())).toBe(false);
    expect(ownerGone(`another-host:${p.pid}`)).toBe(false);
    const mk = async (kind: 'c' | 'v', proj: string, owner: string) => {
      const name = `${project}-${kind}-${made.containers.length + made.volumes.length}`;
      if (kind === 'v') {
        await docker(['volume', 'create', ...labels(proj, owner), name]);
        made.volumes.push(name);
      } else {
        await docker(['create', '--name', name, ...labels(proj, owner), image]);
        made.containers.push(name);
      }
      return name;
    };
    const deadC = await mk('c', project, deadOwner);
    const deadV = await mk('v', project, deadOwner);
    const liveC = await mk('c', project, ownerTag());
    const liveV = await mk('v', project, ownerTag());
    const otherC = await mk('c', otherProject, deadOwner);
    const otherV = await mk('v', otherProject, deadOwner);

    const brt = dockerBackupRuntime({ env: process.env, project, pgUser: 'unused', pgPassword: 'unused' });
    expect(await brt.sweepVerifyLeftovers(ownerGone)).toEqual({ containers: 1, volumes: 1 });
    const names = async (kind: 'c' | 'v') => (kind === 'c'
      ? await docker(['ps', '-a', '--filter', `name=${project}`, '--format', '{{.Names}}'])
      : await docker(['volume', 'ls', '--filter', `name=${project}`, '--format', '{{.Name}}'])).split('\n').filter(Boolean).sort();
    expect(await names('c')).toEqual([liveC, otherC].sort());
    expect(await names('v')).toEqual([liveV, otherV].sort());
  }, 120_000);
});
