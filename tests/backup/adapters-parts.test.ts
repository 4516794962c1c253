/**
 * The parts of the two BackupRuntime adapters one by one (src/runtime/native/backup/*,
 * src/runtime/docker/backup/*), without Docker and without a running server: the command lines
 * of pg_dump / pg_restore / psql / neo4j-admin and of the docker CLI, the tools' environment, the
 * version check, labels and filters, the markers of the native runtime on real temp folders and
 * what removeOneOffs / the sweep remove of them, and the decisions over listed containers.
 * The adapters against real servers: tests/native/backup.test.ts, tests/backup/verify-sweep.test.ts.
 *
 * Fakes, named as such: fakeOptions (NativeBackupOptions whose locators count their calls),
 * fakeSupervisor (records of processes, and the calls made to it), and fake `pg_dump` / `psql`
 * binaries (two-line scripts printing a version) for the version check.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorOf } from '../helpers/errors.js';
import { HelfyError } from '../../src/core/errors.js';
import { pidAlive, procStart } from '../../src/core/proc.js';
import { nativeBackupContext, type NativeBackupOptions } from '../../src/runtime/native/backup/context.js';
import {
  MARKER,
  isOneOffOf,
  markerDirName,
  markerFromName,
  newMarkerDir,
  readMarkers,
  removeOneOffs,
  sweepVerifyLeftovers,
  type Marker,
} from '../../src/runtime/native/backup/markers.js';
import { adminCommand, adminJvm, neo4jCheckArgs, neo4jDumpArgs, neo4jLoadArgs, scratchConf } from '../../src/runtime/native/backup/neo4j.js';
import {
  archiveListArgs,
  archiveSqlArgs,
  checkedVersions,
  dumpDatabaseArgs,
  dumpGlobalsArgs,
  parseMajor,
  pgInstall,
  pgToolEnv,
  psqlArgs,
  readPgMajor,
  restoreArgs,
  serverVersionArgs,
  versionMismatch,
} from '../../src/runtime/native/backup/postgres.js';
import { freeLoopbackPort, scratchServerConf } from '../../src/runtime/native/backup/scratch.js';
import { serviceImage, startServices, stopServices } from '../../src/runtime/native/backup/services.js';
import { nativeToolRun, notFound } from '../../src/runtime/native/backup/tools.js';
import { findService, notModified, serviceContainers, serviceImages, type ContainerRow } from '../../src/runtime/docker/backup/containers.js';
import { dockerBackupContext } from '../../src/runtime/docker/backup/context.js';
import {
  ONEOFF_LABEL,
  OWNER_LABEL,
  oneOffClientMatcher,
  oneOffFilters,
  oneOffLabels,
  ownerOf,
  verifyLabels,
  verifyLeftoverLabels,
} from '../../src/runtime/docker/backup/labels.js';
import { neo4jCheckArgs as dockerCheckArgs, neo4jDumpCmd, neo4jLoadCmd, neo4jOneOffArgs } from '../../src/runtime/docker/backup/neo4j.js';
import {
  archiveListArgs as dockerArchiveListArgs,
  archiveListPath,
  archiveSqlArgs as dockerArchiveSqlArgs,
  dumpDatabaseArgs as dockerDumpDatabaseArgs,
  dumpGlobalsArgs as dockerDumpGlobalsArgs,
  pgDumpVersionArgs,
  psqlArgs as dockerPsqlArgs,
  removeListArgs,
  restoreArgs as dockerRestoreArgs,
  writeListArgs,
} from '../../src/runtime/docker/backup/postgres.js';
import { boltPortOf, scratchLoadArgs, scratchServerArgs, scratchVolumeName } from '../../src/runtime/docker/backup/scratch.js';
import { doneLooking } from '../../src/runtime/docker/backup/sweep.js';
import { dockerToolRun, toolNameOf } from '../../src/runtime/docker/backup/tools.js';
import * as dockerAdapter from '../../src/runtime/docker/backup.js';
import * as nativeAdapter from '../../src/runtime/native/backup.js';
import type { PostgresInstall, ProcessState, Supervisor } from '../../src/runtime/native/types.js';

const temps: string[] = [];
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'helfy-adparts-'));
  temps.push(d);
  return d;
}
const children: number[] = [];
afterAll(() => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});


/** A ProcessState as the supervisor reports it. */
function state(name: string, s: 'running' | 'exited', labels: Record<string, string> = {}, pid = 4242): ProcessState {
  return { name, kind: 'daemon', state: s, pid, startedAt: 0, labels, logFile: `/logs/${name}.log` };
}

/** A fake Supervisor: `states` are its records; `calls` what was asked of it, in order. */
function fakeSupervisor(data: string, states: ProcessState[]) {
  const calls: string[] = [];
  const sup = {
    dirs: { data, logs: join(data, '..', 'logs'), run: join(data, '..', 'run') },
    async list() {
      calls.push('list');
      return states;
    },
    async get(name: string) {
      calls.push(`get ${name}`);
      return states.find((s) => s.name === name);
    },
    async stop(name: string, o?: { graceS?: number }) {
      calls.push(`stop ${name} ${JSON.stringify(o)}`);
      return true;
    },
  };
  return { sup: sup as unknown as Supervisor, calls };
}

/** Fake NativeBackupOptions: `postgres()` answers `install` and counts its calls (with what it was asked). */
function fakeOptions(root: string, install: PostgresInstall, extra: Partial<NativeBackupOptions> = {}) {
  const asked: { wantMajor?: number }[] = [];
  const { sup } = fakeSupervisor(join(root, '.helfy', 'data'), []);
  const o: NativeBackupOptions = {
    root, project: 'parts', supervisor: sup, startService: async () => undefined,
    pg: { host: '127.0.0.1', port: 5999, user: 'postgres', password: 'not-a-real-pw' },
    postgres: async (w) => {
      asked.push(w);
      return install;
    },
    neo4j: () => Promise.reject(new Error('unused')),
    ...extra,
  };
  return { o, asked };
}

const install = (binDir: string, extra: Partial<PostgresInstall> = {}): PostgresInstall => ({
  binDir, version: '16.4', major: 16, source: 'PATH', timescale: false, ...extra,
});

describe('the adapters\' modules keep their exports', () => {
  it('docker/backup.ts and native/backup.ts export what others import', () => {
    expect(Object.keys(dockerAdapter)).toEqual(expect.arrayContaining(['DiskFullError', 'ONEOFF_LABEL', 'OWNER_LABEL', 'dockerBackupRuntime', 'killOneOffClients']));
    expect(dockerAdapter.ONEOFF_LABEL).toBe('dev.helfy.backup');
    expect(dockerAdapter.OWNER_LABEL).toBe('dev.helfy.backup.owner');
    expect(Object.keys(nativeAdapter)).toEqual(expect.arrayContaining(['nativeBackupRuntime', 'nativeBackupTmp']));
    expect(nativeAdapter.nativeBackupTmp('/w')).toBe('/w/.helfy/tmp/backup');
  });
});

// ---- native: context, PostgreSQL ------------------------------------------------------------------------

describe('native context', () => {
  it('derives its folders from the supervisor\'s data folder unless given', () => {
    const root = temp();
    const { o } = fakeOptions(root, install('/b'), { env: { PATH: '/p', LD_LIBRARY_PATH: '/l' } });
    const ctx = nativeBackupContext(o);
    expect(ctx).toMatchObject({
      project: 'parts', neo4jHome: join(root, '.helfy', 'data', 'neo4j'), pgData: join(root, '.helfy', 'data', 'postgres', 'pgdata'),
      tmpRoot: join(root, '.helfy', 'tmp', 'backup'), owner: `${hostname()}:${process.pid}`, cache: {},
    });
    expect(ctx.env.LD_LIBRARY_PATH).toBe('/l');
    expect(nativeBackupContext({ ...o, neo4jHome: '/n', pgData: '/pd' })).toMatchObject({ neo4jHome: '/n', pgData: '/pd' });
  });
});

describe('native PostgreSQL tools', () => {
  it('builds the command lines of pg_dumpall, pg_dump, pg_restore and psql', () => {
    expect(serverVersionArgs()).toEqual(['-X', '-At', '-d', 'postgres', '-c', 'SHOW server_version']);
    expect(dumpGlobalsArgs()).toEqual(['--globals-only', '-l', 'postgres']);
    expect(dumpDatabaseArgs('app')).toEqual(['-Fc', '--create', '-d', 'app']);
    expect(archiveListArgs('/b/app.dump')).toEqual(['-C', '-l', '/b/app.dump']);
    expect(archiveSqlArgs('/t/restore.list', '/b/app.dump')).toEqual(['-C', '-L', '/t/restore.list', '-f', '-', '/b/app.dump']);
    expect(psqlArgs('app')).toEqual(['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'app', '-f', '-']);
    expect(restoreArgs('app')).toEqual(['--exit-on-error', '-d', 'app']);
    expect(restoreArgs('app', ['--no-owner', '-L', 'x.list'])).toEqual(['--exit-on-error', '--no-owner', '-L', 'x.list', '-d', 'app']);
  });

  it('reads the major of pg_dump\'s and the server\'s version strings', () => {
    expect(parseMajor('pg_dump (PostgreSQL) 16.4 (Debian 16.4-1.pgdg120+1)')).toBe(16);
    expect(parseMajor('15.8')).toBe(15);
    expect(parseMajor('9.6.24')).toBe(9);
    expect(parseMajor('pg_dump (PostgreSQL) 17beta1')).toBe(17);
    expect(parseMajor('no version here')).toBeNaN();
  });

  it('refuses a pg_dump of another major, naming both versions and the folder to change', () => {
    expect(versionMismatch('pg_dump (PostgreSQL) 16.4', '16.2 (Debian)', '/usr/lib/postgresql/16/bin')).toBeUndefined();
    const e = versionMismatch('pg_dump (PostgreSQL) 15.8', '16.2', '/opt/pg15/bin')!;
    expect(e).toBeInstanceOf(HelfyError);
    expect(e.code).toBe('TOOL_MISSING');
    expect(e.message).toBe('pg_dump (PostgreSQL) 15.8 (/opt/pg15/bin) does not match the server\'s PostgreSQL 16.2: pg_dump and pg_restore must be of the server\'s major (16)');
    expect(e.hint).toBe('Point HELFY_POSTGRES_BIN at the bin folder of PostgreSQL 16 (e.g. /usr/lib/postgresql/16/bin; apt-get install postgresql-client-16).');
    expect(e.data).toEqual({ pgDump: 'pg_dump (PostgreSQL) 15.8', server: '16.2', binDir: '/opt/pg15/bin' });
  });

  it('gives the tools the connection and the password in their environment, and the install\'s libDir', () => {
    const pg = { host: '10.0.0.5', port: 6432, user: 'admin', password: 's3cret' };
    const base = { PATH: '/usr/bin', LANG: 'C.UTF-8' };
    expect(pgToolEnv(base, pg, {}, '/already')).toEqual({
      PATH: '/usr/bin', LANG: 'C.UTF-8', PGHOST: '10.0.0.5', PGPORT: '6432', PGUSER: 'admin', PGPASSWORD: 's3cret',
      PGCONNECT_TIMEOUT: '10', PGAPPNAME: 'helfy-backup',
    });
    expect(pgToolEnv(base, pg, { libDir: '/pg/lib' }, '/already:/more').LD_LIBRARY_PATH).toBe('/pg/lib:/already:/more');
    expect(pgToolEnv(base, pg, { libDir: '/pg/lib' }, undefined).LD_LIBRARY_PATH).toBe('/pg/lib');
  });

  it('reads the data folder\'s major from PG_VERSION (undefined when missing or not a number)', async () => {
    const d = temp();
    expect(await readPgMajor(d)).toBeUndefined();
    writeFileSync(join(d, 'PG_VERSION'), '15\n');
    expect(await readPgMajor(d)).toBe(15);
    writeFileSync(join(d, 'PG_VERSION'), 'junk\n');
    expect(await readPgMajor(d)).toBeUndefined();
  });

  it('asks for the installation once per runtime, with the data folder\'s major', async () => {
    const root = temp();
    const pgData = join(root, 'pgdata');
    mkdirSync(pgData);
    writeFileSync(join(pgData, 'PG_VERSION'), '16\n');
    const { o, asked } = fakeOptions(root, install('/pg16/bin'), { pgData });
    const ctx = nativeBackupContext(o);
    const [a, b] = await Promise.all([pgInstall(ctx), pgInstall(ctx)]);
    expect(await pgInstall(ctx)).toBe(a);
    expect(b).toBe(a);
    expect(a.binDir).toBe('/pg16/bin');
    expect(asked).toEqual([{ wantMajor: 16 }]);

    const { o: o2, asked: asked2 } = fakeOptions(root, install('/any/bin'), { pgData: join(root, 'none') });
    await pgInstall(nativeBackupContext(o2));
    expect(asked2).toEqual([{}]);
  });

  it('checks pg_dump against the server once, and again after a refusal', async () => {
    const root = temp();
    const bin = join(root, 'bin');
    mkdirSync(bin);
    // Fake tools: pg_dump prints its version; psql prints what `SHOW server_version` would.
    const fakeTool = (name: string, out: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\necho '${out}'\n`);
      chmodSync(join(bin, name), 0o755);
    };
    fakeTool('pg_dump', 'pg_dump (PostgreSQL) 16.4');
    fakeTool('psql', '15.8');
    const ctx = nativeBackupContext(fakeOptions(root, install(bin), { pgData: join(root, 'none') }).o);
    const e = await errorOf(checkedVersions(ctx));
    expect(e.code).toBe('TOOL_MISSING');
    expect(e.message).toContain('does not match the server\'s PostgreSQL 15.8');

    fakeTool('psql', '16.2 (Debian 16.2-1)');
    expect(await checkedVersions(ctx)).toEqual({ pgDump: 'pg_dump (PostgreSQL) 16.4', server: '16.2 (Debian 16.2-1)' });
    // Remembered: a later change of the tools is not seen by this runtime.
    fakeTool('psql', '15.8');
    expect(await checkedVersions(ctx)).toEqual({ pgDump: 'pg_dump (PostgreSQL) 16.4', server: '16.2 (Debian 16.2-1)' });
  });
});

// ---- native: neo4j-admin, scratch ----------------------------------------------------------------

describe('native neo4j-admin', () => {
  it('runs AdminTool on the installation\'s jars with the given home and config, JVM flags first', () => {
    const n = { libDir: '/neo/lib', java: { bin: '/jdk/bin/java', major: 17 } };
    const c = adminCommand(n, { PATH: '/usr/bin', LANG: 'C.UTF-8' }, '/ws/neo4j', '/ws/neo4j/conf', neo4jDumpArgs('neo4j'));
    expect(c.cmd).toBe('/jdk/bin/java');
    expect(c.args).toEqual([...adminJvm(), '-cp', '/neo/lib/*', '-Dbasedir=/ws/neo4j', 'org.neo4j.cli.AdminTool', 'database', 'dump', 'neo4j', '--to-stdout']);
    expect(c.env).toEqual({ PATH: '/usr/bin', LANG: 'C.UTF-8', NEO4J_HOME: '/ws/neo4j', NEO4J_CONF: '/ws/neo4j/conf' });
    expect(adminCommand(n, {}, '/h', '/h/conf', [], '512m').args[0]).toBe('-Xmx512m');
  });

  it('has a small heap by default and the JVM opens neo4j needs', () => {
    expect(adminJvm()[0]).toBe('-Xmx256m');
    expect(adminJvm('1g')[0]).toBe('-Xmx1g');
    expect(adminJvm()).toContain('--add-opens=java.base/sun.nio.ch=ALL-UNNAMED');
    expect(adminJvm()).toContain('-XX:+UseSerialGC');
  });

  it('builds dump, load and check arguments', () => {
    expect(neo4jDumpArgs('neo4j')).toEqual(['database', 'dump', 'neo4j', '--to-stdout']);
    expect(neo4jLoadArgs('system')).toEqual(['database', 'load', 'system', '--from-stdin', '--overwrite-destination=true']);
    expect(neo4jCheckArgs('/backups/b1', '/tmp/check-1', 'neo4j')).toEqual([
      'database', 'check', '--from-path=/backups/b1', '--temp-path=/tmp/check-1/tmp', '--report-path=/tmp/check-1/check.report', '--max-off-heap-memory=256m', 'neo4j',
    ]);
  });

  it('writes a throw-away home\'s neo4j.conf with every folder under it', () => {
    expect(scratchConf('/t/h', { 'server.bolt.listen_address': '127.0.0.1:7999' })).toBe([
      'server.directories.data=/t/h/data', 'server.directories.logs=/t/h/logs', 'server.directories.run=/t/h/run',
      'server.directories.plugins=/t/h/plugins', 'server.directories.import=/t/h/import', 'server.directories.licenses=/t/h/licenses',
      'server.directories.transaction.logs.root=/t/h/data/transactions', 'dbms.usage_report.enabled=false',
      'server.bolt.listen_address=127.0.0.1:7999', '',
    ].join('\n'));
  });

  it('configures the scratch server without auth and HTTP, small, on the given Bolt port', () => {
    const c = scratchServerConf('/t/s', 7788);
    expect(c).toMatchObject({ home: '/t/s', listen: '127.0.0.1', boltPort: 7788, httpPort: 0, heapMax: '512m', pageCache: '64m' });
    expect(c.extra).toEqual({
      'server.http.enabled': 'false', 'server.http.listen_address': '127.0.0.1:0', 'dbms.security.auth_enabled': 'false',
      'server.directories.transaction.logs.root': '/t/s/data/transactions', 'db.tx_log.rotation.retention_policy': '1 files',
    });
  });

  it('finds a free loopback port', async () => {
    const port = await freeLoopbackPort();
    // One the kernel chose (bound to 0): an ephemeral port, never a fixed or privileged one.
    expect(port).toBeGreaterThanOrEqual(1024);
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.on('error', reject);
      s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  });
});

describe('native tool errors', () => {
  it('names neo4j-admin (not java) in a failure, and the tool otherwise', () => {
    const admin = nativeToolRun('/jdk/bin/java', ['-Xmx1m', 'org.neo4j.cli.AdminTool', 'database', 'dump'], {}, '/home');
    expect(admin.cwd).toBe('/home');
    expect(admin.cleanup).toBe(true);
    expect(admin.fail(1, 'ERROR: store locked').message).toBe('neo4j-admin failed (exit 1): ERROR: store locked');
    const dump = nativeToolRun('/pg/bin/pg_dump', ['-d', 'app'], { PGPASSWORD: 'x' });
    expect('cwd' in dump).toBe(false);
    expect(dump.fail(2, 'pg_dump: error: connection failed').message).toBe('pg_dump failed (exit 2): pg_dump: error: connection failed');
  });

  it('tells how to get a missing PostgreSQL tool or Java', () => {
    const pg = notFound('/usr/lib/postgresql/16/bin/pg_restore');
    expect(pg.code).toBe('TOOL_MISSING');
    expect(pg.message).toBe('pg_restore not found at /usr/lib/postgresql/16/bin/pg_restore');
    expect(pg.hint).toContain('HELFY_POSTGRES_BIN at a folder that has pg_restore');
    expect(pg.data).toEqual({ tool: 'pg_restore', path: '/usr/lib/postgresql/16/bin/pg_restore' });
    expect(notFound('/opt/jdk/bin/java').hint).toContain('HELFY_JAVA');
    expect(nativeToolRun('/x/psql', [], {}).notFound!().message).toBe('psql not found at /x/psql');
  });
});

// ---- native: markers, removeOneOffs, sweep ------------------------------------------------------------

describe('native markers', () => {
  it('names a marker folder by kind, a file-safe tag of at most 80 chars, pid and suffix', () => {
    expect(markerDirName('oneoff', 'bk 2024/01:01', 123, 'deadbeef')).toBe('oneoff-bk_2024_01_01-123-deadbeef');
    expect(markerDirName('check', 'x'.repeat(100), 7, '0badf00d')).toBe(`check-${'x'.repeat(80)}-7-0badf00d`);
  });

  it('reads the kind and owner from the name of a folder without a marker', () => {
    expect(markerFromName('scratch-verify-321-0a1b2c3d', 'p', 'box')).toEqual({ kind: 'scratch', owner: 'box:321', tag: '', project: 'p' });
    expect(markerFromName('check-v-5-0a1b2c3d', 'p', 'box')?.kind).toBe('check');
    expect(markerFromName('oneoff-bk-5-0a1b2c3d', 'p', 'box')?.kind).toBe('oneoff');
    expect(markerFromName('oneoff-bk-5-0A1B2C3D', 'p', 'box')).toBeUndefined();
    expect(markerFromName('notes.txt', 'p')).toBeUndefined();
    expect(markerFromName('oneoff-bk-5-0a1b2c3d', 'p')?.owner).toBe(`${hostname()}:5`);
  });

  it('writes a marker folder (0700) with its owner.json, and reads this project\'s back', async () => {
    const tmpRoot = join(temp(), 'tmp', 'backup');
    const place = { tmpRoot, owner: 'box:99', project: 'p1' };
    const m = await newMarkerDir(place, 'oneoff', 'bk/1');
    expect(m.dir.startsWith(join(tmpRoot, `oneoff-bk_1-${process.pid}-`))).toBe(true);
    expect(statSync(m.dir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(join(m.dir, MARKER), 'utf8'))).toEqual({ kind: 'oneoff', owner: 'box:99', tag: 'bk/1', project: 'p1' });
    m.marker.pid = 5;
    await m.save();
    expect(JSON.parse(readFileSync(join(m.dir, MARKER), 'utf8')).pid).toBe(5);

    await newMarkerDir({ ...place, project: 'p2' }, 'check', 'other');
    mkdirSync(join(tmpRoot, 'scratch-v-777-00ff00ff'));
    mkdirSync(join(tmpRoot, 'stray'));
    const found = await readMarkers({ tmpRoot, project: 'p1' });
    expect(found.map((f) => f.marker).sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
      { kind: 'oneoff', owner: 'box:99', tag: 'bk/1', project: 'p1', pid: 5 },
      { kind: 'scratch', owner: `${hostname()}:777`, tag: '', project: 'p1' },
    ]);
    expect(await readMarkers({ tmpRoot: join(tmpRoot, 'missing'), project: 'p1' })).toEqual([]);
  });

  it('takes a tag\'s one-offs, or every one without a tag', () => {
    const m: Marker = { kind: 'oneoff', owner: 'h:1', tag: 'bk-1', project: 'p' };
    expect(isOneOffOf(m, 'bk-1')).toBe(true);
    expect(isOneOffOf(m, 'bk-2')).toBe(false);
    expect(isOneOffOf(m)).toBe(true);
    expect(isOneOffOf(m, '')).toBe(true);
  });

  it('removeOneOffs removes the tag\'s folders of this project only', async () => {
    const tmpRoot = join(temp(), 'backup');
    const place = { tmpRoot, owner: 'box:1', project: 'p' };
    const a = await newMarkerDir(place, 'oneoff', 'bk-1');
    const b = await newMarkerDir(place, 'oneoff', 'bk-2');
    const other = await newMarkerDir({ ...place, project: 'q' }, 'oneoff', 'bk-1');
    expect(await removeOneOffs(place, 'bk-1')).toBe(1);
    expect([existsSync(a.dir), existsSync(b.dir), existsSync(other.dir)]).toEqual([false, true, true]);
    expect(await removeOneOffs(place)).toBe(1);
    expect(existsSync(b.dir)).toBe(false);
    expect(readdirSync(tmpRoot)).toEqual([other.dir.slice(tmpRoot.length + 1)]);
  });

  it('the sweep removes the folders of gone owners, killing their process only while it is the same one', async () => {
    const tmpRoot = join(temp(), 'backup');
    const gone = { tmpRoot, owner: 'box:gone', project: 'p' };
    const live = { ...gone, owner: 'box:live' };
    // A process of a gone owner (its own group, as the scratch server), recorded with its start time.
    const sleeper = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    children.push(sleeper.pid!);
    const running = await newMarkerDir(gone, 'scratch', 'v');
    Object.assign(running.marker, { pid: sleeper.pid, procStart: procStart(sleeper.pid!), group: true });
    await running.save();
    // A recorded pid whose start time no longer matches (a reused pid): not signalled.
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(bystander.pid!);
    const reused = await newMarkerDir(gone, 'check', 'v');
    Object.assign(reused.marker, { pid: bystander.pid, procStart: 'not-its-start' });
    await reused.save();
    const keep = await newMarkerDir(live, 'scratch', 'v');
    const seen: string[] = [];

    const r = await sweepVerifyLeftovers(gone, (owner) => {
      seen.push(owner);
      return owner === 'box:gone';
    });
    expect(r).toEqual({ containers: 1, volumes: 2 });
    expect(seen.sort()).toEqual(['box:gone', 'box:gone', 'box:live']);
    expect([existsSync(running.dir), existsSync(reused.dir), existsSync(keep.dir)]).toEqual([false, false, true]);
    await new Promise((res) => setTimeout(res, 100));
    expect(sleeper.exitCode !== null || sleeper.signalCode !== null || !pidAlive(sleeper.pid!)).toBe(true);
    expect(pidAlive(bystander.pid!)).toBe(true);
  });
});

// ---- native: services ------------------------------------------------------------------------------

describe('native services / stop / start', () => {
  it('describes each process by the server it runs', () => {
    const pgi = { version: '16.4', binDir: '/pg/bin' };
    const n4i = { version: '5.26.0', home: '/neo' };
    expect(serviceImage(state('postgres', 'running', { 'dev.helfy.config-hash': 'abc' }, 11), pgi, n4i)).toEqual({
      service: 'postgres', containerId: 'native:postgres:11', running: true, image: 'native: PostgreSQL 16.4 (/pg/bin)', imageId: 'abc', digests: [],
    });
    expect(serviceImage(state('neo4j', 'exited'), pgi, n4i)).toMatchObject({ running: false, image: 'native: Neo4j 5.26.0 (/neo)', imageId: '' });
    expect(serviceImage(state('api', 'running', { 'dev.helfy.command': 'node dist/main.js' })).image).toBe('native: node dist/main.js');
    expect(serviceImage(state('postgres', 'running')).image).toBe('native: postgres');
  });

  it('stops the running ones in order and tells of each', async () => {
    const { sup, calls } = fakeSupervisor('/d', [state('api', 'running'), state('worker', 'exited'), state('neo4j', 'running')]);
    const heard: string[] = [];
    expect(await stopServices(sup, ['api', 'worker', 'web', 'neo4j'], { graceS: 3, onStopped: (s) => heard.push(s) })).toEqual(['api', 'neo4j']);
    expect(heard).toEqual(['api', 'neo4j']);
    expect(calls).toEqual(['get api', 'stop api {"graceS":3}', 'get worker', 'get web', 'get neo4j', 'stop neo4j {"graceS":3}']);
    calls.length = 0;
    await stopServices(sup, ['api']);
    expect(calls).toEqual(['get api', 'stop api {}']);
  });

  it('starts again only the ones that ran here and are not running', async () => {
    const { sup } = fakeSupervisor('/d', [state('api', 'running'), state('worker', 'exited'), state('neo4j', 'exited')]);
    const started: string[] = [];
    await startServices({ supervisor: sup, startService: async (s) => void started.push(s) }, ['neo4j', 'api', 'web', 'worker']);
    expect(started).toEqual(['neo4j', 'worker']);
  });
});

// ---- docker ---------------------------------------------------------------------------------------

describe('docker labels', () => {
  it('labels one-offs and verify\'s containers so they are found again', () => {
    expect(oneOffLabels('proj', 'bk-1')).toEqual(['--label', 'dev.helfy.backup=bk-1', '--label', 'com.docker.compose.project-backup=proj']);
    expect(oneOffLabels('proj', undefined)).toEqual(['--label', 'dev.helfy.backup=adhoc', '--label', 'com.docker.compose.project-backup=proj']);
    expect(verifyLabels('proj', 'verify', 'box:7')).toEqual([
      '--label', 'dev.helfy.backup=verify', '--label', 'com.docker.compose.project-backup=proj', '--label', 'dev.helfy.backup.owner=box:7',
    ]);
    expect(verifyLabels('proj', 't').at(-1)).toBe(`${OWNER_LABEL}=${hostname()}:${process.pid}`);
  });

  it('filters one-offs by tag (all of the project without one) and leftovers by owner', () => {
    expect(oneOffFilters('proj', 'bk-1')).toEqual({ label: ['dev.helfy.backup=bk-1', 'com.docker.compose.project-backup=proj'] });
    expect(oneOffFilters('proj')).toEqual({ label: [ONEOFF_LABEL, 'com.docker.compose.project-backup=proj'] });
    expect(verifyLeftoverLabels('proj')).toEqual(['com.docker.compose.project-backup=proj', OWNER_LABEL]);
    expect(ownerOf({ [OWNER_LABEL]: 'box:1', other: 'x' })).toBe('box:1');
    expect(ownerOf({ other: 'x' })).toBe('');
    expect(ownerOf(undefined)).toBe('');
  });

  it('recognises the `docker run` client of a one-off of this project and tag', () => {
    const matches = oneOffClientMatcher('proj', 'bk-1');
    const argv = ['docker', ...neo4jOneOffArgs('proj', 'bk-1', 'cid', 'sha256:img', [], neo4jDumpCmd('neo4j'))];
    expect(matches(argv)).toBe(true);
    expect(matches(argv.map((a) => (a === 'run' ? 'create' : a)))).toBe(false);
    expect(oneOffClientMatcher('proj', 'bk-2')(argv)).toBe(false);
    expect(oneOffClientMatcher('other', 'bk-1')(argv)).toBe(false);
    // The label must be a whole argument: another project whose name starts alike is not this one.
    expect(oneOffClientMatcher('pro', 'bk-1')(argv)).toBe(false);
  });
});

describe('docker PostgreSQL tools (docker exec)', () => {
  it('passes the password by name only and connects over the container\'s loopback', () => {
    expect(pgDumpVersionArgs('c1')).toEqual(['exec', 'c1', 'pg_dump', '--version']);
    expect(dockerDumpGlobalsArgs('c1')).toEqual(['exec', '-e', 'PGPASSWORD', '-e', 'PGUSER', 'c1', 'pg_dumpall', '--globals-only', '-h', '127.0.0.1', '-l', 'postgres']);
    expect(dockerDumpDatabaseArgs('c1', 'app')).toEqual(['exec', '-e', 'PGPASSWORD', '-e', 'PGUSER', 'c1', 'pg_dump', '-Fc', '--create', '-h', '127.0.0.1', '-d', 'app']);
    expect(dockerPsqlArgs('c1', 'app')).toEqual(['exec', '-i', '-e', 'PGPASSWORD', '-e', 'PGUSER', 'c1', 'psql', '-h', '127.0.0.1', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'app', '-f', '-']);
    expect(dockerRestoreArgs('c1', 'app', ['--no-owner'])).toEqual(['exec', '-i', '-e', 'PGPASSWORD', '-e', 'PGUSER', 'c1', 'pg_restore', '-h', '127.0.0.1', '--exit-on-error', '--no-owner', '-d', 'app']);
    expect(dockerRestoreArgs('c1', 'app')).toEqual(['exec', '-i', '-e', 'PGPASSWORD', '-e', 'PGUSER', 'c1', 'pg_restore', '-h', '127.0.0.1', '--exit-on-error', '-d', 'app']);
  });

  it('reads archives from stdin and passes the TOC list through a file in the container', () => {
    expect(dockerArchiveListArgs('c1')).toEqual(['exec', '-i', 'c1', 'pg_restore', '-C', '-l']);
    const path = archiveListPath(321, 1700000000000);
    expect(path).toBe('/tmp/helfy-restore-321-1700000000000.list');
    expect(writeListArgs('c1', path)).toEqual(['exec', '-i', 'c1', 'sh', '-c', `cat > ${path}`]);
    expect(dockerArchiveSqlArgs('c1', path)).toEqual(['exec', '-i', 'c1', 'pg_restore', '-C', '-L', path, '-f', '-']);
    expect(removeListArgs('c1', path)).toEqual(['exec', 'c1', 'rm', '-f', path]);
  });
});

describe('docker neo4j-admin one-offs and scratch Neo4j', () => {
  it('runs dump and load in a labelled one-off of the neo4j image with its volumes', () => {
    expect(neo4jOneOffArgs('proj', 'bk-1', 'cid', 'sha256:img', [], neo4jDumpCmd('neo4j'))).toEqual([
      'run', '--rm', '-i', '--label', 'dev.helfy.backup=bk-1', '--label', 'com.docker.compose.project-backup=proj',
      '--volumes-from', 'cid', 'sha256:img', 'neo4j-admin', 'database', 'dump', 'neo4j', '--to-stdout',
    ]);
    expect(neo4jOneOffArgs('proj', undefined, 'cid', 'img', ['--user', '0:0'], neo4jLoadCmd('system'))).toEqual([
      'run', '--rm', '-i', '--label', 'dev.helfy.backup=adhoc', '--label', 'com.docker.compose.project-backup=proj',
      '--volumes-from', 'cid', '--user', '0:0', 'img', 'neo4j-admin', 'database', 'load', 'system', '--from-stdin', '--overwrite-destination=true',
    ]);
  });

  it('checks the dumps read-only, as root, in a labelled one-off', () => {
    expect(dockerCheckArgs(['--label', 'L'], '/host/b1', 'img', 'neo4j')).toEqual([
      'run', '--rm', '--label', 'L', '-v', '/host/b1:/backup:ro', '--user', '0:0', '--entrypoint', 'neo4j-admin', 'img',
      'database', 'check', '--from-path=/backup', '--temp-path=/tmp', '--report-path=/tmp/check.report', '--max-off-heap-memory=256m', 'neo4j',
    ]);
  });

  it('loads the scratch volume, then serves it without auth on a loopback port', () => {
    const vol = scratchVolumeName(42, 1700000000000);
    expect(vol).toBe(`helfy-verify-42-${(1700000000000).toString(36)}`);
    expect(scratchLoadArgs(['--label', 'L'], vol, 'img')).toEqual([
      'run', '--rm', '-i', '--label', 'L', '-v', `${vol}:/data`, 'img', 'neo4j-admin', 'database', 'load', 'neo4j', '--from-stdin', '--overwrite-destination=true',
    ]);
    expect(scratchServerArgs(['--label', 'L'], vol, vol, 'img')).toEqual([
      'run', '-d', '--label', 'L', '--name', vol, '-v', `${vol}:/data`, '-e', 'NEO4J_AUTH=none',
      '-e', 'NEO4J_server_memory_heap_max__size=512m', '-e', 'NEO4J_server_memory_pagecache_size=64m', '-p', '127.0.0.1::7687', 'img',
    ]);
  });

  it('reads the Bolt port from `docker port`', () => {
    expect(boltPortOf('127.0.0.1:49153\n')).toBe(49153);
    expect(boltPortOf('127.0.0.1:32768\n[::1]:32769\n')).toBe(32768);
    expect(boltPortOf('  [::1]:40001  ')).toBe(40001);
  });
});

describe('docker containers and sweep decisions', () => {
  const row = (service: string | undefined, st: string, extra: Record<string, string> = {}, image = 'img:1', imageId = 'sha256:1'): ContainerRow => ({
    Id: `id-${service ?? 'x'}-${Object.keys(extra).length}`, Image: image, ImageID: imageId, State: st,
    Labels: { ...(service ? { 'com.docker.compose.service': service } : {}), ...extra },
  });

  it('keeps the services\' own containers, not `compose run` one-offs', () => {
    const list = [row('api', 'running'), row('api', 'exited', { 'com.docker.compose.oneoff': 'True' }), row('web', 'running', { 'com.docker.compose.oneoff': 'False' })];
    expect(serviceContainers(list).map((c) => c.Id)).toEqual(['id-api-0', 'id-web-1']);
    expect(findService(serviceContainers(list), 'api')?.Id).toBe('id-api-0');
    expect(findService(list, 'neo4j')).toBeUndefined();
  });

  it('lists labelled service containers by name, with their images\' digests', () => {
    const list = [row('web', 'exited', {}, 'web:dev', 'sha256:w'), row(undefined, 'running'), row('api', 'running', {}, 'api:dev', 'sha256:a')];
    expect(serviceImages(list, new Map([['sha256:a', ['api@sha256:d1']]]))).toEqual([
      { service: 'api', containerId: 'id-api-0', running: true, image: 'api:dev', imageId: 'sha256:a', digests: ['api@sha256:d1'] },
      { service: 'web', containerId: 'id-web-0', running: false, image: 'web:dev', imageId: 'sha256:w', digests: [] },
    ]);
  });

  it('takes a 304 from the engine as "already so"', () => {
    expect(notModified({ statusCode: 304 })).toBe(true);
    expect(notModified({ statusCode: 404 })).toBe(false);
    expect(notModified(new Error('x'))).toBe(false);
  });

  it('lists one-offs once unless it killed clients, then until two empty lists or the deadline', () => {
    expect(doneLooking(0, 0, 0, 15_000)).toBe(true);
    expect(doneLooking(1, 0, 1000, 15_000)).toBe(false);
    expect(doneLooking(1, 1, 1000, 15_000)).toBe(false);
    expect(doneLooking(1, 2, 1000, 15_000)).toBe(true);
    expect(doneLooking(2, 0, 15_001, 15_000)).toBe(true);
    expect(doneLooking(2, 0, 15_000, 15_000)).toBe(false);
  });
});

describe('docker CLI runs', () => {
  it('runs the docker CLI with the password in its environment only', () => {
    const env = { PATH: '/usr/bin', DOCKER: '/opt/docker' };
    const ctx = dockerBackupContext({ env, project: 'proj', pgUser: 'admin', pgPassword: 'pw-1' });
    expect(ctx.dockerBin).toBe('/opt/docker');
    expect(ctx.env).toBe(env);
    expect(ctx.toolEnv).toEqual({ PATH: '/usr/bin', DOCKER: '/opt/docker', PGPASSWORD: 'pw-1', PGUSER: 'admin' });
    expect(dockerBackupContext({ env: {}, project: 'p', pgUser: 'u', pgPassword: 'p' }).dockerBin).toBe('docker');
    const t = dockerToolRun(ctx, dockerDumpGlobalsArgs('c1'));
    expect(t).toMatchObject({ cmd: '/opt/docker', env: ctx.toolEnv, cleanup: false });
    expect(t.args.join(' ')).not.toContain('pw-1');
    expect(t.fail(1, 'pg_dumpall: error: connection refused').message).toBe('pg_dumpall failed (exit 1): pg_dumpall: error: connection refused');
  });

  it('names the tool a docker CLI run is about', () => {
    expect(toolNameOf(dockerRestoreArgs('c1', 'app'))).toBe('pg_restore');
    expect(toolNameOf(neo4jOneOffArgs('p', 't', 'c', 'i', [], neo4jLoadCmd('neo4j')))).toBe('neo4j-admin');
    expect(toolNameOf(['volume', 'create', 'v'])).toBe('volume');
    expect(toolNameOf([])).toBe('docker');
  });
});
