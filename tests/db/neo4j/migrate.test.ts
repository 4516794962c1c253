// The Neo4j migration runner against a real Neo4j 5 Community server (no mocks).
// Community Edition has one user database, so each test starts from an empty graph:
// resetGraph() deletes every node and drops every constraint and index.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import neo4j, { type Driver } from 'neo4j-driver';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/core/context.js';
import { HelfyError } from '../../../src/core/errors.js';
import {
  forceUnlockNeo4j, migrateNeo4j, neo4jMigrationStatus, verifyNeo4j, waitForBolt,
  type Neo4jConnectionInfo,
} from '../../../src/db/neo4j/migrate.js';
import { freePort, startNeo4j, type Neo4jServer } from '../../support/services/index.js';

const REPO_MIGRATIONS = resolve(import.meta.dirname, '../../../migrations/neo4j');
const EXPECTED_CONSTRAINTS = [
  'helfy_body_region_name', 'helfy_category_name', 'helfy_equipment_name', 'helfy_exercise_id', 'helfy_food_group_code', 'helfy_food_id',
  'helfy_muscle_name', 'helfy_portion_id', 'helfy_routine_id',
];

let server: Neo4jServer;
let driver: Driver;
let conn: Neo4jConnectionInfo;
const lines: string[] = [];
const log: Logger = {
  info: (m) => lines.push(`info ${m}`), success: (m) => lines.push(`ok ${m}`), warn: (m) => lines.push(`warn ${m}`),
  error: (m) => lines.push(`error ${m}`), debug: () => {}, raw: () => {},
};
const tmpDirs: string[] = [];

beforeAll(async () => {
  server = await startNeo4j();
  conn = { url: server.boltUrl, user: server.user, password: server.password };
  driver = neo4j.driver(server.boltUrl, neo4j.auth.basic(server.user, server.password), { disableLosslessIntegers: true });
}, 300_000);

afterAll(async () => {
  await driver?.close();
  await server?.stop();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

beforeEach(async () => {
  lines.length = 0;
  await resetGraph();
}, 60_000);

async function q(cypher: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
  const res = await driver.executeQuery(cypher, params);
  return res.records.map((r) => r.toObject());
}

async function resetGraph(): Promise<void> {
  await q('MATCH (n) DETACH DELETE n');
  for (const r of await q('SHOW CONSTRAINTS YIELD name')) await q(`DROP CONSTRAINT \`${String(r.name)}\``);
  for (const r of await q("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'")) await q(`DROP INDEX \`${String(r.name)}\``);
}

async function history(): Promise<{ version: number; checksum: string; file: string; count: number }[]> {
  return (await q('MATCH (m:__HelfyMigration) RETURN m.version AS version, m.checksum AS checksum, m.file AS file, count(*) AS count ORDER BY version'))
    .map((r) => ({ version: Number(r.version), checksum: String(r.checksum), file: String(r.file), count: 1 }));
}

async function versionCounts(): Promise<Record<number, number>> {
  const rows = await q('MATCH (m:__HelfyMigration) RETURN m.version AS version, count(*) AS n ORDER BY version');
  return Object.fromEntries(rows.map((r) => [Number(r.version), Number(r.n)]));
}

function tempMigrations(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'helfy-n4-mig-'));
  tmpDirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function rejection(p: Promise<unknown>): Promise<HelfyError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HelfyError) return e;
    throw e;
  }
  throw new Error('expected a HelfyError');
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Five files; the third fails when `broken` (a runtime error on its second line). */
function fiveFiles(broken: boolean): Record<string, string> {
  return {
    'V1__items.cypher': [
      'CREATE CONSTRAINT helfy_item_id IF NOT EXISTS FOR (i:Item) REQUIRE i.id IS UNIQUE;',
      'UNWIND range(1, 3000) AS n CREATE (:Item {id: n});',
    ].join('\n'),
    'V2__tags.cypher': "MATCH (i:Item) WHERE i.id <= 10 SET i.tag = 'first-ten';\n",
    'V3__totals.cypher': [
      '// computes totals',                                     // 1
      "CREATE (:Total {name: 'items'});",                       // 2
      'MATCH (t:Total), (i:Item)',                              // 3
      broken ? 'SET t.count = toInteger(i.nope) + nonsense' : 'WITH t, count(i) AS c SET t.count = c', // 4
      ';',                                                      // 5
    ].join('\n'),
    'V4__more.cypher': 'CREATE RANGE INDEX helfy_item_tag IF NOT EXISTS FOR (i:Item) ON (i.tag);\n',
    'V5__flag.cypher': "MATCH (t:Total {name: 'items'}) SET t.done = true;\n",
  };
}

describe('migrateNeo4j on the repository migrations', () => {
  it('applies everything to an empty graph: history nodes, constraints and indexes exist', async () => {
    const res = await migrateNeo4j({ driver, dir: REPO_MIGRATIONS, log });
    expect(res.applied.map((a) => a.file)).toEqual(['V001__exercise_library.cypher', 'V002__food_graph.cypher', 'V003__library_graph.cypher']);
    expect(res.pending).toEqual([]);

    const h = await history();
    expect(h.map((x) => x.version)).toEqual([1, 2, 3]);
    expect(h[0]!.checksum).toBe(sha256(join(REPO_MIGRATIONS, 'V001__exercise_library.cypher')));
    expect(h[1]!.checksum).toBe(sha256(join(REPO_MIGRATIONS, 'V002__food_graph.cypher')));
    const meta = await q('MATCH (m:__HelfyMigration {version: 1}) RETURN m.description AS d, m.appliedAt IS NOT NULL AS at, m.durationMs AS ms');
    expect(meta[0]).toMatchObject({ d: 'exercise library', at: true });
    expect(Number(meta[0]!.ms)).toBeGreaterThanOrEqual(0);

    const cons = await q("SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties WHERE name STARTS WITH 'helfy_' RETURN name, type, labelsOrTypes, properties ORDER BY name");
    expect(cons.map((c) => c.name)).toEqual([...EXPECTED_CONSTRAINTS, 'helfy_migration_lock_name', 'helfy_migration_version'].sort());
    expect(cons.find((c) => c.name === 'helfy_exercise_id')).toMatchObject({ labelsOrTypes: ['Exercise'], properties: ['id'] });
    expect(new Set(cons.map((c) => c.type))).toEqual(new Set(['UNIQUENESS']));

    const ft = await q("SHOW INDEXES YIELD name, type, state, labelsOrTypes, properties WHERE type = 'FULLTEXT' RETURN name, state, labelsOrTypes, properties ORDER BY name");
    expect(ft).toEqual([
      { name: 'helfy_exercise_name_fulltext', state: 'ONLINE', labelsOrTypes: ['Exercise'], properties: ['name'] },
      { name: 'helfy_food_name_fulltext', state: 'ONLINE', labelsOrTypes: ['Food'], properties: ['name', 'brand'] },
    ]);
    // The constraint really holds.
    await q("CREATE (:Exercise {id: 'squat'})");
    await expect(q("CREATE (:Exercise {id: 'squat'})")).rejects.toMatchObject({ code: 'Neo.ClientError.Schema.ConstraintValidationFailed' });
    // And the fulltext index answers.
    await q("CREATE (:Exercise {id: 'bp', name: 'Barbell Bench Press'})");
    const hits = await q("CALL db.index.fulltext.queryNodes('helfy_exercise_name_fulltext', 'bench') YIELD node RETURN node.id AS id");
    expect(hits).toEqual([{ id: 'bp' }]);

    // The lock is released.
    expect(await q('MATCH (l:__HelfyMigrationLock) RETURN l')).toEqual([]);
    const status = await neo4jMigrationStatus({ driver, dir: REPO_MIGRATIONS });
    expect(status.map((s) => s.state)).toEqual(['applied', 'applied', 'applied']);
    expect(await verifyNeo4j({ driver, dir: REPO_MIGRATIONS })).toMatchObject({ ok: true, drift: [] });
  });

  it('a second run is a no-op', async () => {
    await migrateNeo4j({ driver, dir: REPO_MIGRATIONS, log });
    const before = await history();
    const again = await migrateNeo4j({ driver, dir: REPO_MIGRATIONS, log });
    expect(again).toEqual({ applied: [], pending: [] });
    expect(await history()).toEqual(before);
    expect(await versionCounts()).toEqual({ 1: 1, 2: 1, 3: 1 });
  });

  it('dry run and target: plan without touching, then apply up to a version', async () => {
    const dry = await migrateNeo4j({ driver, dir: REPO_MIGRATIONS, dryRun: true, log });
    expect(dry.applied).toEqual([]);
    expect(dry.pending.map((p) => p.version)).toEqual([1, 2, 3]);
    expect(await q('SHOW CONSTRAINTS YIELD name')).toEqual([]);

    const first = await migrateNeo4j({ driver, dir: REPO_MIGRATIONS, target: 1, log });
    expect(first.applied.map((a) => a.version)).toEqual([1]);
    expect(first.pending.map((p) => p.version)).toEqual([2, 3]);
    expect((await neo4jMigrationStatus({ driver, dir: REPO_MIGRATIONS })).map((s) => s.state)).toEqual(['applied', 'pending', 'pending']);
    const verify = await verifyNeo4j({ driver, dir: REPO_MIGRATIONS });
    expect(verify).toMatchObject({ ok: true, pendingFiles: ['V002__food_graph.cypher', 'V003__library_graph.cypher'] });
  });

  it('six concurrent runners (six drivers) apply each migration exactly once and all succeed', async () => {
    const dir = tempMigrations(fiveFiles(false));
    const drivers = Array.from({ length: 6 }, () => neo4j.driver(server.boltUrl, neo4j.auth.basic(server.user, server.password)));
    try {
      const results = await Promise.allSettled(drivers.map((d) => migrateNeo4j({ driver: d, dir, log })));
      expect(results.map((r) => r.status)).toEqual(Array(6).fill('fulfilled'));
      const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.applied.map((a) => a.version) : []));
      expect(applied.sort()).toEqual([1, 2, 3, 4, 5]);
      // They really contended: the losers waited for the winner's lock.
      expect(lines.filter((l) => l.includes('waiting for the Neo4j migration lock')).length).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all(drivers.map((d) => d.close()));
    }
    expect(await versionCounts()).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 });
    // The data statements ran once too.
    expect(await q('MATCH (i:Item) RETURN count(i) AS n')).toEqual([{ n: 3000 }]);
    expect(await q('MATCH (t:Total) RETURN t.count AS c, t.done AS done')).toEqual([{ c: 3000, done: true }]);
    expect(await q('MATCH (l:__HelfyMigrationLock) RETURN l')).toEqual([]);
  });

  it('a failing statement in file 3 of 5 stops there, names file and line; fixed, a rerun completes', async () => {
    const dir = tempMigrations(fiveFiles(true));
    const err = await rejection(migrateNeo4j({ driver, dir, log }));
    expect(err.code).toBe('MIGRATION_FAILED');
    // The statement starts on line 3; the server points at line 2 of it → file line 4.
    expect(err.message).toMatch(/^V3__totals\.cypher:4: /);
    expect(err.data).toMatchObject({ file: 'V3__totals.cypher', line: 4, statementLine: 3 });
    expect((await history()).map((h) => h.version)).toEqual([1, 2]);
    // V3's first statement ran in the same (rolled back) transaction.
    expect(await q('MATCH (t:Total) RETURN count(t) AS n')).toEqual([{ n: 0 }]);
    expect(await q('MATCH (l:__HelfyMigrationLock) RETURN l')).toEqual([]);
    expect((await neo4jMigrationStatus({ driver, dir })).map((s) => s.state)).toEqual(['applied', 'applied', 'pending', 'pending', 'pending']);

    writeFileSync(join(dir, 'V3__totals.cypher'), fiveFiles(false)['V3__totals.cypher']!);
    const rerun = await migrateNeo4j({ driver, dir, log });
    expect(rerun.applied.map((a) => a.version)).toEqual([3, 4, 5]);
    expect(await versionCounts()).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 });
    expect(await q('MATCH (t:Total) RETURN t.count AS c, t.done AS done')).toEqual([{ c: 3000, done: true }]);
  });

  it('a failing schema statement is reported with its line and nothing is recorded', async () => {
    const dir = tempMigrations({
      'V1__ok.cypher': 'CREATE (:Thing {id: 1});\n',
      'V2__bad_schema.cypher': '// Community Edition has no existence constraints\n\nCREATE CONSTRAINT helfy_thing_id_exists IF NOT EXISTS\n  FOR (t:Thing) REQUIRE t.id IS NOT NULL;\n',
    });
    const err = await rejection(migrateNeo4j({ driver, dir, log }));
    expect(err.code).toBe('MIGRATION_FAILED');
    expect(err.message).toMatch(/^V2__bad_schema\.cypher:3: .*Enterprise/);
    expect((await history()).map((h) => h.version)).toEqual([1]);
  });

  it('refuses to run when an applied file was edited, naming the file', async () => {
    const dir = tempMigrations(fiveFiles(false));
    await migrateNeo4j({ driver, dir, target: 2, log });
    writeFileSync(join(dir, 'V2__tags.cypher'), "MATCH (i:Item) WHERE i.id <= 20 SET i.tag = 'first-twenty';\n");
    const err = await rejection(migrateNeo4j({ driver, dir, log }));
    expect(err.code).toBe('MIGRATION_CHECKSUM');
    expect(err.message).toContain('V2__tags.cypher');
    expect((await history()).map((h) => h.version)).toEqual([1, 2]);
    expect((await neo4jMigrationStatus({ driver, dir })).map((s) => s.state)).toEqual(['applied', 'changed', 'pending', 'pending', 'pending']);
  });

  it('verify reports a constraint changed by hand, a dropped index and an undeclared helfy_ index', async () => {
    await migrateNeo4j({ driver, dir: REPO_MIGRATIONS, log });
    await q('DROP CONSTRAINT helfy_food_id');
    await q('CREATE CONSTRAINT helfy_food_id FOR (f:Food) REQUIRE f.barcode IS UNIQUE');
    await q('DROP INDEX helfy_routine_name');
    await q('CREATE INDEX helfy_adhoc FOR (f:Food) ON (f.kcal)');
    // migrate cannot see it: IF NOT EXISTS skips a same-named constraint.
    expect((await migrateNeo4j({ driver, dir: REPO_MIGRATIONS, log })).applied).toEqual([]);

    const v = await verifyNeo4j({ driver, dir: REPO_MIGRATIONS, log });
    expect(v.ok).toBe(false);
    expect(v.drift.map((d) => [d.kind, d.name]).sort()).toEqual([['different', 'helfy_food_id'], ['missing', 'helfy_routine_name'], ['unexpected', 'helfy_adhoc']]);
    const changed = v.drift.find((d) => d.name === 'helfy_food_id')!;
    expect(changed.expected).toMatchObject({ labelsOrTypes: ['Food'], properties: ['id'] });
    expect(changed.actual).toMatchObject({ labelsOrTypes: ['Food'], properties: ['barcode'] });
    expect(changed.file).toBe('V002__food_graph.cypher');
    expect(changed.message).toContain('helfy_food_id differs');
  });

  it('a held lock makes a runner wait, then fail naming the holder; force-unlock clears it', async () => {
    await migrateNeo4j({ driver, dir: REPO_MIGRATIONS, target: 1, log });
    await q("CREATE (:__HelfyMigrationLock {name: 'lock', token: 'stale', holder: 'ci-box pid 4242', since: datetime()})");
    const started = Date.now();
    const err = await rejection(migrateNeo4j({ driver, dir: REPO_MIGRATIONS, lockTimeoutMs: 1_500, log }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(err.code).toBe('MIGRATION_FAILED');
    expect(err.message).toMatch(/lock is held by ci-box pid 4242 since \d{4}-/);
    expect(err.hint).toContain('--force-unlock');

    const removed = await forceUnlockNeo4j({ driver, log });
    expect(removed).toMatchObject({ holder: 'ci-box pid 4242', token: 'stale' });
    expect(await forceUnlockNeo4j({ driver })).toBeUndefined();
    expect((await migrateNeo4j({ driver, dir: REPO_MIGRATIONS, log })).applied.map((a) => a.version)).toEqual([2, 3]);
  });
});

describe('connections', () => {
  it('waitForBolt reports the server; connection info works in place of a driver', async () => {
    const info = await waitForBolt(conn, 10_000);
    expect(info.version).toMatch(/^5\./);
    expect(info.edition).toBe('community');
    const res = await migrateNeo4j({ connection: conn, dir: REPO_MIGRATIONS, log });
    expect(res.applied.map((a) => a.version)).toEqual([1, 2, 3]);
  });

  it('nothing listening → CONNECTION_FAILED after the timeout', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await rejection(waitForBolt({ host: '127.0.0.1', boltPort: port, user: 'neo4j', password: 'x' }, 1_500));
    expect(err.code).toBe('CONNECTION_FAILED');
    expect(err.message).toContain(`bolt://127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(10_000);
    // migrate maps the driver's "unavailable" to CONNECTION_FAILED too; a driver of its own with a
    // 1 s retry window, so the test does not sit through the product's 15 s of retries.
    const quick = neo4j.driver(`bolt://127.0.0.1:${port}`, neo4j.auth.basic('neo4j', 'x'), { connectionTimeout: 1_000, maxTransactionRetryTime: 1_000 });
    try {
      const err2 = await rejection(migrateNeo4j({ driver: quick, dir: REPO_MIGRATIONS }));
      expect(err2.code).toBe('CONNECTION_FAILED');
    } finally {
      await quick.close();
    }
  });

  it('a wrong password fails at once with CONNECTION_FAILED', async () => {
    const started = Date.now();
    const err = await rejection(waitForBolt({ ...conn, password: 'wrong-password' }, 30_000));
    expect(err.code).toBe('CONNECTION_FAILED');
    expect(err.hint).toContain('HELFY_NEO4J_PASSWORD');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
