/**
 * The runtime side of `helfy backup` / `helfy restore` on the native runtime: the same
 * BackupRuntime as src/runtime/docker/backup.ts, over local processes instead of containers.
 *
 *  - services / stop / start: the supervisor's records (stop = supervisor.stop; start = the
 *    caller's `startService(name)`, which starts the service's spec again: this file need not
 *    know how a spec is made).
 *  - pg_dump / pg_dumpall / pg_restore / psql: the located PostgreSQL's binDir, over TCP to the
 *    configured host and port, as the superuser; the password is in the child's environment
 *    only (PGPASSWORD: never on a command line, never logged). pg_dump / pg_restore must be of
 *    the server's major: checked once (pgDumpVersion or the first dump/restore), a clear error
 *    naming both versions otherwise.
 *  - Neo4j: `java -cp <lib>/* org.neo4j.cli.AdminTool database dump|load|check …` with
 *    NEO4J_HOME / NEO4J_CONF at the workspace's Neo4j home (.helfy/data/neo4j, conf/neo4j.conf
 *    written by the service definition), Neo4j itself stopped first, as under Docker.
 *  - verify: the check and the throw-away Neo4j of `--restore-test` run in temp folders under
 *    .helfy/tmp/backup, each with an `owner.json` marker (`<host>:<pid>` of helfy, the tag, the
 *    pid and start time of the process it runs), so removeOneOffs / sweepVerifyLeftovers find
 *    them again after a kill -9 (the pid is signalled only when its start time still matches).
 *
 * Streams: dumps go from the tool's stdout straight into the host file, restores from the file
 * into the tool's stdin; `onBytes` reports progress and the sha256 is computed on the way, as in
 * the Docker runtime. A full disk surfaces as DiskFullError.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { HelfyError } from '../../core/errors.js';
import type { BackupRuntime, ServiceImage, StreamOpts } from '../../backup/runtime.js';
import { toolCapture, toolFailure, toolFromFile, toolToFile, type ToolRun } from '../tool-run.js';
import { procStart } from '../../core/proc.js';
import { baseEnv as nativeBaseEnv } from './services/common.js';
import type { Neo4jInstall, PostgresInstall, Supervisor } from './types.js';

export interface NativeBackupOptions {
  /** The workspace folder (`.helfy/` lives in it). */
  root: string;
  project: string;
  supervisor: Supervisor;
  /** Starts one service from its spec again (what `helfy up <name>` would do). */
  startService(name: string): Promise<void>;
  /** The PostgreSQL the stack runs on, as helfy connects to it (the superuser). */
  pg: { host: string; port: number; user: string; password: string };
  /**
   * The PostgreSQL client tools to use. `wantMajor` is the data folder's major (PG_VERSION) when
   * known, so a locator can prefer the matching installation.
   */
  postgres(o: { wantMajor?: number }): Promise<PostgresInstall>;
  /** The Neo4j jars and the Java to run neo4j-admin with. */
  neo4j(): Promise<Neo4jInstall>;
  /** Default `<supervisor data>/neo4j` = `<root>/.helfy/data/neo4j` (conf/neo4j.conf inside). */
  neo4jHome?: string;
  /** Default `<root>/.helfy/data/postgres/pgdata` (only PG_VERSION is read). */
  pgData?: string;
  /** PATH / HOME / LANG for the tools (default process.env). Nothing else of it is passed on. */
  env?: NodeJS.ProcessEnv;
}

/** Kind of a marker in the temp folder: a dump/load one-off, verify's check, verify's scratch Neo4j. */
type MarkerKind = 'oneoff' | 'check' | 'scratch';

interface Marker {
  kind: MarkerKind;
  /** `<host>:<pid>` of the helfy process that made it. */
  owner: string;
  tag: string;
  project: string;
  /** The process it runs (absent until spawned). */
  pid?: number;
  /** Field 22 of /proc/<pid>/stat: the pid is only signalled while this still matches. */
  procStart?: string;
  /** The process is the leader of its own group (signal the group). */
  group?: boolean;
}

const MARKER = 'owner.json';


function parseMajor(version: string): number {
  // "pg_dump (PostgreSQL) 16.4 (Debian …)" / "16.4" / "9.6.24" (not supported anyway)
  const m = /(\d+)(?:\.(\d+))?/.exec(version.replace(/^[^\d]*/, ''));
  return m ? Number(m[1]) : NaN;
}

/** A free TCP port on 127.0.0.1 (bind to 0, read, close). */
async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** JVM flags for neo4j-admin (the distribution's, minus what a short-lived tool does not need). */
function adminJvm(heap = '256m'): string[] {
  return [
    `-Xmx${heap}`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:-OmitStackTraceInFastThrow',
    '--add-opens=java.base/java.nio=ALL-UNNAMED', '--add-opens=java.base/java.io=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED', '--enable-native-access=ALL-UNNAMED',
    '-Dlog4j2.disable.jmx=true', '-Dfile.encoding=UTF-8',
  ];
}

/** neo4j.conf of a throw-away home under `dir` (check / scratch server). */
function scratchConf(dir: string, extra: Record<string, string> = {}): string {
  const conf: Record<string, string> = {
    'server.directories.data': join(dir, 'data'),
    'server.directories.logs': join(dir, 'logs'),
    'server.directories.run': join(dir, 'run'),
    'server.directories.plugins': join(dir, 'plugins'),
    'server.directories.import': join(dir, 'import'),
    'server.directories.licenses': join(dir, 'licenses'),
    'server.directories.transaction.logs.root': join(dir, 'data', 'transactions'),
    'dbms.usage_report.enabled': 'false',
    ...extra,
  };
  return `${Object.entries(conf).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}

export function nativeBackupRuntime(o: NativeBackupOptions): BackupRuntime {
  const env = o.env ?? process.env;
  // The service definitions' folders (services/neo4j.ts, services/postgres.ts postgresDataDir).
  const neo4jHome = o.neo4jHome ?? join(o.supervisor.dirs.data, 'neo4j');
  const pgData = o.pgData ?? join(o.supervisor.dirs.data, 'postgres', 'pgdata');
  const tmpRoot = nativeBackupTmp(o.root);
  const owner = `${hostname()}:${process.pid}`;
  const execaMod = () => import('execa');
  const baseEnv = () => nativeBaseEnv(env);

  // ---- PostgreSQL tools -------------------------------------------------------------------

  let install: Promise<PostgresInstall> | undefined;
  const pgInstall = () => (install ??= (async () => {
    let wantMajor: number | undefined;
    try {
      wantMajor = Number.parseInt(await readFile(join(pgData, 'PG_VERSION'), 'utf8'), 10) || undefined;
    } catch {
      wantMajor = undefined;
    }
    return o.postgres(wantMajor ? { wantMajor } : {});
  })());

  async function pgEnv(): Promise<Record<string, string>> {
    const i = await pgInstall();
    return {
      ...baseEnv(),
      PGHOST: o.pg.host, PGPORT: String(o.pg.port), PGUSER: o.pg.user, PGPASSWORD: o.pg.password,
      PGCONNECT_TIMEOUT: '10', PGAPPNAME: 'helfy-backup',
      ...(i.libDir ? { LD_LIBRARY_PATH: [i.libDir, env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : {}),
    };
  }
  const pgTool = async (name: string) => join((await pgInstall()).binDir, name);

  let versions: Promise<{ pgDump: string; server: string }> | undefined;
  /** pg_dump's version, checked against the server's major (pg_dump refuses a newer server; an older one writes archives the server's pg_restore may not read). */
  const checkedVersions = () => (versions ??= (async () => {
    const i = await pgInstall();
    const pgDump = (await capture(await pgTool('pg_dump'), ['--version'], await pgEnv(), {})).trim();
    const server = (await capture(await pgTool('psql'), ['-X', '-At', '-d', 'postgres', '-c', 'SHOW server_version'], await pgEnv(), {})).trim();
    const [a, b] = [parseMajor(pgDump), parseMajor(server)];
    if (a !== b) {
      throw new HelfyError('TOOL_MISSING', `${pgDump} (${i.binDir}) does not match the server's PostgreSQL ${server}: pg_dump and pg_restore must be of the server's major (${b})`, {
        hint: `Point HELFY_POSTGRES_BIN at the bin folder of PostgreSQL ${b} (e.g. /usr/lib/postgresql/${b}/bin; apt-get install postgresql-client-${b}).`,
        data: { pgDump, server, binDir: i.binDir },
      });
    }
    return { pgDump, server };
  })().catch((e: unknown) => {
    versions = undefined;
    throw e;
  }));

  // ---- process plumbing (mirrors the Docker runtime's toFile / fromFile / capture) ------------

  interface RunOpts extends StreamOpts {
    cwd?: string;
    /** Called with the child's pid right after the spawn (markers). */
    onSpawn?: (pid: number) => void | Promise<void>;
  }

  const run = (cmd: string, args: string[], env: Record<string, string>, cwd?: string): ToolRun => ({
    cmd, args, env, ...(cwd ? { cwd } : {}), cleanup: true, fail: (code, out) => toolFailed(cmd, args, code, out), notFound: () => notFound(cmd),
  });
  const toFile = (cmd: string, args: string[], childEnv: Record<string, string>, file: string, so: RunOpts) => toolToFile(run(cmd, args, childEnv, so.cwd), file, so);
  const fromFile = (cmd: string, args: string[], childEnv: Record<string, string>, file: string, so: RunOpts) => toolFromFile(run(cmd, args, childEnv, so.cwd), file, so);
  const capture = (cmd: string, args: string[], childEnv: Record<string, string>, so: RunOpts & { input?: string }) => toolCapture(run(cmd, args, childEnv, so.cwd), so);

  // ---- markers (temp folders of one-offs and verify) -----------------------------------------

  async function newMarkerDir(kind: MarkerKind, tag: string): Promise<{ dir: string; marker: Marker; save(): Promise<void> }> {
    await mkdir(tmpRoot, { recursive: true, mode: 0o700 });
    const dir = join(tmpRoot, `${kind}-${tag.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80)}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(dir, { mode: 0o700 });
    const marker: Marker = { kind, owner, tag, project: o.project };
    // Rewritten with the child's pid after its spawn: temp file + rename, so a sweep never reads half of it.
    const save = () => writeFileAtomic(join(dir, MARKER), `${JSON.stringify(marker)}\n`, { mode: 0o600 });
    await save();
    return { dir, marker, save };
  }

  async function readMarkers(): Promise<{ dir: string; marker: Marker }[]> {
    let names: string[];
    try {
      names = await readdir(tmpRoot);
    } catch {
      return [];
    }
    const out: { dir: string; marker: Marker }[] = [];
    for (const n of names) {
      const dir = join(tmpRoot, n);
      try {
        const marker = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as Marker;
        if (marker.project === o.project) out.push({ dir, marker });
      } catch {
        // A folder without a readable marker (created, killed before the marker was written):
        // only ours by name; left for the sweep when its pid in the name is gone.
        const m = /-(\d+)-[0-9a-f]{8}$/.exec(n);
        if (m) out.push({ dir, marker: { kind: n.startsWith('scratch-') ? 'scratch' : n.startsWith('check-') ? 'check' : 'oneoff', owner: `${hostname()}:${m[1]}`, tag: '', project: o.project } });
      }
    }
    return out;
  }

  /** Kills the marker's process (when it is still the same process) and removes its folder. */
  async function removeMarked(dir: string, m: Marker): Promise<boolean> {
    let killed = false;
    if (m.pid && m.procStart && procStart(m.pid) === m.procStart) {
      killed = await killAndWait(m.pid, Boolean(m.group), 'SIGKILL', 0);
    }
    await rm(dir, { recursive: true, force: true });
    return killed;
  }

  /** `signal` to the process (or its group), SIGKILL after `graceMs`; true when it was alive. */
  async function killAndWait(pid: number, group: boolean, signal: NodeJS.Signals, graceMs: number): Promise<boolean> {
    const start = procStart(pid);
    if (!start) return false;
    const alive = () => procStart(pid) === start;
    const send = (s: NodeJS.Signals) => {
      try {
        process.kill(group ? -pid : pid, s);
      } catch {
        /* gone */
      }
    };
    send(signal);
    const until = Date.now() + graceMs;
    while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    if (alive()) {
      send('SIGKILL');
      const hard = Date.now() + 5000;
      while (alive() && Date.now() < hard) await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  }

  // ---- Neo4j admin --------------------------------------------------------------------------

  async function neo4jStopped(): Promise<void> {
    const s = await o.supervisor.get('neo4j');
    if (s?.state === 'running') throw new HelfyError('INTERNAL', 'neo4j must be stopped before neo4j-admin touches its store');
  }

  async function adminCmd(home: string, confDir: string, args: string[], heap?: string): Promise<{ cmd: string; args: string[]; env: Record<string, string> }> {
    const n = await o.neo4j();
    return {
      cmd: n.java.bin,
      args: [...adminJvm(heap), '-cp', `${n.libDir}/*`, `-Dbasedir=${home}`, 'org.neo4j.cli.AdminTool', ...args],
      env: { ...baseEnv(), NEO4J_HOME: home, NEO4J_CONF: confDir },
    };
  }

  /** A dump/load one-off on the workspace's store, with a marker for removeOneOffs after a kill -9. */
  async function workspaceAdmin<T>(so: StreamOpts, args: string[], run: (c: { cmd: string; args: string[]; env: Record<string, string> }, r: RunOpts) => Promise<T>): Promise<T> {
    await neo4jStopped();
    const c = await adminCmd(neo4jHome, join(neo4jHome, 'conf'), args);
    const m = await newMarkerDir('oneoff', so.tag ?? 'adhoc');
    try {
      return await run(c, {
        ...so, cwd: neo4jHome,
        onSpawn: async (pid) => {
          m.marker.pid = pid;
          m.marker.procStart = procStart(pid);
          await m.save().catch(() => undefined);
        },
      });
    } finally {
      await rm(m.dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  return {
    async services() {
      const states = await o.supervisor.list();
      const pgi = states.some((s) => s.name === 'postgres') ? await pgInstall().catch(() => undefined) : undefined;
      const n4i = states.some((s) => s.name === 'neo4j') ? await o.neo4j().catch(() => undefined) : undefined;
      return states
        .map((s): ServiceImage => {
          const what = s.name === 'postgres' && pgi ? `PostgreSQL ${pgi.version} (${pgi.binDir})`
            : s.name === 'neo4j' && n4i ? `Neo4j ${n4i.version} (${n4i.home})`
              : s.labels['dev.helfy.command'] ?? s.name;
          return {
            service: s.name, containerId: `native:${s.name}:${s.pid}`, running: s.state === 'running',
            image: `native: ${what}`, imageId: s.labels['dev.helfy.config-hash'] ?? '', digests: [],
          };
        })
        .sort((a, b) => a.service.localeCompare(b.service));
    },
    async stop(services, so = {}) {
      const stopped: string[] = [];
      for (const s of services) {
        const st = await o.supervisor.get(s);
        if (st?.state !== 'running') continue;
        await o.supervisor.stop(s, so.graceS !== undefined ? { graceS: so.graceS } : {});
        stopped.push(s);
        so.onStopped?.(s);
      }
      return stopped;
    },
    async start(services) {
      for (const s of services) {
        const st = await o.supervisor.get(s);
        // Never started in this workspace: nothing to start again (as a missing container under Docker).
        if (!st || st.state === 'running') continue;
        await o.startService(s);
      }
    },
    async pgDumpVersion() {
      return (await checkedVersions()).pgDump;
    },
    async dumpGlobals(file, so) {
      await checkedVersions();
      return toFile(await pgTool('pg_dumpall'), ['--globals-only', '-l', 'postgres'], await pgEnv(), file, so);
    },
    async dumpDatabase(db, file, so) {
      await checkedVersions();
      return toFile(await pgTool('pg_dump'), ['-Fc', '--create', '-d', db], await pgEnv(), file, so);
    },
    async archiveList(file, so) {
      await checkedVersions();
      return capture(await pgTool('pg_restore'), ['-C', '-l', file], await pgEnv(), so);
    },
    async archiveSql(file, list, so) {
      await checkedVersions();
      const m = await newMarkerDir('oneoff', 'archive-sql');
      try {
        const listFile = join(m.dir, 'restore.list');
        await writeFile(listFile, list, { mode: 0o600 });
        return await capture(await pgTool('pg_restore'), ['-C', '-L', listFile, '-f', '-', file], await pgEnv(), so);
      } finally {
        await rm(m.dir, { recursive: true, force: true });
      }
    },
    async psql(sql, db, so = {}) {
      return capture(await pgTool('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-f', '-'], await pgEnv(), { ...so, input: sql });
    },
    async restoreDatabase(db, file, so) {
      await checkedVersions();
      return fromFile(await pgTool('pg_restore'), ['--exit-on-error', ...(so.extraArgs ?? []), '-d', db], await pgEnv(), file, so);
    },
    async neo4jDump(db, file, so) {
      return workspaceAdmin(so, ['database', 'dump', db, '--to-stdout'], (c, r) => toFile(c.cmd, c.args, c.env, file, r));
    },
    async neo4jLoad(db, file, so) {
      return workspaceAdmin(so, ['database', 'load', db, '--from-stdin', '--overwrite-destination=true'], (c, r) => fromFile(c.cmd, c.args, c.env, file, r));
    },
    async neo4jCheck(dir, db, so) {
      // A throw-away home: the check must not need (or touch) the workspace's, and may run while Neo4j runs.
      const m = await newMarkerDir('check', so.tag ?? 'check');
      try {
        await mkdir(join(m.dir, 'conf'));
        await mkdir(join(m.dir, 'tmp'));
        await writeFile(join(m.dir, 'conf', 'neo4j.conf'), scratchConf(m.dir));
        const c = await adminCmd(m.dir, join(m.dir, 'conf'), ['database', 'check', `--from-path=${dir}`, `--temp-path=${join(m.dir, 'tmp')}`,
          `--report-path=${join(m.dir, 'check.report')}`, '--max-off-heap-memory=256m', db], '512m');
        const { execa } = await execaMod();
        const child = execa(c.cmd, c.args, { env: c.env, extendEnv: false, reject: false, all: true, stdin: 'ignore', cwd: m.dir, ...(so.signal ? { cancelSignal: so.signal } : {}), forceKillAfterDelay: 3000, cleanup: true });
        if (child.pid) {
          m.marker.pid = child.pid;
          m.marker.procStart = procStart(child.pid);
          await m.save().catch(() => undefined);
        }
        const r = await child;
        if (r.isCanceled) throw new HelfyError('INTERRUPTED', 'interrupted');
        if ((r as { code?: string }).code === 'ENOENT') throw notFound(c.cmd);
        return { ok: r.exitCode === 0, output: String(r.all ?? '') };
      } finally {
        await rm(m.dir, { recursive: true, force: true }).catch(() => undefined);
      }
    },
    async scratchNeo4j(dumpFile, so) {
      const m = await newMarkerDir('scratch', so.tag ?? 'verify');
      let pid: number | undefined;
      const remove = async () => {
        if (pid) await killAndWait(pid, true, 'SIGTERM', 5000);
        await rm(m.dir, { recursive: true, force: true });
      };
      try {
        const boltPort = await freeLoopbackPort();
        const { neo4jConf, neo4jJvmArgs, NEO4J_DIRS } = await import('./services/neo4j.js');
        for (const d of ['conf', ...NEO4J_DIRS]) await mkdir(join(m.dir, d));
        // The service definition's neo4j.conf, with what a throw-away server differs in: no auth, no HTTP, small memory.
        await writeFile(join(m.dir, 'conf', 'neo4j.conf'), neo4jConf({
          home: m.dir, listen: '127.0.0.1', boltPort, httpPort: 0, heapInitial: '512m', heapMax: '512m', pageCache: '64m',
          extra: {
            'server.http.enabled': 'false', 'server.http.listen_address': '127.0.0.1:0', 'dbms.security.auth_enabled': 'false',
            'server.directories.transaction.logs.root': join(m.dir, 'data', 'transactions'), 'db.tx_log.rotation.retention_policy': '1 files',
          },
        }));
        const load = await adminCmd(m.dir, join(m.dir, 'conf'), ['database', 'load', 'neo4j', '--from-stdin', '--overwrite-destination=true']);
        await fromFile(load.cmd, load.args, load.env, dumpFile, {
          ...so, cwd: m.dir,
          onSpawn: async (p) => {
            m.marker.pid = p;
            m.marker.procStart = procStart(p);
            await m.save().catch(() => undefined);
          },
        });
        const n = await o.neo4j();
        // Detached in its own group, output to a file: like a container, it outlives nothing but
        // this helfy's use of it (remove(); after a kill -9 the sweep, by the marker).
        const logFd = openSync(join(m.dir, 'logs', 'console.log'), 'a', 0o600);
        try {
          const args = neo4jJvmArgs({ libDir: n.libDir, home: m.dir, confDir: join(m.dir, 'conf'), heapInitial: '512m', heapMax: '512m', quickJit: true });
          const child = spawn(n.java.bin, args, {
            cwd: m.dir, env: { ...baseEnv(), NEO4J_HOME: m.dir, NEO4J_CONF: join(m.dir, 'conf') }, detached: true, stdio: ['ignore', logFd, logFd],
          });
          child.on('error', () => undefined);
          if (!child.pid) throw new HelfyError('OPERATION_FAILED', `cannot start a scratch Neo4j with ${n.java.bin}`);
          pid = child.pid;
          child.unref();
          m.marker.pid = pid;
          m.marker.procStart = procStart(pid);
          m.marker.group = true;
          await m.save();
        } finally {
          closeSync(logFd);
        }
        return { boltPort, remove };
      } catch (e) {
        await remove();
        throw e;
      }
    },
    async removeOneOffs(tag) {
      let n = 0;
      for (const { dir, marker } of await readMarkers()) {
        // As under Docker: every one-off of this project, or those of one backup / restore / verify.
        if (tag && marker.tag !== tag) continue;
        await removeMarked(dir, marker);
        n++;
      }
      return n;
    },
    async sweepVerifyLeftovers(isGone) {
      let containers = 0;
      let volumes = 0;
      for (const { dir, marker } of await readMarkers()) {
        if (!isGone(marker.owner)) continue;
        if (await removeMarked(dir, marker)) containers++;
        volumes++;
      }
      return { containers, volumes };
    },
  };
}

/** A tool that is not there (a server-only PostgreSQL without the client tools, a moved Java). */
function notFound(cmd: string): HelfyError {
  const tool = cmd.slice(cmd.lastIndexOf('/') + 1);
  const java = /java$/.test(tool);
  return new HelfyError('TOOL_MISSING', `${tool} not found at ${cmd}`, {
    hint: java
      ? 'Install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless) or point HELFY_JAVA at one.'
      : `Install the PostgreSQL client tools of the server's major beside it (e.g. apt-get install postgresql-client-<major>), or point HELFY_POSTGRES_BIN at a folder that has ${tool}.`,
    data: { tool, path: cmd },
  });
}

function toolFailed(cmd: string, args: string[], code: number | undefined, output: string): HelfyError {
  const tool = args.includes('org.neo4j.cli.AdminTool') ? 'neo4j-admin' : cmd.slice(cmd.lastIndexOf('/') + 1);
  return toolFailure(tool, code, output, {
    diskHint: 'Free disk space (the workspace\'s, or HELFY_BACKUP_DIR\'s).',
    hint: 'The lines above are the tool\'s own output; `helfy logs postgres` / `helfy logs neo4j` may say more.',
  });
}

/** `<root>/.helfy/tmp/backup`: where the native backup runtime keeps its markers and temp homes. */
export function nativeBackupTmp(root: string): string {
  return join(root, '.helfy', 'tmp', 'backup');
}
