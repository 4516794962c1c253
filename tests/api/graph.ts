/** A small library graph following docs/library-graph.md, written by the tests themselves. */
import type { Driver } from 'neo4j-driver';

export const MUSCLES: [string, string][] = [
  ['quadriceps', 'legs'],
  ['glutes', 'legs'],
  ['hamstrings', 'legs'],
  ['chest', 'chest'],
  ['triceps', 'arms'],
];

export const EXERCISES = [
  { id: 'Barbell_Squat', name: 'Barbell Squat', level: 'beginner', category: 'strength', primary: ['quadriceps', 'glutes'], secondary: ['hamstrings'], equipment: ['barbell'] },
  { id: 'Goblet_Squat', name: 'Goblet Squat', level: 'beginner', category: 'strength', primary: ['quadriceps', 'glutes'], secondary: [], equipment: ['dumbbell'] },
  { id: 'Bodyweight_Squat', name: 'Bodyweight Squat', level: 'beginner', category: 'strength', primary: ['quadriceps'], secondary: ['glutes'], equipment: [] },
  { id: 'Leg_Press', name: 'Leg Press', level: 'intermediate', category: 'strength', primary: ['quadriceps', 'glutes'], secondary: [], equipment: ['machine'] },
  { id: 'Dumbbell_Lunge', name: 'Dumbbell Lunge', level: 'intermediate', category: 'strength', primary: ['quadriceps', 'glutes', 'hamstrings'], secondary: [], equipment: ['dumbbell'] },
  { id: 'Bench_Press', name: 'Barbell Bench Press', level: 'intermediate', category: 'strength', primary: ['chest'], secondary: ['triceps'], equipment: ['barbell'] },
  { id: 'Quad_Stretch', name: 'Standing Quad Stretch', level: 'beginner', category: 'stretching', primary: ['quadriceps'], secondary: [], equipment: [] },
];

export const FOODS = [
  { id: '01001', name: 'Butter, salted', group: '01', energyKcal: 717, proteinG: 0.85, fatG: 81.11, carbsG: 0.06, fiberG: 0, sugarG: 0.06, portions: [['1 tbsp', 14.2]] },
  { id: '20044', name: 'Rice, white, long-grain, raw', group: '20', energyKcal: 365, proteinG: 7.13, fatG: 0.66, carbsG: 79.95, fiberG: 1.3, sugarG: 0.12, portions: [['1 cup', 185]] },
  { id: '20038', name: 'Oats', group: '20', energyKcal: 389, proteinG: 16.89, fatG: 6.9, carbsG: 66.27, fiberG: 10.6, sugarG: 0, portions: [] },
];
export const GROUPS: [string, string][] = [
  ['01', 'Dairy and Egg Products'],
  ['20', 'Cereal Grains and Pasta'],
];

export async function writeGraph(driver: Driver): Promise<void> {
  const w = (q: string, p: Record<string, unknown> = {}) => driver.executeQuery(q, p, { database: 'neo4j' });
  await w(`UNWIND $m AS m MERGE (x:Muscle {name: m[0]}) SET x.source = 'helfy-test' MERGE (r:BodyRegion {name: m[1]}) SET r.source = 'helfy-test' MERGE (x)-[:IN_REGION]->(r)`, { m: MUSCLES });
  await w(
    `UNWIND $ex AS e
     MERGE (x:Exercise {id: e.id}) SET x.name = e.name, x.level = e.level, x.force = 'push', x.mechanic = 'compound', x.instructions = ['Stand', 'Move'], x.source = 'helfy-test'
     MERGE (c:Category {name: e.category}) SET c.source = 'helfy-test'
     MERGE (x)-[:IN_CATEGORY]->(c)
     FOREACH (m IN e.primary | MERGE (mm:Muscle {name: m}) MERGE (x)-[:PRIMARY_MUSCLE]->(mm))
     FOREACH (m IN e.secondary | MERGE (mm:Muscle {name: m}) MERGE (x)-[:SECONDARY_MUSCLE]->(mm))
     FOREACH (q IN e.equipment | MERGE (qq:Equipment {name: q}) SET qq.source = 'helfy-test' MERGE (x)-[:USES]->(qq))`,
    { ex: EXERCISES },
  );
  await w(`UNWIND $g AS g MERGE (x:FoodGroup {code: g[0]}) SET x.name = g[1], x.source = 'helfy-test'`, { g: GROUPS });
  await w(
    `UNWIND $foods AS f
     MERGE (x:Food {id: f.id}) SET x.name = f.name, x.brand = null, x.energyKcal = f.energyKcal, x.proteinG = f.proteinG, x.fatG = f.fatG,
       x.carbsG = f.carbsG, x.fiberG = f.fiberG, x.sugarG = f.sugarG, x.source = 'helfy-test'
     WITH x, f MATCH (g:FoodGroup {code: f.group}) MERGE (x)-[:IN_GROUP]->(g)
     WITH x, f UNWIND range(0, size(f.portions) - 1) AS i
     MERGE (p:Portion {id: f.id + ':' + toString(i + 1)}) SET p.description = f.portions[i][0], p.grams = f.portions[i][1], p.source = 'helfy-test'
     MERGE (x)-[:HAS_PORTION]->(p)`,
    { foods: FOODS },
  );
  await w(`CALL db.awaitIndexes(60)`);
}
