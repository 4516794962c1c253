/**
 * `helfy restore <id> [--only postgres,neo4j] [--yes]`: parse, call src/backup/restore.ts (which
 * says what a restore checks, replaces and leaves behind on a failure), render.
 */
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { ExitCode } from '../core/errors.js';
import { parseStores } from '../backup/manifest.js';
import { restoreBackup, type RestoreResult } from '../backup/restore.js';
import { openBackupSession } from '../backup/session.js';

export type { RestoreResult };

export async function run(ctx: Context, input: CommandInput): Promise<RestoreResult> {
  const id = String(input.args[0] ?? '');
  const opts = input.opts as { only?: string };
  const stores = parseStores(opts.only);
  const t0 = performance.now();
  const session = await openBackupSession(ctx, { recover: true, lock: 'restore' });
  try {
    return await restoreBackup(ctx, id, stores, t0, session);
  } finally {
    await session.release();
  }
}

export function render(r: RestoreResult, ctx: Context): void {
  for (const w of r.warnings) ctx.log.warn(w);
  if (r.status === 'cancelled') {
    ctx.log.warn('cancelled: nothing was changed');
    return;
  }
  for (const d of r.differences) ctx.log.error(`${d.what}: the backup has ${d.expected}, the restored stack ${d.actual}`);
  if (r.differences.length) ctx.log.error(`restored ${r.id}, but ${r.differences.length} figure(s) differ from the manifest`);
  else ctx.log.success(`restored ${r.id} (${r.stores.join(', ')}) in ${(r.durationMs / 1000).toFixed(1)}s; every figure matches the manifest; writers started again`);
}

export function exitCode(r: RestoreResult) {
  return r.status === 'cancelled' || r.differences.length ? ExitCode.Failed : ExitCode.Ok;
}
