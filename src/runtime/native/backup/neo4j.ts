/**
 * neo4j-admin of the native backup runtime: `java -cp <lib>/* org.neo4j.cli.AdminTool database
 * dump|load|check …` with NEO4J_HOME / NEO4J_CONF at the workspace's Neo4j home (dump, load: Neo4j
 * stopped first, as under Docker) or at a throw-away home (check).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StreamOpts, StreamResult } from '../../../backup/runtime.js';
import { HelfyError } from '../../../core/errors.js';
import type { Neo4jInstall, Supervisor } from '../types.js';
import { toolBaseEnv, type NativeBackupContext } from './context.js';
import { markSpawned, newMarkerDir } from './markers.js';
import { fromFile, notFound, toFile, type RunOpts } from './tools.js';

/** How to run neo4j-admin: the Java, its arguments and its whole environment. */
export interface AdminCommand {
  cmd: string;
  args: string[];
  env: Record<string, string>;
}

/** JVM flags for neo4j-admin (the distribution's, minus what a short-lived tool does not need). */
export function adminJvm(heap = '256m'): string[] {
  return [
    `-Xmx${heap}`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:-OmitStackTraceInFastThrow',
    '--add-opens=java.base/java.nio=ALL-UNNAMED', '--add-opens=java.base/java.io=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED', '--enable-native-access=ALL-UNNAMED',
    '-Dlog4j2.disable.jmx=true', '-Dfile.encoding=UTF-8',
  ];
}

/** neo4j.conf of a throw-away home under `dir` (check / scratch server). */
export function scratchConf(dir: string, extra: Record<string, string> = {}): string {
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

/** neo4j-admin `args` of the installation `n` on the home `home` (config in `confDir`). */
export function adminCommand(n: Pick<Neo4jInstall, 'java' | 'libDir'>, base: Record<string, string>, home: string, confDir: string, args: string[], heap?: string): AdminCommand {
  return {
    cmd: n.java.bin,
    args: [...adminJvm(heap), '-cp', `${n.libDir}/*`, `-Dbasedir=${home}`, 'org.neo4j.cli.AdminTool', ...args],
    env: { ...base, NEO4J_HOME: home, NEO4J_CONF: confDir },
  };
}

export async function adminCmd(ctx: NativeBackupContext, home: string, confDir: string, args: string[], heap?: string): Promise<AdminCommand> {
  const n = await ctx.o.neo4j();
  return adminCommand(n, toolBaseEnv(ctx), home, confDir, args, heap);
}

export async function neo4jStopped(supervisor: Pick<Supervisor, 'get'>): Promise<void> {
  const s = await supervisor.get('neo4j');
  if (s?.state === 'running') throw new HelfyError('INTERNAL', 'neo4j must be stopped before neo4j-admin touches its store');
}

/** A dump/load one-off on the workspace's store, with a marker for removeOneOffs after a kill -9. */
export async function workspaceAdmin<T>(ctx: NativeBackupContext, so: StreamOpts, args: string[], run: (c: AdminCommand, r: RunOpts) => Promise<T>): Promise<T> {
  await neo4jStopped(ctx.o.supervisor);
  const c = await adminCmd(ctx, ctx.neo4jHome, join(ctx.neo4jHome, 'conf'), args);
  const m = await newMarkerDir(ctx, 'oneoff', so.tag ?? 'adhoc');
  try {
    return await run(c, {
      ...so, cwd: ctx.neo4jHome,
      onSpawn: (pid) => markSpawned(m, pid),
    });
  } finally {
    await rm(m.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** `database dump <db>` to stdout. */
export function neo4jDumpArgs(db: string): string[] {
  return ['database', 'dump', db, '--to-stdout'];
}

/** `database load <db>` from stdin, replacing the database. */
export function neo4jLoadArgs(db: string): string[] {
  return ['database', 'load', db, '--from-stdin', '--overwrite-destination=true'];
}

/** `database check` of the dumps in `dir`, its temp files and report in the throw-away `home`. */
export function neo4jCheckArgs(dir: string, home: string, db: string): string[] {
  return ['database', 'check', `--from-path=${dir}`, `--temp-path=${join(home, 'tmp')}`,
    `--report-path=${join(home, 'check.report')}`, '--max-off-heap-memory=256m', db];
}

export async function neo4jDump(ctx: NativeBackupContext, db: string, file: string, so: StreamOpts): Promise<StreamResult> {
  return workspaceAdmin(ctx, so, neo4jDumpArgs(db), (c, r) => toFile(c.cmd, c.args, c.env, file, r));
}

export async function neo4jLoad(ctx: NativeBackupContext, db: string, file: string, so: StreamOpts): Promise<StreamResult> {
  return workspaceAdmin(ctx, so, neo4jLoadArgs(db), (c, r) => fromFile(c.cmd, c.args, c.env, file, r));
}

/** A throw-away home: the check must not need (or touch) the workspace's, and may run while Neo4j runs. */
export async function neo4jCheck(ctx: NativeBackupContext, dir: string, db: string, so: StreamOpts): Promise<{ ok: boolean; output: string }> {
  const m = await newMarkerDir(ctx, 'check', so.tag ?? 'check');
  try {
    await mkdir(join(m.dir, 'conf'));
    await mkdir(join(m.dir, 'tmp'));
    await writeFile(join(m.dir, 'conf', 'neo4j.conf'), scratchConf(m.dir));
    const c = await adminCmd(ctx, m.dir, join(m.dir, 'conf'), neo4jCheckArgs(dir, m.dir, db), '512m');
    const { execa } = await import('execa');
    const child = execa(c.cmd, c.args, { env: c.env, extendEnv: false, reject: false, all: true, stdin: 'ignore', cwd: m.dir, ...(so.signal ? { cancelSignal: so.signal } : {}), forceKillAfterDelay: 3000, cleanup: true });
    if (child.pid) await markSpawned(m, child.pid);
    const r = await child;
    if (r.isCanceled) throw new HelfyError('INTERRUPTED', 'interrupted');
    if ((r as { code?: string }).code === 'ENOENT') throw notFound(c.cmd);
    return { ok: r.exitCode === 0, output: String(r.all ?? '') };
  } finally {
    await rm(m.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
