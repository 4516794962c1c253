/**
 * Pure checks of `helfy restore` and `verify --restore-test`: can the running stack take this
 * backup (refused before anything is touched, naming the mismatch), and do the restored
 * figures equal the manifest's.
 */
import type { Figures, Manifest, Store } from './manifest.js';

/** What the running stack is, as far as a restore cares. */
export interface TargetVersions {
  postgres?: {
    serverVersionNum: number;
    serverVersion: string;
    /** Versions of timescaledb the server can install (pg_available_extension_versions). */
    timescaledbAvailable: string[];
  };
  temporal?: {
    /** schema_version the running stack's Temporal databases are at (what its server knows). */
    main: string | null;
    visibility: string | null;
  };
  neo4j?: { version: string };
}

export function pgMajor(versionNum: number): number {
  return Math.floor(versionNum / 10000);
}

/** Compares dotted versions numerically: <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Every reason this backup cannot be restored into the target, one line each (empty: fine). */
export function compatibilityProblems(m: Manifest, t: TargetVersions, stores: readonly Store[]): string[] {
  const out: string[] = [];
  if (stores.includes('postgres') && m.postgres && t.postgres) {
    const from = pgMajor(m.postgres.serverVersionNum);
    const to = pgMajor(t.postgres.serverVersionNum);
    if (from !== to) out.push(`PostgreSQL major differs: the backup is from PostgreSQL ${m.postgres.serverVersion} (major ${from}), this stack runs ${t.postgres.serverVersion} (major ${to})`);
    for (const [db, info] of Object.entries(m.postgres.databases)) {
      const ts = info.extensions.timescaledb;
      if (ts && !t.postgres.timescaledbAvailable.includes(ts)) {
        out.push(`timescaledb ${ts} (used by ${db} in the backup) is not installed on this server (${t.postgres.timescaledbAvailable.length ? `available: ${t.postgres.timescaledbAvailable.join(', ')}` : 'no timescaledb at all'})`);
      }
    }
    if (m.temporal && t.temporal) {
      for (const k of ['main', 'visibility'] as const) {
        const want = m.temporal.schemaVersion[k];
        const have = t.temporal[k];
        if (want && have && compareVersions(want, have) > 0) {
          out.push(`Temporal ${k} schema ${want} in the backup is newer than this stack's server knows (${have})`);
        }
      }
    }
  }
  if (stores.includes('neo4j') && m.neo4j && t.neo4j && compareVersions(m.neo4j.version, t.neo4j.version) > 0) {
    out.push(`Neo4j ${m.neo4j.version} in the backup is newer than this stack's ${t.neo4j.version}`);
  }
  if (stores.some((s) => !m.stores.includes(s))) out.push(`the backup holds only ${m.stores.join(', ')}`);
  return out;
}

export interface FigureDiff {
  what: string;
  expected: number | string;
  actual: number | string;
}

function diffCounts(prefix: string, want: Record<string, number>, have: Record<string, number>, out: FigureDiff[]): void {
  for (const k of [...new Set([...Object.keys(want), ...Object.keys(have)])].sort()) {
    const a = want[k];
    const b = have[k];
    if (a !== b) out.push({ what: `${prefix} ${k}`, expected: a ?? 'absent', actual: b ?? 'absent' });
  }
}

/** Differences between the manifest's figures and the restored ones, for the given stores. */
export function compareFigures(want: Figures, have: Figures, stores: readonly Store[]): FigureDiff[] {
  const out: FigureDiff[] = [];
  if (stores.includes('postgres')) {
    if (want.postgres && have.postgres) {
      diffCounts('rows of', want.postgres.rows, have.postgres.rows, out);
      if (want.postgres.chunks && have.postgres.chunks) diffCounts('chunks of', want.postgres.chunks, have.postgres.chunks, out);
    }
    if (want.temporal && have.temporal) {
      const a = [...want.temporal.namespaces].sort().join(',');
      const b = [...have.temporal.namespaces].sort().join(',');
      if (a !== b) out.push({ what: 'Temporal namespaces', expected: a, actual: b });
      diffCounts('closed workflows in namespace', want.temporal.closedWorkflows, have.temporal.closedWorkflows, out);
    }
  }
  if (stores.includes('neo4j') && want.neo4j && have.neo4j) {
    diffCounts('nodes labelled', want.neo4j.labels, have.neo4j.labels, out);
    diffCounts('relationships of type', want.neo4j.relationships, have.neo4j.relationships, out);
  }
  return out;
}

/**
 * From a `pg_restore -l` listing, the entries that define the database itself (CREATE DATABASE
 * with TEMPLATE template0, its properties and its ACL): restored first, by us, so the extension
 * and timescaledb_pre_restore() can come between it and the data.
 */
export function databaseLevelEntries(list: string): string {
  return list
    .split('\n')
    .filter((l) => /^\d+;\s+\d+\s+\d+\s+(DATABASE|DATABASE PROPERTIES|ACL - DATABASE|COMMENT - DATABASE)\b/.test(l) || /^\d+;\s+\d+\s+\d+\s+(ACL|COMMENT) - DATABASE /.test(l))
    .join('\n');
}

/**
 * Rewrites pg_dumpall --globals-only for a restore into a running cluster: `CREATE ROLE x;` so an
 * existing role is not an error, and no `PASSWORD '…'` for the roles whose passwords come from
 * .env (`keepPasswordOf`: the superuser helfy connects as and helfy_owner / helfy_api /
 * helfy_temporal): the backup's hashes would lock helfy, the API and Temporal out when .env
 * changed since (another workspace, rotated secrets). Other roles keep the backup's hashes.
 */
export function idempotentGlobals(sql: string, keepPasswordOf: readonly string[] = []): string {
  const keep = new Set(keepPasswordOf);
  return sql
    .split('\n')
    .map((l) => {
      const m = /^CREATE ROLE (.+);$/.exec(l);
      if (m) return `DO $helfy$ BEGIN CREATE ROLE ${m[1]}; EXCEPTION WHEN duplicate_object THEN NULL; END $helfy$;`;
      const a = /^ALTER ROLE ("(?:[^"]|"")*"|[^\s"]+) (.*);$/.exec(l);
      if (a && keep.has(unquoteIdent(a[1]!))) {
        const rest = a[2]!.replace(/ PASSWORD (?:'(?:[^']|'')*'|NULL)/, '');
        return rest === 'WITH' ? '' : `ALTER ROLE ${a[1]} ${rest};`;
      }
      return l;
    })
    .join('\n');
}

function unquoteIdent(s: string): string {
  return s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s;
}
