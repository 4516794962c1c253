/**
 * The BackupRuntime of the native stack (../backup.ts) with the workspace lock held across a
 * backup/restore: they stop the writers (and Neo4j), work on the stores, start them again; an
 * `up` in between would restart them under the dump. So the lock is held from the first stop
 * until every service stopped is started again (a helfy killed meanwhile leaves a lock of a dead
 * holder, which the next one takes over). The lock is re-entrant per async call chain: the stop
 * and the start run inside the holding call (a little task queue, the Hold).
 */
import { HelfyError } from '../../../core/errors.js';
import type { Logger } from '../../../core/context.js';
import type { BackupRuntime } from '../../../backup/runtime.js';
import type { StackRuntime } from '../../../stack/runtime.js';
import type { Supervisor } from '../types.js';
import { LOCK_WAIT_MS, isNative } from './common.js';
import { locateModule, type StackContext } from './context.js';

/** The workspace lock, held by a call that runs what it is given until released. */
export interface Hold {
  /** The services stopped under this hold and not started again yet. */
  names: Set<string>;
  /** The holding call: settles once released (rejects when the lock could not be taken). */
  done: Promise<void>;
  /** Runs `f` inside the holding call (after what is queued before it). */
  run<T>(f: () => Promise<T>): Promise<T>;
  /** The holding call returns (the lock is released) once its queue is empty. */
  release(): void;
}

/** The hold of one BackupRuntime: none, or the one its first stop took. */
export interface HoldSlot {
  held?: Hold;
}

/** Takes the workspace lock for `what` (waiting up to `waitMs` for another helfy) and keeps it until released. */
export async function openHold(s: Pick<Supervisor, 'withLock'>, what: string, waitMs: number): Promise<Hold> {
  const queue: (() => Promise<void>)[] = [];
  let wake: (() => void) | undefined;
  let closing = false;
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const h: Hold = {
    names: new Set(),
    done: Promise.resolve(),
    run: <T>(f: () => Promise<T>) => new Promise<T>((res, rej) => {
      queue.push(() => f().then(res, rej));
      wake?.();
    }),
    release() {
      closing = true;
      wake?.();
    },
  };
  h.done = s.withLock(what, async () => {
    entered();
    for (;;) {
      while (queue.length) await queue.shift()!();
      if (closing) return;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  }, { waitMs });
  await Promise.race([inside, h.done]);
  return h;
}

/** A hold in `slot`: the one there, else a new one for `what`. */
export async function takeHold(slot: HoldSlot, s: Pick<Supervisor, 'withLock'>, what: string, waitMs: number): Promise<void> {
  if (slot.held) return;
  const h = await openHold(s, what, waitMs);
  slot.held = h;
}

/** Releases the hold in `slot` once no service stopped under it is still waiting to start again. */
export async function letGo(slot: HoldSlot): Promise<void> {
  if (!slot.held || slot.held.names.size) return;
  const h = slot.held;
  slot.held = undefined;
  h.release();
  await h.done;
}

/**
 * `brt` whose stop takes (or joins) the hold and records what it stopped, and whose start runs
 * inside it and releases it when nothing stopped remains to start.
 */
export function holdAcrossStopStart(brt: BackupRuntime, s: Pick<Supervisor, 'withLock'>, waitMs: number, slot: HoldSlot = {}): BackupRuntime {
  const baseStop = brt.stop.bind(brt);
  const baseStart = brt.start.bind(brt);
  brt.stop = async (names, so = {}) => {
    await takeHold(slot, s, `backup/restore (stopping ${names.join(', ')})`, waitMs);
    try {
      return await slot.held!.run(() => baseStop(names, { ...so, onStopped: (x) => (slot.held?.names.add(x), so.onStopped?.(x)) }));
    } finally {
      await letGo(slot);
    }
  };
  brt.start = async (names) => {
    const h = slot.held;
    try {
      await (h ? h.run(() => baseStart(names)) : baseStart(names));
    } finally {
      for (const x of names) h?.names.delete(x);
      await letGo(slot);
    }
  };
  return brt;
}

/** What `helfy up <name>` does for one service whose dependencies run (backup/restore restart the writers). */
export async function startForBackup(rt: Pick<StackRuntime, 'up'>, log: Logger, name: string): Promise<void> {
  if (!isNative(name)) throw new HelfyError('USAGE', `${name} is not a native service`);
  const r = await rt.up([name], { onLine: (l) => log.debug(`native: ${l}`) });
  if (r.exitCode !== 0) throw new HelfyError('OPERATION_FAILED', `could not start ${name}: ${r.output.at(-1) ?? `exit ${r.exitCode}`}`, { hint: '`helfy up` starts it (and says why it does not).' });
}

/** The BackupRuntime on this runtime's services; `rt.up` (with its lock) starts a service again. */
export async function nativeBackup(ctx: StackContext, rt: Pick<StackRuntime, 'up'>): Promise<BackupRuntime> {
  const { o, cfg } = ctx;
  const [{ nativeBackupRuntime }, s] = await Promise.all([import('../backup.js'), ctx.sup()]);
  const brt = nativeBackupRuntime({
    root: cfg.root,
    project: cfg.projectName,
    supervisor: s,
    startService: (name) => startForBackup(rt, o.log, name),
    pg: { host: cfg.postgres.host, port: cfg.postgres.port, user: cfg.postgres.superuser, password: cfg.postgres.superuserPassword },
    postgres: async (x) => (o.locate ? ctx.locator.postgres() : (await locateModule()).findPostgres(cfg, { ...x, env: o.env })),
    neo4j: () => ctx.locator.neo4j(),
    env: o.env,
  });
  return holdAcrossStopStart(brt, s, o.lockWaitMs ?? LOCK_WAIT_MS);
}
