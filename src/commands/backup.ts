/**
 * `helfy backup [--name N] [--online]`, `helfy backup list`, `helfy backup verify <id>
 * [--restore-test]` and `helfy backup prune`: parse, call the backup domain (src/backup: session,
 * recovery, create, verify, list and prune; the BackupRuntime port and its two adapters in
 * src/runtime), render. One backup / restore / restore test / prune per project at a time
 * (src/backup/lock.ts); every session first recovers what a killed one left (src/backup/recovery.ts).
 */
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { ExitCode } from '../core/errors.js';
import { createBackup, type BackupOptions, type BackupResult } from '../backup/create.js';
import { listBackups, pruneBackups, type ListResult, type PruneOptions, type PruneResult } from '../backup/list.js';
import { backupId } from '../backup/manifest.js';
import { openBackupSession } from '../backup/session.js';
import { verifyBackup, type VerifyResult } from '../backup/verify.js';
import { formatBytes } from '../stack/down.js';

export type { BackupResult, ListResult, PruneResult, VerifyResult };

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export async function run(ctx: Context, input: CommandInput): Promise<BackupResult> {
  const opts = input.opts as BackupOptions;
  const startedAt = new Date();
  const id = backupId(startedAt, opts.name);
  const { cfg, root, brt, release, waitHealthy } = await openBackupSession(ctx, { recover: true, lock: 'backup' });
  try {
    return await createBackup(ctx, opts, startedAt, id, cfg, root, brt, (services) => waitHealthy(services, { signal: ctx.signal }));
  } finally {
    await release();
  }
}

export function render(r: BackupResult, ctx: Context): void {
  for (const w of r.warnings) ctx.log.warn(w);
  ctx.log.success(`backup ${r.id}: ${formatBytes(r.bytes)} in ${seconds(r.durationMs)}${r.writersStopped.length ? ` (writers ${r.writersStopped.join(', ')} stopped for ${seconds(r.writersDowntimeMs)})` : ''}${r.consistent ? '' : ' — not consistent across stores (--online)'}`);
  ctx.stdout(r.id);
}

export const list = {
  run: (ctx: Context): Promise<ListResult> => listBackups(ctx),
  render(r: ListResult, ctx: Context): void {
    if (!r.backups.length) ctx.stdout(`no backups in ${r.dir} (\`helfy backup\` makes one)`);
    else {
      const rows = r.backups.map((b) => [b.id, b.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), formatBytes(b.bytes), b.stores.join('+'), b.verified, b.consistent ? 'yes' : 'no (--online)']);
      const head = ['ID', 'DATE', 'SIZE', 'STORES', 'VERIFIED', 'CONSISTENT'];
      const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
      const line = (x: string[]) => x.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
      ctx.stdout([line(head), ...rows.map(line)].join('\n'));
    }
    for (const p of r.incomplete) ctx.log.warn(`incomplete backup ${p.id}.partial ${p.stale ? '(interrupted; `helfy backup prune` removes it)' : '(still being written)'}`);
    for (const d of r.damaged) ctx.log.warn(`damaged backup ${d.id}: ${d.reason}`);
    if (r.others.length) ctx.log.info(`${r.others.length} backup(s) of other projects in ${r.dir}, not listed above: ${r.others.map((o) => `${o.id} (${o.project})`).join(', ')}`);
  },
};

export const verify = {
  async run(ctx: Context, input: CommandInput): Promise<VerifyResult> {
    const id = String(input.args[0] ?? '');
    const opts = input.opts as { restoreTest?: boolean };
    // The restore test drops and creates scratch databases and a Neo4j container: one at a time per project.
    const { cfg, root, brt, release } = await openBackupSession(ctx, { recover: true, ...(opts.restoreTest ? { lock: 'verify --restore-test' } : {}) });
    try {
      return await verifyBackup(ctx, id, opts, cfg, root, brt);
    } finally {
      await release();
    }
  },
  render(r: VerifyResult, ctx: Context): void {
    for (const f of r.files) if (!f.ok) ctx.log.error(`${f.name}: ${f.problem}`);
    for (const c of r.neo4jCheck) if (!c.ok) ctx.log.error(`neo4j-admin database check ${c.database}: ${c.detail ?? 'failed'}`);
    if (r.restoreTest) for (const d of r.restoreTest.differences) ctx.log.error(`restore test: ${d.what}: expected ${d.expected}, got ${d.actual}`);
    if (r.ok) ctx.log.success(`backup ${r.id} verified: ${r.files.length} files match their sha256, neo4j-admin check passed${r.restoreTest ? `, restore test matches the manifest's figures (${seconds(r.restoreTest.durationMs)})` : ''}`);
    else ctx.log.error(`backup ${r.id} failed verification: ${r.problems.length} problem(s)`);
  },
  exitCode(r: VerifyResult) {
    return r.ok ? ExitCode.Ok : ExitCode.Failed;
  },
};

export const prune = {
  run: (ctx: Context, input: CommandInput): Promise<PruneResult> => pruneBackups(ctx, input.opts as PruneOptions),
  render(r: PruneResult, ctx: Context): void {
    const verb = r.dryRun ? 'would remove' : 'removed';
    for (const d of r.decisions) ctx.stdout(`${d.keep ? 'keep  ' : r.dryRun ? 'remove' : 'removed'} ${d.id}${d.keep ? `  (${d.reasons.join(', ')})` : ''}`);
    for (const p of r.removedPartials) ctx.stdout(`${r.dryRun ? 'remove' : 'removed'} ${p}  (interrupted)`);
    const n = r.decisions.filter((d) => !d.keep).length;
    ctx.log.success(`${verb} ${n} backup(s) and ${r.removedPartials.length} interrupted folder(s); kept ${r.decisions.length - n}${r.dryRun ? ' (--dry-run: nothing changed)' : ''}`);
  },
};
