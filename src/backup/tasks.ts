/**
 * Pieces backup, verify and restore share: the per-store task list (PostgreSQL and Neo4j side by
 * side), the Neo4j connection of the stack, the figures of both stores, helfy's version.
 */
import { readFileSync } from 'node:fs';
import type { HelfyConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import type { HelfyError } from '../core/errors.js';
import type { Figures } from './manifest.js';

export function helfyVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function neo4jConn(cfg: HelfyConfig) {
  return { host: cfg.neo4j.host, boltPort: cfg.neo4j.boltPort, user: cfg.neo4j.user, password: cfg.neo4j.password };
}

/** Figures of both stores as they are now (PostgreSQL and Neo4j up). */
export async function currentFigures(cfg: HelfyConfig): Promise<Figures> {
  const { postgresFigures, neo4jFigures } = await import('../db/backup/figures.js');
  const [pg, neo] = await Promise.all([postgresFigures(cfg), neo4jFigures(neo4jConn(cfg))]);
  return { ...pg, neo4j: neo };
}


export interface StoreTask {
  title: string;
  run(signal: AbortSignal, setTitle: (t: string) => void): Promise<void>;
}

/**
 * Runs the per-store steps side by side as one task list. With `cancelSiblings` (backup), when
 * one fails the others are cancelled through their signal and awaited (no tool keeps running on
 * a store that is about to be restarted); without (restore), the others run to their end, since
 * cancelling a half-done restore of the other store would wreck it too. Then the first real
 * error is thrown (an interruption only when nothing else failed).
 */
export async function runStoreTasks(ctx: Context, tasks: StoreTask[], o: { cancelSiblings: boolean } = { cancelSiblings: true }): Promise<void> {
  const inner = new AbortController();
  const signal = o.cancelSiblings ? AbortSignal.any([ctx.signal, inner.signal]) : ctx.signal;
  const errors: unknown[] = [];
  await ctx.tasks.run(tasks.map((t) => ({
    title: t.title,
    task: async (_c: unknown, task: { title: string }) => {
      try {
        await t.run(signal, (x) => (task.title = x));
      } catch (e) {
        errors.push(e);
        inner.abort(e);
        throw e;
      }
    },
  })) as never, { concurrent: true, exitOnError: false });
  if (errors.length) throw errors.find((e) => (e as HelfyError)?.code !== 'INTERRUPTED') ?? errors[0];
}
