/**
 * The Docker adapter of the BackupRuntime port (src/backup/runtime.ts): the steps that need the
 * containers (stop and start services, pg_dump / pg_restore / psql inside the postgres
 * container, neo4j-admin in a one-off container of the neo4j image on the neo4j volumes).
 *
 * Streams: every dump goes from the tool's stdout straight into a host file (no copy inside a
 * container, no bind mount of the backup folder for dumps), every restore from a host file into
 * the tool's stdin; `onBytes` reports progress. A full disk surfaces as ENOSPC from the write.
 */
import { hostname } from 'node:os';
import { HelfyError } from '../../core/errors.js';
import { toolCapture, toolFailure, toolFromFile, toolToFile, type ToolRun } from '../tool-run.js';
import type { BackupRuntime, ServiceImage, StreamOpts, StreamResult } from '../../backup/runtime.js';
import { dockerClient } from './engine.js';

export type { BackupRuntime, BackupService, ServiceImage, StreamOpts, StreamResult } from '../../backup/runtime.js';
export { DiskFullError } from '../tool-run.js';

const PROJECT_LABEL = 'com.docker.compose.project';
const SERVICE_LABEL = 'com.docker.compose.service';
export const ONEOFF_LABEL = 'dev.helfy.backup';

/**
 * SIGKILLs this user's `docker run` clients of this project's one-offs of `tag` still running on
 * this host: after a kill -9 of helfy they are orphans that go on creating, attaching and starting
 * their container. Found by the labels in their argv; returns the pids it killed.
 */
export async function killOneOffClients(project: string, tag: string): Promise<number[]> {
  const { pidsWhere, procUid } = await import('../../core/proc.js');
  const projectArg = `${PROJECT_LABEL}-backup=${project}`;
  const tagArg = `${ONEOFF_LABEL}=${tag}`;
  const uid = process.getuid?.();
  // Only this user's: helfy started them, and another user's process is none of its business.
  const pids = pidsWhere((argv) => argv.includes('run') && argv.includes(projectArg) && argv.includes(tagArg));
  const killed: number[] = [];
  for (const pid of pids) {
    if (uid !== undefined && procUid(pid) !== uid) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      /* gone meanwhile */
    }
  }
  return killed;
}
/** `<host>:<pid>` of the helfy process that made a verify container / volume. */
export const OWNER_LABEL = 'dev.helfy.backup.owner';

export interface DockerBackupOptions {
  env: NodeJS.ProcessEnv;
  project: string;
  /** PostgreSQL superuser (and its password, passed to the tools via the exec environment only). */
  pgUser: string;
  pgPassword: string;
}

export function dockerBackupRuntime(o: DockerBackupOptions): BackupRuntime {
  const dockerBin = o.env.DOCKER ?? 'docker';
  // verify's own containers and volumes: found again by project (removeOneOffs, the sweep) and owner.
  const verifyLabels = (tag: string) => ['--label', `${ONEOFF_LABEL}=${tag}`, '--label', `${PROJECT_LABEL}-backup=${o.project}`, '--label', `${OWNER_LABEL}=${hostname()}:${process.pid}`];
  const execaMod = () => import('execa');

  /** `timeoutMs` 0: no client timeout (a stop waits up to its grace period). */
  async function containers(timeoutMs = 15_000) {
    const { docker } = await dockerClient(o.env, timeoutMs || undefined);
    const list = await docker.listContainers({ all: true, filters: { label: [`${PROJECT_LABEL}=${o.project}`] } });
    return { docker, list: list.filter((c) => !c.Labels?.['com.docker.compose.oneoff'] || c.Labels['com.docker.compose.oneoff'] === 'False') };
  }

  async function containerOf(service: string): Promise<{ id: string; running: boolean; imageId: string }> {
    const { list } = await containers();
    const c = list.find((x) => x.Labels?.[SERVICE_LABEL] === service);
    if (!c) {
      throw new HelfyError('STACK_NOT_RUNNING', `the ${service} container of ${o.project} does not exist`, { hint: 'Start the stack with `helfy up`.' });
    }
    return { id: c.Id, running: c.State === 'running', imageId: c.ImageID };
  }

  async function runningPostgres(): Promise<string> {
    const c = await containerOf('postgres');
    if (!c.running) throw new HelfyError('STACK_NOT_RUNNING', `PostgreSQL of ${o.project} is not running`, { hint: 'Start it with `helfy up postgres`.' });
    return c.id;
  }

  // `-e NAME` without a value: docker takes it from the CLI's own environment, so the password
  // never appears on a command line (ps) or in the container's configuration.
  const pgEnv = () => ['-e', 'PGPASSWORD', '-e', 'PGUSER'];
  const toolEnv = { ...o.env, PGPASSWORD: o.pgPassword, PGUSER: o.pgUser };

  const run = (args: string[]): ToolRun => ({ cmd: dockerBin, args, env: toolEnv, cleanup: false, fail: (code, out) => toolFailed(args, code, out) });
  /** The docker CLI with stdout into `file` (created/truncated); reports bytes while it grows. */
  const toFile = (args: string[], file: string, so: StreamOpts) => toolToFile(run(args), file, so);
  /** The docker CLI with stdin from `file`. */
  const fromFile = (args: string[], file: string, so: StreamOpts) => toolFromFile(run(args), file, so);
  const capture = (args: string[], so: StreamOpts & { input?: string; inputFile?: string } = {}) => toolCapture(run(args), so);

  /** `docker run --rm` of the neo4j container's own image with its volumes, as a one-off. */
  async function neo4jOneOff(so: StreamOpts, extra: string[], cmd: string[]): Promise<string[]> {
    const c = await containerOf('neo4j');
    if (c.running) throw new HelfyError('INTERNAL', 'neo4j must be stopped before neo4j-admin touches its store');
    return ['run', '--rm', '-i', '--label', `${ONEOFF_LABEL}=${so.tag ?? 'adhoc'}`, '--label', `${PROJECT_LABEL}-backup=${o.project}`,
      '--volumes-from', c.id, ...extra, c.imageId, ...cmd];
  }

  return {
    async services() {
      const { docker, list } = await containers();
      const images = new Map<string, string[]>();
      await Promise.all([...new Set(list.map((c) => c.ImageID))].map(async (id) => {
        try {
          images.set(id, (await docker.getImage(id).inspect()).RepoDigests ?? []);
        } catch {
          images.set(id, []);
        }
      }));
      return list
        .filter((c) => c.Labels?.[SERVICE_LABEL])
        .map((c) => ({
          service: c.Labels[SERVICE_LABEL]!, containerId: c.Id, running: c.State === 'running',
          image: c.Image, imageId: c.ImageID, digests: images.get(c.ImageID) ?? [],
        }))
        .sort((a, b) => a.service.localeCompare(b.service));
    },
    async stop(services, so = {}) {
      const graceS = so.graceS ?? 30;
      const { docker, list } = await containers(0);
      const stopped: string[] = [];
      for (const s of services) {
        const c = list.find((x) => x.Labels?.[SERVICE_LABEL] === s);
        if (!c || c.State !== 'running') continue;
        try {
          await docker.getContainer(c.Id).stop({ t: graceS });
        } catch (e) {
          // 304: already stopped meanwhile.
          if ((e as { statusCode?: number }).statusCode !== 304) throw e;
        }
        stopped.push(s);
        so.onStopped?.(s);
      }
      return stopped;
    },
    async start(services) {
      const { docker, list } = await containers(0);
      for (const s of services) {
        const c = list.find((x) => x.Labels?.[SERVICE_LABEL] === s);
        if (!c) continue;
        const info = await docker.getContainer(c.Id).inspect();
        if (info.State?.Running) continue;
        try {
          await docker.getContainer(c.Id).start();
        } catch (e) {
          if ((e as { statusCode?: number }).statusCode !== 304) throw e;
        }
      }
    },
    async pgDumpVersion() {
      const id = await runningPostgres();
      return (await capture(['exec', id, 'pg_dump', '--version'])).trim();
    },
    async dumpGlobals(file, so) {
      const id = await runningPostgres();
      return toFile(['exec', ...pgEnv(), id, 'pg_dumpall', '--globals-only', '-h', '127.0.0.1', '-l', 'postgres'], file, so);
    },
    async dumpDatabase(db, file, so) {
      const id = await runningPostgres();
      return toFile(['exec', ...pgEnv(), id, 'pg_dump', '-Fc', '--create', '-h', '127.0.0.1', '-d', db], file, so);
    },
    async archiveList(file, so) {
      const id = await runningPostgres();
      return capture(['exec', '-i', id, 'pg_restore', '-C', '-l'], { ...so, inputFile: file });
    },
    async archiveSql(file, list, so) {
      const id = await runningPostgres();
      // The list goes in through a file inside the container: pg_restore reads the archive from stdin.
      const listPath = `/tmp/helfy-restore-${process.pid}-${Date.now()}.list`;
      await capture(['exec', '-i', id, 'sh', '-c', `cat > ${listPath}`], { input: list });
      try {
        return await capture(['exec', '-i', id, 'pg_restore', '-C', '-L', listPath, '-f', '-'], { ...so, inputFile: file });
      } finally {
        await capture(['exec', id, 'rm', '-f', listPath]).catch(() => '');
      }
    },
    async psql(sql, db, so = {}) {
      const id = await runningPostgres();
      return capture(['exec', '-i', ...pgEnv(), id, 'psql', '-h', '127.0.0.1', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-f', '-'], { ...so, input: sql });
    },
    async restoreDatabase(db, file, so) {
      const id = await runningPostgres();
      return fromFile(['exec', '-i', ...pgEnv(), id, 'pg_restore', '-h', '127.0.0.1', '--exit-on-error', ...(so.extraArgs ?? []), '-d', db], file, so);
    },
    async neo4jDump(db, file, so) {
      return toFile(await neo4jOneOff(so, [], ['neo4j-admin', 'database', 'dump', db, '--to-stdout']), file, so);
    },
    async neo4jLoad(db, file, so) {
      return fromFile(await neo4jOneOff(so, [], ['neo4j-admin', 'database', 'load', db, '--from-stdin', '--overwrite-destination=true']), file, so);
    },
    async neo4jCheck(dir, db, so) {
      const c = await containerOf('neo4j');
      const { execa } = await execaMod();
      const r = await execa(dockerBin, ['run', '--rm', ...verifyLabels(so.tag ?? 'check'), '-v', `${dir}:/backup:ro`,
        // Root without the entrypoint's drop to the neo4j user: the dumps are 0600, owned by whoever ran helfy.
        '--user', '0:0', '--entrypoint', 'neo4j-admin', c.imageId,
        'database', 'check', '--from-path=/backup', '--temp-path=/tmp', '--report-path=/tmp/check.report', '--max-off-heap-memory=256m', db], {
        env: o.env, extendEnv: false, reject: false, all: true, stdin: 'ignore', ...(so.signal ? { cancelSignal: so.signal } : {}), cleanup: false,
      });
      if (r.isCanceled) throw new HelfyError('INTERRUPTED', 'interrupted');
      return { ok: r.exitCode === 0, output: String(r.all ?? '') };
    },
    async scratchNeo4j(dumpFile, so) {
      const c = await containerOf('neo4j');
      const { execa } = await execaMod();
      const vol = `helfy-verify-${process.pid}-${Date.now().toString(36)}`;
      const label = verifyLabels(so.tag ?? 'verify');
      await capture(['volume', 'create', ...label, vol]);
      let name: string | undefined;
      const remove = async () => {
        if (name) await execa(dockerBin, ['rm', '-f', '-v', name], { env: o.env, extendEnv: false, reject: false });
        await execa(dockerBin, ['volume', 'rm', '-f', vol], { env: o.env, extendEnv: false, reject: false });
      };
      try {
        await fromFile(['run', '--rm', '-i', ...label, '-v', `${vol}:/data`, c.imageId, 'neo4j-admin', 'database', 'load', 'neo4j', '--from-stdin', '--overwrite-destination=true'], dumpFile, so);
        name = vol;
        await capture(['run', '-d', ...label, '--name', name, '-v', `${vol}:/data`, '-e', 'NEO4J_AUTH=none',
          '-e', 'NEO4J_server_memory_heap_max__size=512m', '-e', 'NEO4J_server_memory_pagecache_size=64m', '-p', '127.0.0.1::7687', c.imageId]);
        const port = (await capture(['port', name, '7687/tcp'])).split('\n')[0]!.trim();
        return { boltPort: Number(port.slice(port.lastIndexOf(':') + 1)), remove };
      } catch (e) {
        await remove();
        throw e;
      }
    },
    async removeOneOffs(tag) {
      // First the `docker run` clients a backup killed with -9 left running: one may still be
      // creating its container (seconds on vfs), which would then appear after the list below and
      // take Neo4j's store from under the Neo4j started next.
      const clients = tag ? await killOneOffClients(o.project, tag) : [];
      const { docker } = await dockerClient(o.env, 15_000);
      const filters = { label: [tag ? `${ONEOFF_LABEL}=${tag}` : ONEOFF_LABEL, `${PROJECT_LABEL}-backup=${o.project}`] };
      let removed = 0;
      // A killed client's create request may still land in the daemon (seconds on vfs): after
      // killing any, keep looking until two lists a second apart are empty (at most 15 s).
      const until = Date.now() + 15_000;
      for (let empty = 0; ;) {
        const list = await docker.listContainers({ all: true, filters });
        for (const c of list) await docker.getContainer(c.Id).remove({ force: true }).then(() => removed++, () => undefined);
        empty = list.length ? 0 : empty + 1;
        if (!clients.length || empty >= 2 || Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      return removed;
    },
    async sweepVerifyLeftovers(isGone) {
      const { docker } = await dockerClient(o.env, 15_000);
      const label = [`${PROJECT_LABEL}-backup=${o.project}`, OWNER_LABEL];
      let containers = 0;
      for (const c of await docker.listContainers({ all: true, filters: { label } })) {
        if (!isGone(c.Labels?.[OWNER_LABEL] ?? '')) continue;
        await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
        containers++;
      }
      let volumes = 0;
      for (const v of (await docker.listVolumes({ filters: { label } })).Volumes ?? []) {
        if (!isGone(v.Labels?.[OWNER_LABEL] ?? '')) continue;
        await docker.getVolume(v.Name).remove({ force: true }).then(() => volumes++, () => undefined);
      }
      return { containers, volumes };
    },
  };
}

function toolFailed(args: string[], code: number | undefined, output: string): HelfyError {
  const tool = args.find((a) => /^(pg_dump|pg_dumpall|pg_restore|psql|neo4j-admin)$/.test(a)) ?? args[0] ?? 'docker';
  return toolFailure(tool, code, output, {
    diskHint: 'Free disk space (the engine\'s disk, or HELFY_BACKUP_DIR\'s).',
    hint: 'The lines above are the tool\'s own output; `helfy logs postgres` / `helfy logs neo4j` may say more.',
  });
}
