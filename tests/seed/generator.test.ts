/** The pure parts of `helfy seed`: flags, the library rows, the demo generator, password hashes. */
import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSeedFlags } from '../../src/db/seed/options.js';
import { demoProfile, demoTables, demoReferencedIds, iso, type DemoParams } from '../../src/db/seed/demo.js';
import { exerciseLibrary, foodLibrary, routineLibrary, MUSCLE_REGIONS, ROUTINE_RULES } from '../../src/db/seed/library.js';
import { hashPassword, verifyPassword } from '../../src/db/seed/password.js';
import { splitCsv } from './helpers.js';

const P: DemoParams = { seed: 11, days: 56, lastDay: '2026-11-22' };
const rowsOf = (p: DemoParams, index: number, table: string) =>
  [...demoTables(p, demoProfile(p, index)).find((t) => t.table === table)!.chunks()].join('').split('\n').filter(Boolean).map(splitCsv);

describe('flags', () => {
  it('--reset refuses the flags that shape new data instead of ignoring them; --only and --dry-run go with it', () => {
    let err: any;
    try {
      parseSeedFlags({ reset: true, users: '5', lastDay: '2026-01-31' });
    } catch (e) {
      err = e;
    }
    expect([err?.code, err?.exitCode, err?.message]).toEqual(['USAGE', 2, '--reset does not take --users, --last-day: it removes the seeded data, it generates none']);
    expect(err.hint).toBe('Run `helfy seed --reset` (with --only and --dry-run if you like), then `helfy seed --users … --last-day …`.');
    expect(parseSeedFlags({ reset: true, only: 'demo', dryRun: true })).toMatchObject({ reset: true, dryRun: true, only: ['demo'] });
  });
  it('defaults: every part, 3 users, 90 days, seed 1', () => {
    expect(parseSeedFlags({})).toEqual({ users: 3, days: 90, seed: 1, concurrency: 2, reset: false, dryRun: false });
    expect(parseSeedFlags({ only: 'demo,foods,demo', users: '0', days: '365', lastDay: '2026-01-31' })).toMatchObject({ only: ['demo', 'foods'], users: 0, days: 365, lastDay: '2026-01-31' });
  });
  it.each([
    [{ days: '0' }, '--days'], [{ users: '-1' }, '--users'], [{ only: 'nonsense' }, '--only'], [{ only: ',' }, '--only'],
    [{ seed: '1.5' }, '--seed'], [{ users: '1001' }, '--users'], [{ lastDay: '2026-13-01' }, '--last-day'], [{ concurrency: '0' }, '--concurrency'],
  ])('%j is a usage error naming %s', (opts, flag) => {
    let err: any;
    try {
      parseSeedFlags(opts);
    } catch (e) {
      err = e;
    }
    expect(err?.exitCode).toBe(2);
    expect(err.message.startsWith(flag)).toBe(true);
    expect(err.hint).toBeTruthy();
  });
});

describe('library rows', () => {
  it('exercises: 873, every muscle in one region of docs/library-graph.md', () => {
    const lib = exerciseLibrary();
    expect(lib.exercises).toHaveLength(873);
    expect(lib.muscles.map((m) => m.name)).toEqual(Object.keys(MUSCLE_REGIONS).sort());
    expect(new Set(lib.muscles.map((m) => m.region))).toEqual(new Set(['legs', 'back', 'chest', 'arms', 'shoulders', 'core']));
    expect(lib.links.every((l) => l.primary.length > 0 && l.secondary.every((s) => !l.primary.includes(s)))).toBe(true);
  });

  it('foods: 8,790 from SR28 with groups from the NDB prefix, blanks as null, portions in grams', () => {
    const lib = foodLibrary();
    expect(lib.foods).toHaveLength(8790);
    expect(new Set(lib.foods.map((f) => f.id)).size).toBe(8790);
    const group = new Map(lib.foodGroup.map((g) => [g.id, g.group]));
    expect(group.get('01001')).toBe('01');
    expect(group.get('23000') ?? [...group].find(([id]) => id.startsWith('23'))![1]).toBe('other');
    expect(lib.groups.find((g) => g.code === '16')!.name).toBe('Legumes and Legume Products');
    // 16396 (peanuts, Virginia, oil-roasted): SR28 has no sugar value for it.
    const peanuts = lib.foods.find((f) => f.id === '16396')!;
    expect(peanuts).toMatchObject({ name: 'Peanuts, virginia, oil-roasted, without salt', energyKcal: 578, proteinG: 25.87, fiberG: 8.9, sugarG: null });
    expect(lib.portions.filter((p) => p.food === '16396').map((p) => [p.id, p.description, p.grams])).toEqual([['16396:1', '1 cup', 143], ['16396:2', '1 oz', 28.35]]);
    expect(lib.portions.every((p) => p.grams > 0)).toBe(true);
  });

  it('routines are built by rule: each slot an existing exercise training one of its muscles', () => {
    const lib = exerciseLibrary();
    const links = new Map(lib.links.map((l) => [l.id, l]));
    const { routines } = routineLibrary(lib);
    expect(routines.map((r) => r.id)).toEqual(ROUTINE_RULES.map((r) => r.id));
    routines.forEach((r, i) => {
      const rule = ROUTINE_RULES[i]!;
      expect(r.items.map((x) => x.position)).toEqual(rule.slots.map((_, k) => k + 1));
      expect(new Set(r.items.map((x) => x.exercise)).size).toBe(r.items.length);
      r.items.forEach((item, k) => {
        const l = links.get(item.exercise)!;
        expect(l, item.exercise).toBeDefined();
        expect(l.primary.some((m) => rule.slots[k]!.muscles.includes(m))).toBe(true);
        expect(rule.categories).toContain(l.category);
      });
    });
    expect(routineLibrary(lib)).toEqual(routineLibrary(lib));
  });
});

describe('demo generator', () => {
  it('is deterministic: same seed, same bytes; another seed, other data', () => {
    const a = rowsOf(P, 1, 'biometrics'), b = rowsOf(P, 1, 'biometrics'), c = rowsOf({ ...P, seed: 12 }, 1, 'biometrics');
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(rowsOf(P, 2, 'nutrition')).toEqual(rowsOf(P, 2, 'nutrition'));
  });

  it('every table comes out in time order, within the requested days', () => {
    for (const t of ['biometrics', 'workouts', 'workout_sets', 'nutrition']) {
      const times = rowsOf(P, 3, t).map((r) => Date.parse(r[0]!));
      expect(times.length, t).toBeGreaterThan(0);
      for (let i = 1; i < times.length; i++) expect(times[i]! >= times[i - 1]!, `${t} row ${i}`).toBe(true);
      expect(times[0]!).toBeGreaterThanOrEqual(Date.parse('2026-09-28T00:00:00Z'));
      expect(times.at(-1)!).toBeLessThan(Date.parse('2026-11-23T00:00:00Z'));
    }
  });

  it('looks like a person: heart-rate rhythm, 3-5 workouts a week, slow weight, plausible sleep and steps', () => {
    const bio = rowsOf(P, 1, 'biometrics');
    const hr = bio.filter((r) => r[2] === 'heart_rate').map((r) => ({ h: new Date(r[0]!).getUTCHours(), v: Number(r[3]) }));
    expect(hr).toHaveLength(56 * 480);
    expect(hr.every((x) => x.v >= 38 && x.v <= 195)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(hr.filter((x) => x.h >= 2 && x.h < 5).map((x) => x.v)) + 10).toBeLessThan(mean(hr.filter((x) => x.h >= 10 && x.h < 13).map((x) => x.v)));
    const daily = (m: string) => bio.filter((r) => r[2] === m).map((r) => Number(r[3]));
    expect(daily('resting_heart_rate')).toHaveLength(56);
    const weights = daily('weight');
    for (let i = 1; i < weights.length; i++) expect(Math.abs(weights[i]! - weights[i - 1]!)).toBeLessThan(2);
    expect(daily('sleep').every((m) => m > 240 && m < 700)).toBe(true);
    const stepsPerDay = new Map<string, number>();
    for (const r of bio.filter((x) => x[2] === 'steps')) stepsPerDay.set(r[0]!.slice(0, 10), (stepsPerDay.get(r[0]!.slice(0, 10)) ?? 0) + Number(r[3]));
    expect([...stepsPerDay.values()].every((s) => s >= 800 && s < 40_000)).toBe(true);
    const u = demoProfile(P, 1);
    const workouts = rowsOf(P, 1, 'workouts');
    const perWeek = new Map<number, number>();
    for (const w of workouts) {
      const week = Math.floor((Date.parse(w[0]!) - Date.parse('2026-09-28T00:00:00Z')) / (7 * 86_400_000));
      perWeek.set(week, (perWeek.get(week) ?? 0) + 1);
    }
    expect(perWeek.size).toBe(8);
    for (const n of perWeek.values()) expect(n).toBeGreaterThanOrEqual(u.trainingDays.length - 2);
    for (const n of perWeek.values()) expect(n).toBeLessThanOrEqual(5);
    expect(u.trainingDays.length).toBeGreaterThanOrEqual(3);
  });

  it('progressive weights: an exercise is lifted heavier at the end than at the start', () => {
    const sets = rowsOf(P, 2, 'workout_sets').filter((r) => r[6] !== '');
    const byExercise = new Map<string, number[]>();
    for (const s of sets) (byExercise.get(s[3]!) ?? byExercise.set(s[3]!, []).get(s[3]!)!).push(Number(s[6]));
    const [, ws] = [...byExercise].sort((a, b) => b[1].length - a[1].length)[0]!;
    expect(ws.at(-1)!).toBeGreaterThan(ws[0]!);
    const ids = new Set(demoReferencedIds().exercises);
    expect(sets.every((s) => ids.has(s[3]!))).toBe(true);
  });

  it('meals: energy and macros are the food\'s per-100 g values times the grams', () => {
    const foods = new Map(foodLibrary().foods.map((f) => [f.id, f]));
    const meals = rowsOf(P, 1, 'nutrition');
    expect(meals.length).toBeGreaterThan(56 * 3 * 2 - 1);
    for (const m of meals.slice(0, 200)) {
      const f = foods.get(m[3]!)!;
      const g = Number(m[5]);
      expect(Number(m[6])).toBeCloseTo((f.energyKcal * g) / 100, 1);
      expect(Number(m[7])).toBeCloseTo((f.proteinG * g) / 100, 1);
      expect(m[10]).toBe(f.fiberG === null ? '' : String(Math.round(((f.fiberG * g) / 100) * 100) / 100));
    }
    const perDay = new Map<string, number>();
    for (const m of meals) perDay.set(m[0]!.slice(0, 10), (perDay.get(m[0]!.slice(0, 10)) ?? 0) + Number(m[6]));
    const avg = [...perDay.values()].reduce((a, b) => a + b, 0) / perDay.size;
    expect(Math.abs(avg - demoProfile(P, 1).energyKcal)).toBeLessThan(600);
  });

  it('the hand-written ISO formatter matches Date#toISOString', () => {
    for (let i = 0; i < 20_000; i++) {
      const t = Math.floor(Math.random() * 4e12);
      expect(iso(t)).toBe(new Date(t).toISOString());
    }
  });
});

describe('password hashes', () => {
  it('scrypt$N$r$p$salt$hash with N=32768 r=8 p=1, 16-byte salt, 32-byte key; verifies with node:crypto', async () => {
    const [h1, h2] = await Promise.all([hashPassword('s3cret-demo-password'), hashPassword('s3cret-demo-password')]);
    expect(h1).not.toBe(h2); // a fresh salt each time
    const [scheme, N, r, p, salt, key] = h1.split('$');
    expect([scheme, N, r, p]).toEqual(['scrypt', '32768', '8', '1']);
    expect(Buffer.from(salt!, 'base64url')).toHaveLength(16);
    const derived = scryptSync('s3cret-demo-password', Buffer.from(salt!, 'base64url'), 32, { N: Number(N), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 });
    expect(derived.toString('base64url')).toBe(key);
    expect(await verifyPassword('s3cret-demo-password', h1)).toBe(true);
    expect(await verifyPassword('wrong', h1)).toBe(false);
    expect(await verifyPassword('s3cret-demo-password', 'bcrypt$whatever')).toBe(false);
  });
});
