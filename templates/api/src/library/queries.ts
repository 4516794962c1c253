/**
 * The read side of the library graph (docs/library-graph.md). Every call goes through
 * executeQuery (the driver's pool, retries on transient errors) with a transaction timeout and
 * an outer deadline, so a dead Neo4j gives 503, never a hang.
 */
import neo4j, { type Driver } from 'neo4j-driver';
import { withTimeout } from '../lib/errors.js';

export interface LibraryOptions {
  timeoutMs: number;
  database?: string;
}

const LUCENE_SPECIAL = /[+\-&|!(){}[\]^"~*?:\\/]/g;

/** A user's words as a Lucene query: every word must match, the last one as a prefix. */
export function luceneQuery(q: string): string | undefined {
  const words = q
    .toLowerCase()
    .split(/\s+/)
    .map((w) => w.replace(LUCENE_SPECIAL, ''))
    .filter((w) => w.length > 0 && !['and', 'or', 'not'].includes(w));
  if (!words.length) return undefined;
  return words.map((w, i) => (i === words.length - 1 ? `(${w} OR ${w}*)` : w)).map((w) => `+${w}`).join(' ');
}

/** A user's words as the start of a name: lower case, single spaces ("Oat  Bran" → "oat bran"). */
export function searchWords(q: string): string {
  return q.toLowerCase().trim().split(/\s+/).join(' ');
}

export interface ExerciseFilters {
  q?: string;
  muscle?: string;
  region?: string;
  equipment?: string;
  category?: string;
  level?: string;
  limit: number;
}

export interface ExerciseSummary {
  id: string;
  name: string;
  level: string | null;
  category: string | null;
  primaryMuscles: string[];
  equipment: string[];
}

export class Library {
  constructor(
    private readonly driver: Driver,
    private readonly o: LibraryOptions,
  ) {}

  private async read<T = Record<string, unknown>>(cypher: string, params: Record<string, unknown>): Promise<T[]> {
    const res = await withTimeout(
      'neo4j',
      this.o.timeoutMs * 2,
      this.driver.executeQuery(cypher, params, {
        database: this.o.database ?? 'neo4j',
        routing: 'READ',
        transactionConfig: { timeout: this.o.timeoutMs },
      }),
    );
    return res.records.map((r) => r.toObject() as T);
  }

  async searchExercises(f: ExerciseFilters): Promise<ExerciseSummary[]> {
    const lucene = f.q ? luceneQuery(f.q) : undefined;
    if (f.q && !lucene) return []; // only punctuation: nothing can match
    const head = lucene
      ? `CALL db.index.fulltext.queryNodes('helfy_exercise_name_fulltext', $lucene) YIELD node AS e, score`
      : `MATCH (e:Exercise) WITH e, 0.0 AS score`;
    const where: string[] = [];
    if (f.muscle) where.push(`EXISTS { (e)-[:PRIMARY_MUSCLE|SECONDARY_MUSCLE]->(:Muscle {name: $muscle}) }`);
    if (f.region) where.push(`EXISTS { (e)-[:PRIMARY_MUSCLE|SECONDARY_MUSCLE]->(:Muscle)-[:IN_REGION]->(:BodyRegion {name: $region}) }`);
    if (f.equipment) where.push(`EXISTS { (e)-[:USES]->(:Equipment {name: $equipment}) }`);
    if (f.category) where.push(`EXISTS { (e)-[:IN_CATEGORY]->(:Category {name: $category}) }`);
    if (f.level) where.push(`e.level = $level`);
    return this.read<ExerciseSummary>(
      `${head}
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       WITH e, score ORDER BY score DESC, e.name, e.id LIMIT $limit
       RETURN e.id AS id, e.name AS name, e.level AS level,
              COLLECT { MATCH (e)-[:IN_CATEGORY]->(c:Category) RETURN c.name }[0] AS category,
              COLLECT { MATCH (e)-[:PRIMARY_MUSCLE]->(m:Muscle) RETURN m.name ORDER BY m.name } AS primaryMuscles,
              COLLECT { MATCH (e)-[:USES]->(q:Equipment) RETURN q.name ORDER BY q.name } AS equipment`,
      { lucene: lucene ?? null, muscle: f.muscle ?? null, region: f.region ?? null, equipment: f.equipment ?? null, category: f.category ?? null, level: f.level ?? null, limit: neo4j.int(f.limit) },
    );
  }

  async exercise(id: string) {
    const rows = await this.read(
      `MATCH (e:Exercise {id: $id})
       RETURN e.id AS id, e.name AS name, e.level AS level, e.force AS force, e.mechanic AS mechanic,
              coalesce(e.instructions, []) AS instructions,
              COLLECT { MATCH (e)-[:IN_CATEGORY]->(c:Category) RETURN c.name }[0] AS category,
              COLLECT { MATCH (e)-[:PRIMARY_MUSCLE]->(m:Muscle) OPTIONAL MATCH (m)-[:IN_REGION]->(r:BodyRegion)
                        RETURN {name: m.name, region: r.name} AS x ORDER BY m.name } AS primaryMuscles,
              COLLECT { MATCH (e)-[:SECONDARY_MUSCLE]->(m:Muscle) OPTIONAL MATCH (m)-[:IN_REGION]->(r:BodyRegion)
                        RETURN {name: m.name, region: r.name} AS x ORDER BY m.name } AS secondaryMuscles,
              COLLECT { MATCH (e)-[:USES]->(q:Equipment) RETURN q.name ORDER BY q.name } AS equipment`,
      { id },
    );
    return rows[0] as
      | {
          id: string;
          name: string;
          level: string | null;
          force: string | null;
          mechanic: string | null;
          instructions: string[];
          category: string | null;
          primaryMuscles: { name: string; region: string | null }[];
          secondaryMuscles: { name: string; region: string | null }[];
          equipment: string[];
        }
      | undefined;
  }

  /**
   * Exercises sharing a primary muscle with `id` that need no equipment or only equipment from
   * `available`, ranked by the number of shared primary muscles. Undefined when `id` is unknown.
   */
  async alternatives(id: string, available: string[], limit: number) {
    const rows = await this.read<{ found: boolean; alternatives: { id: string; name: string; sharedMuscles: string[]; equipment: string[] }[] }>(
      `OPTIONAL MATCH (e:Exercise {id: $id})
       CALL (e) {
         MATCH (e)-[:PRIMARY_MUSCLE]->(m:Muscle)<-[:PRIMARY_MUSCLE]-(alt:Exercise)
         WHERE alt <> e AND ALL(needed IN COLLECT { MATCH (alt)-[:USES]->(eq:Equipment) RETURN eq.name } WHERE needed IN $available)
         WITH alt, collect(DISTINCT m.name) AS shared
         ORDER BY size(shared) DESC, alt.name, alt.id
         LIMIT $limit
         RETURN collect({id: alt.id, name: alt.name, sharedMuscles: shared,
                         equipment: COLLECT { MATCH (alt)-[:USES]->(q:Equipment) RETURN q.name ORDER BY q.name }}) AS alternatives
       }
       RETURN e IS NOT NULL AS found, alternatives`,
      { id, available, limit: neo4j.int(limit) },
    );
    const r = rows[0];
    if (!r?.found) return undefined;
    return r.alternatives.map((a) => ({ ...a, sharedMuscles: [...a.sharedMuscles].sort() }));
  }

  /** The ids among `ids` that are not exercises of the library. */
  async unknownExercises(ids: string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    if (!unique.length) return [];
    const rows = await this.read<{ id: string }>(`UNWIND $ids AS id OPTIONAL MATCH (e:Exercise {id: id}) WITH id, e WHERE e IS NULL RETURN id`, { ids: unique });
    return rows.map((r) => r.id);
  }

  /**
   * Foods whose name or brand matches the words (the full-text index), best first: the food the
   * words name ("Oats", "Bananas, raw" for "oat"/"banana": the first comma-separated part of the
   * name is the words, give or take a plural), then names that start with them ("Oat bran, raw"),
   * then the rest, where the words come later ("Oil, oat"); each rank shortest name first, then
   * alphabetical. Without words: every food (of the group), alphabetical.
   */
  async searchFoods(f: { q?: string; group?: string; limit: number }) {
    const lucene = f.q ? luceneQuery(f.q) : undefined;
    if (f.q && !lucene) return [];
    const head = lucene
      ? `CALL db.index.fulltext.queryNodes('helfy_food_name_fulltext', $lucene) YIELD node AS f`
      : `MATCH (f:Food)`;
    const order = lucene
      ? `WITH f, toLower(coalesce(f.name, '')) AS name
         WITH f, CASE WHEN trim(split(name, ',')[0]) IN [$words, $words + 's', $words + 'es'] THEN 0
                      WHEN name STARTS WITH $words THEN 1
                      ELSE 2 END AS rank
         ORDER BY rank, size(f.name), f.name, f.id`
      : `WITH f ORDER BY f.name, f.id`;
    return this.read<{ id: string; name: string; brand: string | null; group: string | null; energyKcal: number | null }>(
      `${head}
       ${f.group ? `WHERE EXISTS { (f)-[:IN_GROUP]->(:FoodGroup {code: $group}) }` : ''}
       ${order} LIMIT $limit
       RETURN f.id AS id, f.name AS name, f.brand AS brand,
              COLLECT { MATCH (f)-[:IN_GROUP]->(g:FoodGroup) RETURN g.code }[0] AS group, f.energyKcal AS energyKcal`,
      { lucene: lucene ?? null, words: searchWords(f.q ?? ''), group: f.group ?? null, limit: neo4j.int(f.limit) },
    );
  }

  /** Nutrients per 100 g of each known food among ids (unknown ids are absent from the map). */
  async foodNutrients(ids: string[]): Promise<Map<string, { energyKcal: number | null; proteinG: number | null; fatG: number | null; carbsG: number | null; fiberG: number | null }>> {
    const rows = await this.read<{ id: string; n: { energyKcal: number | null; proteinG: number | null; fatG: number | null; carbsG: number | null; fiberG: number | null } }>(
      `UNWIND $ids AS id MATCH (f:Food {id: id})
       RETURN f.id AS id, {energyKcal: f.energyKcal, proteinG: f.proteinG, fatG: f.fatG, carbsG: f.carbsG, fiberG: f.fiberG} AS n`,
      { ids: [...new Set(ids)] },
    );
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  async food(id: string) {
    const rows = await this.read(
      `MATCH (f:Food {id: $id})
       RETURN f.id AS id, f.name AS name, f.brand AS brand,
              {energyKcal: f.energyKcal, proteinG: f.proteinG, fatG: f.fatG, carbsG: f.carbsG, fiberG: f.fiberG, sugarG: f.sugarG} AS per100g,
              COLLECT { MATCH (f)-[:IN_GROUP]->(g:FoodGroup) RETURN {code: g.code, name: g.name} }[0] AS group,
              COLLECT { MATCH (f)-[:HAS_PORTION]->(p:Portion) RETURN {id: p.id, description: p.description, grams: p.grams} AS x ORDER BY p.id } AS portions`,
      { id },
    );
    return rows[0] as
      | {
          id: string;
          name: string;
          brand: string | null;
          per100g: { energyKcal: number | null; proteinG: number | null; fatG: number | null; carbsG: number | null; fiberG: number | null; sugarG: number | null };
          group: { code: string; name: string } | null;
          portions: { id: string; description: string; grams: number }[];
        }
      | undefined;
  }
}
