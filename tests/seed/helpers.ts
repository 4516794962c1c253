/** Checksums and fixtures shared by the seed suites (real servers only). */
import { createHash } from 'node:crypto';
import type { Driver } from 'neo4j-driver';
import type pg from 'pg';

/**
 * Ordered rows per table, hashed by the server (md5 of the rows' text). Columns that are random
 * on purpose are left out: the password hash (random salt) and when a marker was written.
 */
export const TABLE_CHECKSUM_SQL = {
  users: `SELECT id, email, display_name, birth_date, sex, height_cm, timezone, locale, unit_system, created_at, updated_at, password_hash IS NOT NULL AS has_password FROM users ORDER BY id`,
  demo_seeds: `SELECT user_id, seed, days, last_day, generator_version, row_counts FROM demo_seeds ORDER BY user_id`,
  biometrics: `SELECT * FROM biometrics ORDER BY user_id, metric, source, time`,
  workouts: `SELECT * FROM workouts ORDER BY id, time`,
  workout_sets: `SELECT * FROM workout_sets ORDER BY workout_id, time, set_number`,
  nutrition: `SELECT * FROM nutrition ORDER BY id, time`,
} as const;
export type ChecksumTable = keyof typeof TABLE_CHECKSUM_SQL;

export function checksumQuery(table: ChecksumTable): string {
  return `SELECT count(*)::int AS n, coalesce(md5(string_agg(t::text, E'\\n')), '') AS md5 FROM (${TABLE_CHECKSUM_SQL[table]}) t`;
}

export async function pgChecksums(c: pg.Client): Promise<Record<ChecksumTable, { n: number; md5: string }>> {
  const out = {} as Record<ChecksumTable, { n: number; md5: string }>;
  for (const t of Object.keys(TABLE_CHECKSUM_SQL) as ChecksumTable[]) out[t] = (await c.query(checksumQuery(t))).rows[0];
  return out;
}

/** Cypher for the seeded graph's fingerprint: node properties and relationships, ordered. */
export const GRAPH_NODES_CYPHER = `MATCH (n) WHERE n.source IS NOT NULL
  RETURN labels(n)[0] AS label, properties(n) AS props ORDER BY label, coalesce(n.id, n.code, n.name)`;
export const GRAPH_RELS_CYPHER = `MATCH (a)-[r]->(b) WHERE a.source IS NOT NULL
  RETURN labels(a)[0] + ':' + coalesce(a.id, a.code, a.name) AS a, type(r) AS t, labels(b)[0] + ':' + coalesce(b.id, b.code, b.name) AS b, properties(r) AS props
  ORDER BY a, t, b, coalesce(r.position, 0)`;

const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : 1))) : x));

export function hashRows(rows: unknown[]): string {
  const h = createHash('md5');
  for (const r of rows) h.update(stable(r)).update('\n');
  return h.digest('hex');
}

export async function graphChecksum(driver: Driver): Promise<{ nodes: number; rels: number; nodeHash: string; relHash: string; labels: Record<string, number> }> {
  const n = await driver.executeQuery(GRAPH_NODES_CYPHER);
  const r = await driver.executeQuery(GRAPH_RELS_CYPHER);
  const labels: Record<string, number> = {};
  for (const x of n.records) labels[x.get('label')] = (labels[x.get('label')] ?? 0) + 1;
  return {
    nodes: n.records.length,
    rels: r.records.length,
    nodeHash: hashRows(n.records.map((x) => [x.get('label'), x.get('props')])),
    relHash: hashRows(r.records.map((x) => [x.get('a'), x.get('t'), x.get('b'), x.get('props')])),
    labels,
  };
}

/** One CSV line (as the generator writes it: quoted fields only where needed) into fields; the seed itself loads by COPY and never reads it back. */
export function splitCsv(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const j = line.indexOf('"', i);
        if (j === -1) throw new Error(`unterminated quote in ${line}`);
        v += line.slice(i, j);
        if (line[j + 1] === '"') { v += '"'; i = j + 2; } else { i = j + 1; break; }
      }
      out.push(v);
      i++;
    } else {
      const j = line.indexOf(',', i);
      const end = j === -1 ? line.length : j;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}
