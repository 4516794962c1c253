/**
 * Deterministic demo time series (no driver here): for a (seed, user index, days, last day) the
 * same rows every time, as CSV for COPY, generated day by day in time order so memory stays
 * bounded whatever the size. Each user's data depends only on the seed and its own index, so
 * `--users 5` gives users 1-3 exactly what `--users 3` gave them.
 */
import { createHash } from 'node:crypto';
import { exerciseLibrary, foodLibrary, routineLibrary, type FoodRow } from './library.js';

/** Bump when the generator's output changes: existing demo users are then regenerated. */
export const GENERATOR_VERSION = 1;
export const DEMO_SOURCE = 'helfy-seed';
export const DEMO_EMAIL_DOMAIN = 'helfy.test';
/** Heart rate every this many minutes. */
export const HEART_RATE_STEP_MIN = 3;

const DAY = 86_400_000;
const MIN = 60_000;

export interface DemoParams {
  seed: number;
  days: number;
  /** Last day with data (YYYY-MM-DD, UTC). */
  lastDay: string;
}

export function demoEmail(index: number): string {
  return `demo-${String(index).padStart(3, '0')}@${DEMO_EMAIL_DOMAIN}`;
}

/** A v4-shaped UUID from a hash (stable ids: a rerun writes the same keys). */
export function hashUuid(...parts: (string | number)[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** The demo user's id depends on its index only: a changed seed rewrites the same user. */
export function demoUserId(index: number): string {
  return hashUuid('helfy-demo-user', index);
}

/** sfc32, seeded from a hash of the parts: fast, deterministic, good enough for demo data. */
export type Rng = () => number;
export function rng(...parts: (string | number)[]): Rng {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  let a = h.readUInt32LE(0), b = h.readUInt32LE(4), c = h.readUInt32LE(8), d = h.readUInt32LE(12);
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}
const gauss = (r: Rng) => {
  const u = 1 - r(), v = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
};
const between = (r: Rng, lo: number, hi: number) => lo + (hi - lo) * r();
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;

export function parseDay(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s) throw new Error(`not a date: ${s}`);
  return t;
}

export interface DemoProfile {
  index: number;
  id: string;
  email: string;
  displayName: string;
  sex: 'female' | 'male';
  birthDate: string;
  heightCm: number;
  weightKg: number;
  /** kg per day (negative: losing). */
  weightTrend: number;
  restingHr: number;
  hrv: number;
  steps: number;
  /** 0 (Monday) … 6: the training days. */
  trainingDays: number[];
  /** Minutes after midnight the user usually trains. */
  trainingAt: number;
  program: string[];
  strength: number;
  energyKcal: number;
  createdAt: string;
}

const FIRST = { female: ['Ana', 'Mia', 'Lea', 'Sofia', 'Emma', 'Nora', 'Ida', 'Zoe', 'Maya', 'Lina'], male: ['Leo', 'Noah', 'Ben', 'Omar', 'Liam', 'Jonas', 'Ravi', 'Tom', 'Luca', 'Finn'] };
const LAST = ['Park', 'Meyer', 'Silva', 'Novak', 'Okafor', 'Jensen', 'Rossi', 'Tanaka', 'Haddad', 'Kowalski', 'Dubois', 'Moreau'];
const SCHEDULES: Record<number, number[]> = { 3: [0, 2, 4], 4: [0, 1, 3, 4], 5: [0, 1, 2, 4, 5] };
const PROGRAMS = [['full-body-beginner'], ['upper-body-strength', 'lower-body-strength'], ['powerlifting-5x5', 'upper-body-strength', 'lower-body-strength']];

export function demoProfile(p: DemoParams, index: number): DemoProfile {
  const r = rng('profile', p.seed, index);
  const sex = r() < 0.5 ? 'female' : 'male';
  const age = Math.floor(between(r, 22, 58));
  const last = parseDay(p.lastDay);
  const heightCm = round1(sex === 'female' ? 164 + 6.5 * gauss(r) : 177 + 7 * gauss(r));
  const bmi = between(r, 20.5, 29);
  const weightKg = round1((bmi * heightCm * heightCm) / 10_000);
  const perWeek = pick(r, [3, 3, 4, 4, 5]);
  const program = perWeek === 3 ? pick(r, [PROGRAMS[0]!, PROGRAMS[1]!]) : pick(r, PROGRAMS.slice(1));
  return {
    index,
    id: demoUserId(index),
    email: demoEmail(index),
    displayName: `${pick(r, FIRST[sex])} ${pick(r, LAST)} (demo)`,
    sex,
    birthDate: new Date(Date.UTC(new Date(last).getUTCFullYear() - age, Math.floor(r() * 12), 1 + Math.floor(r() * 28))).toISOString().slice(0, 10),
    heightCm,
    weightKg,
    weightTrend: bmi > 25 ? between(r, -0.06, -0.01) : between(r, -0.01, 0.02),
    restingHr: Math.round(between(r, 52, 70)),
    hrv: Math.round(between(r, 32, 85) - (age - 22) * 0.5),
    steps: Math.round(between(r, 5500, 12_500)),
    trainingDays: SCHEDULES[perWeek]!,
    trainingAt: r() < 0.35 ? 7 * 60 : 18 * 60,
    program,
    strength: between(r, 0.7, 1.3) * (sex === 'female' ? 0.75 : 1),
    energyKcal: Math.round((sex === 'female' ? 1900 : 2500) + between(r, -250, 350)),
    createdAt: new Date(last - (p.days - 1) * DAY).toISOString(),
  };
}

interface DayPlan {
  start: number;
  /** Minutes after this day's midnight: waking up, and going to bed (may pass midnight). */
  wake: number;
  bed: number;
  workout?: { at: number; minutes: number };
  steps: number;
}

function dayPlan(p: DemoParams, u: DemoProfile, start: number): DayPlan {
  const r = rng('day', p.seed, u.index, start);
  const dow = (new Date(start).getUTCDay() + 6) % 7;
  const weekend = dow >= 5;
  const wake = Math.round(7 * 60 + (weekend ? 60 : 0) + 25 * gauss(r));
  const bed = Math.round(23 * 60 + (dow === 4 || dow === 5 ? 45 : 0) + 35 * gauss(r));
  const trains = u.trainingDays.includes(dow) && r() > 0.08;
  const workout = trains ? { at: Math.max(wake + 30, Math.round(u.trainingAt + 40 * gauss(r))), minutes: Math.round(between(r, 45, 75)) } : undefined;
  const steps = Math.max(800, Math.round(u.steps * (weekend ? 0.85 : 1) * Math.exp(0.25 * gauss(r)) + (workout ? 1500 : 0)));
  return { start, wake, bed, ...(workout ? { workout } : {}), steps };
}

/** Rows are CSV; fields never hold a comma, quote or newline except `name`-like text, quoted here. */
const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
// toISOString() for every row is the generator's hottest spot: the day part is cached and the
// time of day is formatted by hand (same output for the UTC instants used here).
let isoDay = NaN, isoPrefix = '';
const p2 = (n: number) => (n < 10 ? `0${n}` : String(n));
export function iso(t: number): string {
  const day = t - (((t % DAY) + DAY) % DAY);
  if (day !== isoDay) {
    isoDay = day;
    isoPrefix = new Date(day).toISOString().slice(0, 11);
  }
  const ms = t - day;
  const h = Math.floor(ms / 3_600_000), m = Math.floor((ms % 3_600_000) / MIN), sec = Math.floor((ms % MIN) / 1000), milli = ms % 1000;
  return `${isoPrefix}${p2(h)}:${p2(m)}:${p2(sec)}.${milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : milli}Z`;
}

function* chunked(lines: Iterable<string>, size = 1 << 16): Generator<string> {
  let buf = '';
  for (const l of lines) {
    buf += l;
    if (buf.length >= size) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

export interface DemoTable {
  table: 'biometrics' | 'workouts' | 'workout_sets' | 'nutrition';
  columns: string[];
  /** CSV chunks in time order; `count()` is valid once the iterator is done. */
  chunks(): Generator<string>;
  count(): number;
}

export const BIOMETRICS_COLUMNS = ['time', 'user_id', 'metric', 'value', 'unit', 'source'];
export const WORKOUTS_COLUMNS = ['time', 'user_id', 'id', 'name', 'routine_id', 'status', 'duration_s', 'created_at', 'updated_at'];
export const SETS_COLUMNS = ['time', 'user_id', 'workout_id', 'exercise_id', 'set_number', 'reps', 'weight_kg', 'duration_s', 'rpe', 'performed_at'];
export const NUTRITION_COLUMNS = ['time', 'user_id', 'id', 'food_id', 'meal', 'quantity_g', 'energy_kcal', 'protein_g', 'carbs_g', 'fat_g', 'fiber_g'];

function dayStarts(p: DemoParams): number[] {
  const last = parseDay(p.lastDay);
  return Array.from({ length: p.days }, (_, i) => last - (p.days - 1 - i) * DAY);
}

function* biometricLines(p: DemoParams, u: DemoProfile, counter: { n: number }): Generator<string> {
  const starts = dayStarts(p);
  const r = rng('biometrics', p.seed, u.index);
  let weight = u.weightKg, water = 0, hrNoise = 0, prev = dayPlan(p, u, starts[0]! - DAY);
  let load = 0;
  for (let d = 0; d < starts.length; d++) {
    const start = starts[d]!;
    const plan = dayPlan(p, u, start);
    const next = dayPlan(p, u, start + DAY);
    const progress = d / Math.max(1, starts.length - 1);
    const sleepMin = plan.wake + (24 * 60 - prev.bed);
    // Fitness improves slowly; a short night or a hard day before raises resting HR and lowers HRV.
    const strain = (sleepMin < 390 ? 3 : 0) + load;
    const rhr = u.restingHr - 2.5 * progress + strain * 0.6 + 1.2 * gauss(r);
    const hrv = Math.max(12, u.hrv + 5 * progress - strain * 2 + 5 * gauss(r));
    const rows: [number, string][] = [];
    const at = (min: number) => start + min * MIN;
    for (let m = 0; m < 24 * 60; m += HEART_RATE_STEP_MIN) {
      const asleep = m < plan.wake || m >= next.bed;
      const w = plan.workout;
      let hr: number;
      if (asleep) hr = rhr - 4 + 3 * Math.sin((m / (24 * 60)) * 2 * Math.PI);
      else if (w && m >= w.at && m < w.at + w.minutes) {
        const x = (m - w.at) / w.minutes;
        hr = rhr + 55 + 35 * Math.sin(Math.PI * Math.min(1, x * 1.3)) + 8 * gauss(r);
      } else hr = rhr + 14 + 10 * Math.sin(((m - 8 * 60) / (14 * 60)) * Math.PI) + (r() < 0.04 ? 25 * r() : 0);
      hrNoise = 0.7 * hrNoise + 2.2 * gauss(r);
      rows.push([at(m), `${iso(at(m))},${u.id},heart_rate,${Math.round(Math.max(38, Math.min(195, hr + hrNoise)))},bpm,${DEMO_SOURCE}\n`]);
    }
    // Steps per hour while awake, peaking around commutes, lunch and the workout.
    const hours: [number, number][] = [];
    for (let h = Math.ceil(plan.wake / 60); h < Math.min(24, Math.floor(next.bed / 60)); h++) {
      const peak = (h === 8 || h === 12 || h === 17 || h === 18 ? 2.2 : 1) * (plan.workout && Math.floor(plan.workout.at / 60) === h ? 2 : 1);
      hours.push([h, peak * (0.6 + 0.8 * r())]);
    }
    const total = hours.reduce((a, [, w]) => a + w, 0) || 1;
    for (const [h, w] of hours) {
      const n = Math.round((plan.steps * w) / total);
      if (n > 0) rows.push([at(h * 60), `${iso(at(h * 60))},${u.id},steps,${n},count,${DEMO_SOURCE}\n`]);
    }
    const morning = at(Math.max(0, plan.wake));
    rows.push([morning, `${iso(morning)},${u.id},sleep,${Math.round(sleepMin)},min,${DEMO_SOURCE}\n`]);
    rows.push([morning + MIN, `${iso(morning + MIN)},${u.id},resting_heart_rate,${round1(rhr)},bpm,${DEMO_SOURCE}\n`]);
    rows.push([morning + 2 * MIN, `${iso(morning + 2 * MIN)},${u.id},hrv,${round1(hrv)},ms,${DEMO_SOURCE}\n`]);
    water = 0.6 * water + 0.35 * gauss(r);
    weight += u.weightTrend + 0.02 * gauss(r);
    if (r() < 0.75) rows.push([morning + 10 * MIN, `${iso(morning + 10 * MIN)},${u.id},weight,${round1(weight + water)},kg,${DEMO_SOURCE}\n`]);
    rows.sort((a, b) => a[0] - b[0]);
    for (const [, line] of rows) {
      counter.n++;
      yield line;
    }
    load = plan.workout ? 2 : 0;
    prev = plan;
  }
}

interface ExerciseInfo { equipment: string | null; category: string }
let exerciseInfo: Map<string, ExerciseInfo> | undefined;
function exercises(): Map<string, ExerciseInfo> {
  exerciseInfo ??= new Map(exerciseLibrary().links.map((l) => [l.id, { equipment: l.equipment[0] ?? null, category: l.category }]));
  return exerciseInfo;
}
const START_KG: Record<string, [number, number]> = {
  barbell: [40, 2.5], dumbbell: [12, 1], cable: [25, 2.5], machine: [40, 5], 'e-z curl bar': [20, 2.5], kettlebells: [12, 4], 'medicine ball': [5, 1], bands: [0, 0],
};

function* workoutLines(p: DemoParams, u: DemoProfile, counters: { workouts: number; sets: number }, wanted: 'workouts' | 'sets'): Generator<string> {
  const routines = new Map(routineLibrary().routines.map((x) => [x.id, x]));
  const info = exercises();
  const sessions = new Map<string, number>();
  let n = 0;
  const days = dayStarts(p);
  const first = days[0]!;
  for (const start of days) {
    const plan = dayPlan(p, u, start);
    if (!plan.workout) continue;
    const routine = routines.get(u.program[n % u.program.length]!)!;
    const r = rng('workout', p.seed, u.index, start);
    n++;
    const t0 = start + plan.workout.at * MIN;
    const id = hashUuid('workout', p.seed, u.index, start);
    // Every sixth week since the first day is a lighter (deload) week.
    const deload = Math.floor((start - first) / (7 * DAY)) % 6 === 5;
    if (wanted === 'workouts') {
      counters.workouts++;
      const end = iso(t0 + plan.workout.minutes * MIN);
      yield `${iso(t0)},${u.id},${id},${q(routine.name)},${routine.id},completed,${plan.workout.minutes * 60},${end},${end}\n`;
      continue;
    }
    let setNo = 0;
    for (const item of routine.items) {
      const ex = info.get(item.exercise)!;
      const k = sessions.get(item.exercise) ?? 0;
      sessions.set(item.exercise, k + 1);
      const base = ex.equipment ? START_KG[ex.equipment] : undefined;
      const stretch = ex.category === 'stretching';
      for (let s = 0; s < item.sets; s++) {
        setNo++;
        const t = t0 + setNo * 150_000;
        let reps: number | null = item.reps - (s === item.sets - 1 && r() < 0.4 ? 1 : 0);
        let weight: number | null = null;
        let duration: number | null = null;
        if (stretch) { duration = item.reps; reps = null; }
        else if (base && base[0] > 0) {
          // Progressive overload: +2% a session, 15% lighter in a deload week.
          const raw = base[0] * u.strength * (1 + 0.02 * k) * (deload ? 0.85 : 1);
          weight = Math.max(base[1], Math.round(raw / base[1]) * base[1]);
        } else reps = reps + Math.floor(k / 4);
        const rpe = stretch ? null : Math.min(10, round1(6.5 + (s / Math.max(1, item.sets - 1)) * 2 + 0.4 * gauss(r)));
        counters.sets++;
        yield `${iso(t)},${u.id},${id},${item.exercise},${setNo},${reps ?? ''},${weight ?? ''},${duration ?? ''},${rpe ?? ''},${iso(t)}\n`;
      }
    }
  }
}

const MEAL_GROUPS: Record<string, string[]> = {
  breakfast: ['01', '08', '09', '18'],
  lunch: ['05', '11', '15', '16', '20', '22'],
  dinner: ['05', '10', '11', '13', '15', '16', '20'],
  snack: ['09', '12', '19', '25'],
  post_workout: ['01', '09', '14'],
};
let pools: Record<string, (FoodRow & { grams: number })[]> | undefined;
/** Per meal: foods of fitting groups that have a household portion and some energy. */
export function mealPools(): Record<string, (FoodRow & { grams: number })[]> {
  if (pools) return pools;
  const lib = foodLibrary();
  const grams = new Map<string, number>();
  for (const p of lib.portions) if (!grams.has(p.food)) grams.set(p.food, p.grams);
  const group = new Map(lib.foodGroup.map((g) => [g.id, g.group]));
  pools = {};
  for (const [meal, groups] of Object.entries(MEAL_GROUPS)) {
    pools[meal] = lib.foods
      .filter((f) => groups.includes(group.get(f.id)!) && f.energyKcal >= 15 && (grams.get(f.id) ?? 0) >= 5)
      .map((f) => ({ ...f, grams: grams.get(f.id)! }));
  }
  return pools;
}

function* nutritionLines(p: DemoParams, u: DemoProfile, counter: { n: number }): Generator<string> {
  const pool = mealPools();
  for (const start of dayStarts(p)) {
    const plan = dayPlan(p, u, start);
    const r = rng('meals', p.seed, u.index, start);
    const target = u.energyKcal * Math.exp(0.12 * gauss(r)) + (plan.workout ? 250 : 0);
    const meals: [string, number, number][] = [
      ['breakfast', plan.wake + 40 + 15 * gauss(r), 0.25],
      ['lunch', 12.5 * 60 + 30 * gauss(r), 0.35],
      ['dinner', 19 * 60 + 40 * gauss(r), 0.3],
    ];
    if (r() < 0.6) meals.push(['snack', 15.5 * 60 + 40 * gauss(r), 0.1]);
    if (plan.workout && r() < 0.5) meals.push(['post_workout', plan.workout.at + plan.workout.minutes + 20, 0.08]);
    meals.sort((a, b) => a[1] - b[1]);
    for (const [meal, minute, share] of meals) {
      const foods = Array.from({ length: meal === 'snack' || meal === 'post_workout' ? 1 : 2 + Math.floor(r() * 2) }, () => pick(r, pool[meal]!));
      const natural = foods.map((f) => (f.energyKcal * f.grams) / 100);
      const scale = (target * share) / Math.max(1, natural.reduce((a, b) => a + b, 0));
      let i = 0;
      for (const f of foods) {
        const g = round1(Math.min(600, Math.max(10, f.grams * scale * between(r, 0.8, 1.2))));
        const t = start + Math.round(minute) * MIN + i * 1000;
        const per = (x: number | null) => (x === null ? '' : String(round2((x * g) / 100)));
        counter.n++;
        yield `${iso(t)},${u.id},${hashUuid('meal', p.seed, u.index, start, meal, i)},${f.id},${meal},${g},${per(f.energyKcal)},${per(f.proteinG)},${per(f.carbsG)},${per(f.fatG)},${per(f.fiberG)}\n`;
        i++;
      }
    }
  }
}

/** The user's tables in load order, each streamed in time order. */
export function demoTables(p: DemoParams, u: DemoProfile): DemoTable[] {
  const bio = { n: 0 }, w = { workouts: 0, sets: 0 }, s = { workouts: 0, sets: 0 }, nut = { n: 0 };
  return [
    { table: 'biometrics', columns: BIOMETRICS_COLUMNS, chunks: () => chunked(biometricLines(p, u, bio)), count: () => bio.n },
    { table: 'workouts', columns: WORKOUTS_COLUMNS, chunks: () => chunked(workoutLines(p, u, w, 'workouts')), count: () => w.workouts },
    { table: 'workout_sets', columns: SETS_COLUMNS, chunks: () => chunked(workoutLines(p, u, s, 'sets')), count: () => s.sets },
    { table: 'nutrition', columns: NUTRITION_COLUMNS, chunks: () => chunked(nutritionLines(p, u, nut)), count: () => nut.n },
  ];
}

/** Every exercise and food id the generator can write (for the "library loaded" check). */
export function demoReferencedIds(): { exercises: string[]; foods: string[] } {
  const ex = new Set<string>();
  for (const r of routineLibrary().routines) for (const i of r.items) ex.add(i.exercise);
  const foods = new Set<string>();
  for (const pool of Object.values(mealPools())) for (const f of pool) foods.add(f.id);
  return { exercises: [...ex].sort(), foods: [...foods].sort() };
}
