/**
 * Loads the library graph (docs/library-graph.md) into Neo4j: `UNWIND $rows` batches in managed
 * write transactions, MERGE on the constrained keys, every node's full property set SET (so a
 * rewritten node ends identical), relationships after nodes, stale relationships of a rewritten
 * node deleted. A kill at any point converges on rerun. A `(:__HelfySeed {part})` marker, written
 * last, records the fingerprint of what was loaded so an identical rerun writes nothing.
 */
import type { Driver, ManagedTransaction } from 'neo4j-driver';
import {
  exerciseLibrary, fingerprint, foodLibrary, routineLibrary, SEED_SOURCES, SOURCE_EXERCISES, SOURCE_FOODS, SOURCE_HELFY,
  type ExerciseLibrary, type FoodLibrary, type RoutineLibrary,
} from '../seed/library.js';

/** Bump when the loader writes a different shape, so existing markers no longer match. */
export const LIBRARY_LOADER_VERSION = 1;
export const MARKER_LABEL = '__HelfySeed';

export type LibraryPart = 'exercises' | 'foods' | 'routines';

export interface PartResult {
  part: LibraryPart;
  upToDate: boolean;
  /** Seeded nodes per label and relationships per type after the load. */
  nodes: Record<string, number>;
  relationships: Record<string, number>;
  /** Items written (nodes + relationships); 0 when up to date. */
  items: number;
  ms: number;
}

export type Progress = (msg: string) => void;

interface Step {
  name: string;
  rows: unknown[];
  batch: number;
  /** One or more statements run in the same transaction for each batch of rows ($rows). */
  cypher: string[];
}

interface PartPlan {
  part: LibraryPart;
  fp: string;
  steps: Step[];
  /** Label → [source, expected count]; relationship type → [from label, expected count]. */
  expectNodes: Record<string, [string, number]>;
  expectRels: Record<string, [string, number]>;
  /** Deletes seeded nodes of this part that are not in the data any more: label → [key, ids]. */
  stale: { label: string; key: string; source: string; ids: string[] }[];
}

const nodeStep = (name: string, label: string, key: string, rows: Record<string, unknown>[], batch = 2000): Step => ({
  name, rows, batch,
  // SET n = r replaces every property: a node rewritten after a kill ends exactly as a clean load.
  cypher: [`UNWIND $rows AS r MERGE (n:${label} {${key}: r.${key}}) SET n = r`],
});

/** Relationships of one type from each `from` node to its `to` keys; others of that type are deleted. */
const relStep = (name: string, type: string, from: [string, string], to: [string, string], rows: { from: string; to: string[] }[], batch = 2000): Step => ({
  name, rows, batch,
  cypher: [
    `UNWIND $rows AS r MATCH (a:${from[0]} {${from[1]}: r.from})-[old:${type}]->(b) WHERE NOT (b:${to[0]} AND b.${to[1]} IN r.to) DELETE old`,
    `UNWIND $rows AS r MATCH (a:${from[0]} {${from[1]}: r.from}) UNWIND r.to AS k MATCH (b:${to[0]} {${to[1]}: k}) MERGE (a)-[:${type}]->(b)`,
  ],
});

export function exercisesPlan(lib: ExerciseLibrary = exerciseLibrary()): PartPlan {
  const rel = (f: (l: ExerciseLibrary['links'][number]) => string[]) => lib.links.map((l) => ({ from: l.id, to: f(l) }));
  const primary = rel((l) => l.primary), secondary = rel((l) => l.secondary), uses = rel((l) => l.equipment), inCat = rel((l) => [l.category]);
  const count = (xs: { to: string[] }[]) => xs.reduce((a, x) => a + x.to.length, 0);
  return {
    part: 'exercises',
    fp: fingerprint(LIBRARY_LOADER_VERSION, 'exercises', lib),
    steps: [
      nodeStep('body regions', 'BodyRegion', 'name', lib.regions),
      nodeStep('categories', 'Category', 'name', lib.categories),
      nodeStep('equipment', 'Equipment', 'name', lib.equipment),
      nodeStep('muscles', 'Muscle', 'name', lib.muscles.map((m) => ({ name: m.name, source: m.source }))),
      nodeStep('exercises', 'Exercise', 'id', lib.exercises as unknown as Record<string, unknown>[], 500),
      relStep('muscle regions', 'IN_REGION', ['Muscle', 'name'], ['BodyRegion', 'name'], lib.muscles.map((m) => ({ from: m.name, to: [m.region] }))),
      relStep('primary muscles', 'PRIMARY_MUSCLE', ['Exercise', 'id'], ['Muscle', 'name'], primary),
      relStep('secondary muscles', 'SECONDARY_MUSCLE', ['Exercise', 'id'], ['Muscle', 'name'], secondary),
      relStep('equipment used', 'USES', ['Exercise', 'id'], ['Equipment', 'name'], uses),
      relStep('categories', 'IN_CATEGORY', ['Exercise', 'id'], ['Category', 'name'], inCat),
    ],
    expectNodes: {
      BodyRegion: [SOURCE_HELFY, lib.regions.length], Category: [SOURCE_EXERCISES, lib.categories.length],
      Equipment: [SOURCE_EXERCISES, lib.equipment.length], Muscle: [SOURCE_EXERCISES, lib.muscles.length], Exercise: [SOURCE_EXERCISES, lib.exercises.length],
    },
    expectRels: {
      IN_REGION: ['Muscle', lib.muscles.length], PRIMARY_MUSCLE: ['Exercise', count(primary)], SECONDARY_MUSCLE: ['Exercise', count(secondary)],
      USES: ['Exercise', count(uses)], IN_CATEGORY: ['Exercise', count(inCat)],
    },
    stale: [
      { label: 'Exercise', key: 'id', source: SOURCE_EXERCISES, ids: lib.exercises.map((e) => e.id) },
      { label: 'Muscle', key: 'name', source: SOURCE_EXERCISES, ids: lib.muscles.map((m) => m.name) },
      { label: 'Equipment', key: 'name', source: SOURCE_EXERCISES, ids: lib.equipment.map((m) => m.name) },
      { label: 'Category', key: 'name', source: SOURCE_EXERCISES, ids: lib.categories.map((m) => m.name) },
      { label: 'BodyRegion', key: 'name', source: SOURCE_HELFY, ids: lib.regions.map((m) => m.name) },
    ],
  };
}

export function foodsPlan(lib: FoodLibrary = foodLibrary()): PartPlan {
  const portionsOf = new Map<string, string[]>();
  for (const p of lib.portions) (portionsOf.get(p.food) ?? portionsOf.set(p.food, []).get(p.food)!).push(p.id);
  return {
    part: 'foods',
    fp: fingerprint(LIBRARY_LOADER_VERSION, 'foods', lib),
    steps: [
      nodeStep('food groups', 'FoodGroup', 'code', lib.groups),
      nodeStep('foods', 'Food', 'id', lib.foods as unknown as Record<string, unknown>[], 2500),
      nodeStep('portions', 'Portion', 'id', lib.portions.map(({ food: _f, ...p }) => p), 2500),
      relStep('food groups', 'IN_GROUP', ['Food', 'id'], ['FoodGroup', 'code'], lib.foodGroup.map((g) => ({ from: g.id, to: [g.group] })), 2500),
      relStep('portions', 'HAS_PORTION', ['Food', 'id'], ['Portion', 'id'], lib.foods.map((f) => ({ from: f.id, to: portionsOf.get(f.id) ?? [] })), 2500),
    ],
    expectNodes: { FoodGroup: [SOURCE_FOODS, lib.groups.length], Food: [SOURCE_FOODS, lib.foods.length], Portion: [SOURCE_FOODS, lib.portions.length] },
    expectRels: { IN_GROUP: ['Food', lib.foods.length], HAS_PORTION: ['Food', lib.portions.length] },
    stale: [
      { label: 'Food', key: 'id', source: SOURCE_FOODS, ids: lib.foods.map((f) => f.id) },
      { label: 'Portion', key: 'id', source: SOURCE_FOODS, ids: lib.portions.map((p) => p.id) },
      { label: 'FoodGroup', key: 'code', source: SOURCE_FOODS, ids: lib.groups.map((g) => g.code) },
    ],
  };
}

export function routinesPlan(lib: RoutineLibrary = routineLibrary()): PartPlan {
  const rows = lib.routines.map(({ items, ...props }) => ({ props, items }));
  return {
    part: 'routines',
    fp: fingerprint(LIBRARY_LOADER_VERSION, 'routines', lib),
    steps: [{
      name: 'routines', rows, batch: 100,
      cypher: [
        'UNWIND $rows AS r MERGE (n:Routine {id: r.props.id}) SET n = r.props',
        // A routine is rewritten whole: its ordered list of exercises is one unit.
        'UNWIND $rows AS r MATCH (n:Routine {id: r.props.id})-[old:INCLUDES]->() DELETE old',
        'UNWIND $rows AS r MATCH (n:Routine {id: r.props.id}) UNWIND r.items AS i MATCH (e:Exercise {id: i.exercise}) CREATE (n)-[:INCLUDES {position: i.position, sets: i.sets, reps: i.reps}]->(e)',
      ],
    }],
    expectNodes: { Routine: [SOURCE_HELFY, lib.routines.length] },
    expectRels: { INCLUDES: ['Routine', lib.routines.reduce((a, r) => a + r.items.length, 0)] },
    stale: [{ label: 'Routine', key: 'id', source: SOURCE_HELFY, ids: lib.routines.map((r) => r.id) }],
  };
}

export function libraryPlan(part: LibraryPart): PartPlan {
  return part === 'exercises' ? exercisesPlan() : part === 'foods' ? foodsPlan() : routinesPlan();
}

async function liveCounts(driver: Driver, database: string | undefined, plan: PartPlan) {
  const nodes: Record<string, number> = {};
  const relationships: Record<string, number> = {};
  const queries = [
    ...Object.entries(plan.expectNodes).map(([label, [source]]) => ({ kind: 'n' as const, key: label, q: `MATCH (n:${label}) WHERE n.source = $source RETURN count(n) AS c`, p: { source } })),
    ...Object.entries(plan.expectRels).map(([type, [from]]) => ({ kind: 'r' as const, key: type, q: `MATCH (:${from})-[r:${type}]->() RETURN count(r) AS c`, p: {} })),
  ];
  for (const x of queries) {
    const res = await driver.executeQuery(x.q, x.p, { database, routing: 'READ' });
    (x.kind === 'n' ? nodes : relationships)[x.key] = Number(res.records[0]?.get('c') ?? 0);
  }
  return { nodes, relationships };
}

function matches(plan: PartPlan, live: { nodes: Record<string, number>; relationships: Record<string, number> }): boolean {
  return Object.entries(plan.expectNodes).every(([l, [, n]]) => live.nodes[l] === n) && Object.entries(plan.expectRels).every(([t, [, n]]) => live.relationships[t] === n);
}

/** True when the marker says this exact data was loaded and the live counts agree. */
export async function partUpToDate(driver: Driver, database: string | undefined, plan: PartPlan): Promise<boolean> {
  const res = await driver.executeQuery(`MATCH (m:${MARKER_LABEL} {part: $part}) RETURN m.fingerprint AS fp`, { part: plan.part }, { database, routing: 'READ' });
  if (res.records[0]?.get('fp') !== plan.fp) return false;
  return matches(plan, await liveCounts(driver, database, plan));
}

export interface LoadPartOptions {
  database?: string;
  progress?: Progress;
  /** Load even when the marker says it is up to date. */
  force?: boolean;
}

export async function loadLibraryPart(driver: Driver, part: LibraryPart, opts: LoadPartOptions = {}): Promise<PartResult> {
  const t0 = performance.now();
  const plan = libraryPlan(part);
  const { database } = opts;
  if (!opts.force && (await partUpToDate(driver, database, plan))) {
    const live = await liveCounts(driver, database, plan);
    return { part, upToDate: true, ...live, items: 0, ms: Math.round(performance.now() - t0) };
  }
  const session = driver.session({ database, defaultAccessMode: 'WRITE' });
  let items = 0;
  try {
    // The marker goes first, so a run killed halfway is never taken for a complete load.
    await session.executeWrite((tx) => tx.run(`MATCH (m:${MARKER_LABEL} {part: $part}) DELETE m`, { part }));
    for (const s of plan.stale) {
      await session.executeWrite((tx) => tx.run(`MATCH (n:${s.label}) WHERE n.source = $source AND NOT n.${s.key} IN $ids DETACH DELETE n`, { source: s.source, ids: s.ids }));
    }
    for (const step of plan.steps) {
      const stepStart = performance.now();
      for (let i = 0; i < step.rows.length; i += step.batch) {
        const rows = step.rows.slice(i, i + step.batch);
        await session.executeWrite(async (tx: ManagedTransaction) => {
          for (const q of step.cypher) await tx.run(q, { rows });
        });
        items += rows.length;
        const secs = (performance.now() - t0) / 1000;
        opts.progress?.(`${part}: ${step.name} ${Math.min(i + step.batch, step.rows.length)}/${step.rows.length} (${Math.round(items / Math.max(secs, 0.001))} rows/s)`);
      }
      void stepStart;
    }
    const live = await liveCounts(driver, database, plan);
    if (!matches(plan, live)) {
      const want = { ...Object.fromEntries(Object.entries(plan.expectNodes).map(([k, [, n]]) => [k, n])), ...Object.fromEntries(Object.entries(plan.expectRels).map(([k, [, n]]) => [k, n])) };
      throw new Error(`Neo4j library ${part}: counts after the load differ from the data: got ${JSON.stringify({ ...live.nodes, ...live.relationships })}, expected ${JSON.stringify(want)}`);
    }
    await session.executeWrite((tx) =>
      tx.run(`MERGE (m:${MARKER_LABEL} {part: $part}) SET m.fingerprint = $fp, m.loadedAt = datetime(), m.counts = $counts`, { part, fp: plan.fp, counts: JSON.stringify(live) }),
    );
    return { part, upToDate: false, ...live, items, ms: Math.round(performance.now() - t0) };
  } finally {
    await session.close();
  }
}

/** What `helfy status` shows: seeded nodes per label and whether each part's marker is there. */
export interface LibraryCounts {
  loaded: boolean;
  parts: Record<LibraryPart, boolean>;
  nodes: Record<string, number>;
}

export async function libraryCounts(driver: Driver, database?: string): Promise<LibraryCounts> {
  const res = await driver.executeQuery(
    `MATCH (n) WHERE n.source IN $sources UNWIND labels(n) AS label RETURN label, count(*) AS c ORDER BY label`,
    { sources: [...SEED_SOURCES] }, { database, routing: 'READ' },
  );
  const nodes: Record<string, number> = {};
  for (const r of res.records) nodes[String(r.get('label'))] = Number(r.get('c'));
  const m = await driver.executeQuery(`MATCH (m:${MARKER_LABEL}) RETURN m.part AS part`, {}, { database, routing: 'READ' });
  const have = new Set(m.records.map((r) => String(r.get('part'))));
  const parts = { exercises: have.has('exercises'), foods: have.has('foods'), routines: have.has('routines') };
  return { loaded: parts.exercises && parts.foods && parts.routines, parts, nodes };
}

/** Which of the given ids exist as nodes of the label (for "the library is missing" checks). */
export async function countExisting(driver: Driver, label: 'Exercise' | 'Food', ids: string[], database?: string): Promise<number> {
  const res = await driver.executeQuery(`UNWIND $ids AS id MATCH (n:${label} {id: id}) RETURN count(n) AS c`, { ids }, { database, routing: 'READ' });
  return Number(res.records[0]?.get('c') ?? 0);
}

/** Deletes every node helfy seed wrote (by `source`) and the markers; a developer's own nodes stay. */
export async function resetLibrary(driver: Driver, database?: string): Promise<{ deleted: number }> {
  const session = driver.session({ database, defaultAccessMode: 'WRITE' });
  let deleted = 0;
  try {
    await session.executeWrite((tx) => tx.run(`MATCH (m:${MARKER_LABEL}) DELETE m`));
    for (;;) {
      const res = await session.executeWrite((tx) =>
        tx.run('MATCH (n) WHERE n.source IN $sources WITH n LIMIT 5000 DETACH DELETE n RETURN count(*) AS c', { sources: [...SEED_SOURCES] }),
      );
      const c = Number(res.records[0]?.get('c') ?? 0);
      deleted += c;
      if (c === 0) break;
    }
  } finally {
    await session.close();
  }
  return { deleted };
}
