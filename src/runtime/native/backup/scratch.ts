/**
 * The throw-away Neo4j of `backup verify --restore-test` on the native runtime: a marked temp home
 * under .helfy/tmp/backup with the service definition's neo4j.conf (no auth, no HTTP, small
 * memory, Bolt on a free loopback port), the dump loaded by neo4j-admin, then the server started
 * detached in its own process group. remove() (or, after a kill -9, the sweep) ends it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { StreamOpts } from '../../../backup/runtime.js';
import { HelfyError } from '../../../core/errors.js';
import { procStart } from '../../../core/proc.js';
import type { Neo4jConfOptions } from '../services/neo4j.js';
import { toolBaseEnv, type NativeBackupContext } from './context.js';
import { killAndWait, markSpawned, newMarkerDir, type MarkerDir } from './markers.js';
import { adminCmd, neo4jLoadArgs } from './neo4j.js';
import { fromFile } from './tools.js';

/** A free TCP port on 127.0.0.1 (bind to 0, read, close). */
export async function freeLoopbackPort(): Promise<number> {
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

/** The service definition's neo4j.conf options, with what a throw-away server differs in: no auth, no HTTP, small memory. */
export function scratchServerConf(home: string, boltPort: number): Neo4jConfOptions {
  return {
    home, listen: '127.0.0.1', boltPort, httpPort: 0, heapInitial: '512m', heapMax: '512m', pageCache: '64m',
    extra: {
      'server.http.enabled': 'false', 'server.http.listen_address': '127.0.0.1:0', 'dbms.security.auth_enabled': 'false',
      'server.directories.transaction.logs.root': join(home, 'data', 'transactions'), 'db.tx_log.rotation.retention_policy': '1 files',
    },
  };
}

/**
 * Starts the server on the prepared home `m.dir`, detached in its own group, output to a file:
 * like a container, it outlives nothing but this helfy's use of it (remove(); after a kill -9 the
 * sweep, by the marker). `onPid` hears of its pid before the marker is saved.
 */
export async function spawnScratchServer(ctx: NativeBackupContext, m: MarkerDir, onPid: (pid: number) => void): Promise<void> {
  const n = await ctx.o.neo4j();
  const { neo4jJvmArgs } = await import('../services/neo4j.js');
  const logFd = openSync(join(m.dir, 'logs', 'console.log'), 'a', 0o600);
  try {
    const args = neo4jJvmArgs({ libDir: n.libDir, home: m.dir, confDir: join(m.dir, 'conf'), heapInitial: '512m', heapMax: '512m', quickJit: true });
    const child = spawn(n.java.bin, args, {
      cwd: m.dir, env: { ...toolBaseEnv(ctx), NEO4J_HOME: m.dir, NEO4J_CONF: join(m.dir, 'conf') }, detached: true, stdio: ['ignore', logFd, logFd],
    });
    child.on('error', () => undefined);
    if (!child.pid) throw new HelfyError('OPERATION_FAILED', `cannot start a scratch Neo4j with ${n.java.bin}`);
    const pid = child.pid;
    onPid(pid);
    child.unref();
    m.marker.pid = pid;
    m.marker.procStart = procStart(pid);
    m.marker.group = true;
    await m.save();
  } finally {
    closeSync(logFd);
  }
}

export async function scratchNeo4j(ctx: NativeBackupContext, dumpFile: string, so: StreamOpts): Promise<{ boltPort: number; remove(): Promise<void> }> {
  const m = await newMarkerDir(ctx, 'scratch', so.tag ?? 'verify');
  let pid: number | undefined;
  const remove = async () => {
    if (pid) await killAndWait(pid, true, 'SIGTERM', 5000);
    await rm(m.dir, { recursive: true, force: true });
  };
  try {
    const boltPort = await freeLoopbackPort();
    const { neo4jConf, NEO4J_DIRS } = await import('../services/neo4j.js');
    for (const d of ['conf', ...NEO4J_DIRS]) await mkdir(join(m.dir, d));
    await writeFile(join(m.dir, 'conf', 'neo4j.conf'), neo4jConf(scratchServerConf(m.dir, boltPort)));
    const load = await adminCmd(ctx, m.dir, join(m.dir, 'conf'), neo4jLoadArgs('neo4j'));
    await fromFile(load.cmd, load.args, load.env, dumpFile, {
      ...so, cwd: m.dir,
      onSpawn: (p) => markSpawned(m, p),
    });
    await spawnScratchServer(ctx, m, (p) => {
      pid = p;
    });
    return { boltPort, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}
