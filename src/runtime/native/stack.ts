/**
 * The native StackRuntime: what `up`, `down`, `status` and `logs` (src/stack) use when the stack
 * runs as local processes instead of containers. It puts together
 *  - the supervisor (supervisor.ts): detached processes, state/exit/log files under .helfy/;
 *  - the service definitions (services.ts): one ProcessSpec + health check per catalog service;
 *  - the locator (locate.ts): PostgreSQL, Java/Neo4j, Temporal found or installed on first use.
 *
 * It behaves like compose where src/stack relies on it: `up` starts the services it is given in
 * dependency order and waits for `healthy` / `completed` dependencies before starting a dependent,
 * skipping processes that already run with the same configuration (label dev.helfy.config-hash,
 * plus a hash of the process spec); `down` stops in reverse order (SIGTERM, SIGKILL after the
 * grace period) and with `volumes` deletes `.helfy/data/<service>`. A process is a "container"
 * for src/stack: id = name = service.
 *
 * The parts live in ./stack/, one module each, every function taking what it needs (the
 * runtime's StackContext, a supervisor, a process state) instead of capturing it:
 *  - common.ts: labels, the lock wait, the native services, exit codes, small pure helpers;
 *  - context.ts: the options and the context (supervisor, locator, definitions, progress), the lock;
 *  - snapshot.ts: a process as a container (status text, health, exit code), describe, start times;
 *  - prepare.ts: prepare (locate/install, initdb), build, missing app builds;
 *  - up.ts: dependency order and waiting, keep / restart / start of each service;
 *  - stop.ts: stop order, stop and down (with the data folders);
 *  - volumes.ts: the data folders and their sizes;
 *  - ports.ts: who holds a busy port;
 *  - backup-hold.ts: the BackupRuntime with the workspace lock held from a stop to its start.
 */
import type { StackRuntime, VolumeInfo } from '../../stack/runtime.js';
import { runProbe } from '../../stack/probes.js';
import { nativeBackup } from './stack/backup-hold.js';
import { locked, stackContext, type NativeRuntimeOptions } from './stack/context.js';
import { busyPorts } from './stack/ports.js';
import { buildApps, missingImages, prepareLocked } from './stack/prepare.js';
import { describeRuntime, listNative, snapshot, startTimes } from './stack/snapshot.js';
import { downLocked, stopLocked } from './stack/stop.js';
import { upLocked } from './stack/up.js';
import { listVolumes } from './stack/volumes.js';

export { LABEL_COMMAND, LABEL_SERVER, LABEL_SPEC_HASH, LOCK_WAIT_MS, NATIVE_SERVICE_NAMES, exitCodeOf } from './stack/common.js';
export type { NativeRuntimeOptions } from './stack/context.js';

/** The port as the native adapter implements it (stop: dependents first, and the processes are forgotten). */
export type NativeStackRuntime = StackRuntime;

export function nativeRuntime(o: NativeRuntimeOptions): NativeStackRuntime {
  const ctx = stackContext(o);
  const { cfg, sup } = ctx;
  const rt: NativeStackRuntime = {
    project: cfg.projectName,
    kind: 'native',
    describe: () => describeRuntime(ctx),
    async driver() {
      return { upCommand: 'starting the native services', buildCommand: 'npm run build', downCommand: 'stopping the native services', logPrefix: 'native' };
    },
    async containers() {
      return Promise.all((await listNative(sup)).map((s) => snapshot(ctx, s)));
    },
    prepare: (names, opts) => prepareLocked(ctx, names, opts),
    up: (names, opts) => upLocked(ctx, names, opts),
    build: (names, opts) => buildApps(cfg, names, opts),
    down: (opts) => downLocked(ctx, opts, () => rt.volumes()),
    stop: (names, opts = {}) => stopLocked(ctx, names, opts),
    backupRuntime: () => nativeBackup(ctx, rt),
    async logs(id, opts) {
      return (await sup()).readLog(id, opts.tail !== undefined ? { tail: opts.tail } : {});
    },
    async followLogs(id, opts, onLine, signal) {
      return (await sup()).followLog(id, opts.tail !== undefined ? { tail: opts.tail } : {}, onLine, signal);
    },
    startTimes: (ids) => startTimes(sup, ids),
    async volumes(): Promise<VolumeInfo[]> {
      return listVolumes(cfg.root, (await sup()).dirs.data);
    },
    missingImages: (refs) => missingImages(cfg, refs),
    probe: (def, timeoutMs) => runProbe(def, cfg, timeoutMs),
    busyPorts: (ports) => busyPorts(ctx, ports),
  };
  // up, down and stop (and prepare: initdb) hold the workspace lock; backup/restore's
  // stop/start of the writers come through here too (startService → up, or under their own lock).
  const unlocked = { prepare: rt.prepare!, up: rt.up, down: rt.down, stop: rt.stop };
  rt.prepare = (names, opts) => locked(ctx, 'helfy up', () => unlocked.prepare.call(rt, names, opts));
  rt.up = (names, opts) => locked(ctx, 'helfy up', () => unlocked.up.call(rt, names, opts));
  rt.down = (opts) => locked(ctx, 'helfy down', () => unlocked.down.call(rt, opts));
  rt.stop = (names, opts) => locked(ctx, `stopping ${names.join(', ')}`, () => unlocked.stop.call(rt, names, opts));
  return rt;
}
