/**
 * `helfy backup verify <id> [--restore-test]`: every file against the manifest's sha256,
 * `neo4j-admin database check` on the Neo4j dumps, and with --restore-test a restore into scratch
 * databases and a scratch Neo4j whose figures are compared with the manifest's. The result is
 * recorded beside the backup (verified.json).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { HelfyConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import type { Figures, Manifest } from './manifest.js';
import { compareFigures, type FigureDiff } from './plan.js';
import type { BackupRuntime } from './runtime.js';
import { checkFiles, findBackup, writeVerifyRecord } from './store.js';

export interface VerifyResult {
  id: string;
  ok: boolean;
  files: { name: string; ok: boolean; problem?: string }[];
  neo4jCheck: { database: string; ok: boolean; detail?: string }[];
  restoreTest?: { ok: boolean; differences: FigureDiff[]; durationMs: number };
  problems: string[];
}

export async function verifyBackup(ctx: Context, id: string, opts: { restoreTest?: boolean }, cfg: HelfyConfig, root: string, brt: BackupRuntime): Promise<VerifyResult> {
  const b = await findBackup(root, id, cfg.projectName);
  const problems: string[] = [];
  const files = await checkFiles(b.dir, b.manifest);
  for (const f of files) if (!f.ok) problems.push(`${f.name}: ${f.problem}`);
  const neo4jCheck: VerifyResult['neo4jCheck'] = [];
  const n4files = b.manifest.files.filter((f) => f.store === 'neo4j');
  const { mkdtemp, link, copyFile } = await import('node:fs/promises');
  for (const f of n4files) {
    // A damaged set fails anyway: the (slow) consistency check runs only on intact files.
    if (problems.length) {
      neo4jCheck.push({ database: f.database!, ok: false, detail: `not checked: ${files.find((x) => x.name === f.name)?.ok ? 'another file' : 'the file'} is damaged` });
      continue;
    }
    // neo4j-admin check --from-path wants `<database>.dump` in a folder: a hard link (or copy) in a temp folder beside it.
    const tmp = await mkdtemp(join(root, `.check-${b.id}-`));
    try {
      const target = join(tmp, `${f.database}.dump`);
      await link(join(b.dir, f.name), target).catch(() => copyFile(join(b.dir, f.name), target));
      const r = await brt.neo4jCheck(tmp, f.database!, { signal: ctx.signal, tag: `verify-${b.id}` });
      const detail = r.ok ? undefined : r.output.split('\n').filter((l) => /inconsisten|error|fail/i.test(l)).slice(0, 3).join(' / ') || r.output.split('\n').filter(Boolean).slice(-1)[0];
      neo4jCheck.push({ database: f.database!, ok: r.ok, ...(detail ? { detail } : {}) });
      if (!r.ok) problems.push(`${f.name}: neo4j-admin database check failed: ${detail}`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  let restoreTest: VerifyResult['restoreTest'];
  if (opts.restoreTest) {
    if (problems.length) problems.push('restore test skipped: the files are damaged');
    else {
      restoreTest = await restoreTestRun(ctx, cfg, brt, b.dir, b.manifest);
      for (const d of restoreTest.differences) problems.push(`restore test: ${d.what}: expected ${d.expected}, got ${d.actual}`);
    }
  }
  const ok = problems.length === 0;
  await writeVerifyRecord(b.dir, { at: new Date().toISOString(), ok, restoreTest: Boolean(restoreTest), problems });
  return { id: b.id, ok, files, neo4jCheck, ...(restoreTest ? { restoreTest } : {}), problems };
}

/**
 * Restores the PostgreSQL dumps into scratch databases on the same server and the Neo4j dump
 * into a throw-away Neo4j container, then compares their figures with the manifest's. Nothing
 * of the stack is touched.
 */
export async function restoreTestRun(ctx: Context, cfg: HelfyConfig, brt: BackupRuntime, dir: string, m: Manifest): Promise<NonNullable<VerifyResult['restoreTest']>> {
  const t0 = performance.now();
  const { createScratchDatabases, dropDatabases, postgresFigures, neo4jFigures, waitNeo4j } = await import('../db/backup/figures.js');
  const { scratchSuffix } = await import('./lock.js');
  // Host and pid in the name: a later run drops them if this process is killed (sweepVerifyLeftovers).
  const suffix = scratchSuffix();
  const scratch = { app: `helfy_verify_app_${suffix}`, temporal: `helfy_verify_temporal_${suffix}`, visibility: `helfy_verify_visibility_${suffix}` };
  const map: Record<string, string> = { helfy_app: scratch.app, helfy_temporal: scratch.temporal, helfy_temporal_visibility: scratch.visibility };
  const have: Figures = {};
  await createScratchDatabases(cfg, Object.values(scratch));
  try {
    for (const f of m.files.filter((x) => x.store === 'postgres' && x.kind === 'database')) {
      const target = map[f.database!]!;
      const ts = m.postgres?.databases[f.database!]?.extensions.timescaledb;
      if (ts) await brt.psql(`CREATE EXTENSION IF NOT EXISTS timescaledb VERSION '${ts.replace(/'/g, "''")}'; SELECT timescaledb_pre_restore();`, target);
      await brt.restoreDatabase(target, join(dir, f.name), { signal: ctx.signal, extraArgs: ['--no-owner', '--no-privileges'] });
      if (ts) await brt.psql('SELECT timescaledb_post_restore();', target);
    }
    Object.assign(have, await postgresFigures(cfg, scratch));
  } finally {
    await dropDatabases(cfg, Object.values(scratch)).catch((e: unknown) => ctx.log.warn(`could not drop the scratch databases: ${(e as Error).message}`));
  }
  const n4 = m.files.find((f) => f.store === 'neo4j' && f.database === 'neo4j');
  if (n4) {
    const s = await brt.scratchNeo4j(join(dir, n4.name), { signal: ctx.signal, tag: `verify-${m.id}` });
    try {
      const conn = { host: '127.0.0.1', boltPort: s.boltPort, user: 'neo4j', password: 'unused-auth-disabled' };
      await waitNeo4j(conn, 180_000, ctx.signal);
      have.neo4j = await neo4jFigures(conn);
    } finally {
      await s.remove();
    }
  }
  const differences = compareFigures(m.figures, have, m.stores);
  return { ok: differences.length === 0, differences, durationMs: Math.round(performance.now() - t0) };
}
