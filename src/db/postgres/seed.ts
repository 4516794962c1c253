/**
 * Demo users and their time series in helfy_app, loaded with COPY (pg-copy-streams) as the owner
 * role. One demo user = one transaction: the users row, every COPY stream of that user and its
 * `demo_seeds` row commit together, so a kill at any moment leaves whole users only. A rerun
 * compares each marker's (seed, days, last_day, generator_version) with the request and skips,
 * regenerates (delete + load in one transaction) or deletes users, converging on the request.
 */
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { HelfyError } from '../../core/errors.js';
import { demoEmail, demoProfile, demoTables, demoUserId, GENERATOR_VERSION, type DemoParams, type DemoProfile } from '../seed/demo.js';
import { hashPassword, verifyPassword } from '../seed/password.js';
import { connect, type PgConnection } from './connection.js';

export const DEMO_TABLES = ['biometrics', 'workouts', 'workout_sets', 'nutrition'] as const;
/** pg_advisory_lock key of `helfy seed`'s demo load (an arbitrary constant: "helfy-sd"). */
export const DEMO_LOCK_KEY = '7526746561736564';

export type DemoAction = 'create' | 'regenerate' | 'up-to-date' | 'delete';

export interface DemoUserPlan {
  index: number;
  id: string;
  email: string;
  action: DemoAction;
  /** Why a user is regenerated (what differs), for the summary. */
  reason?: string;
}

export interface DemoUserResult extends DemoUserPlan {
  rows: Record<string, number>;
  ms: number;
}

export interface DemoResult {
  dryRun: boolean;
  users: DemoUserResult[];
  /** Rows written per table by this run. */
  rows: Record<string, number>;
  /** Rows per table of all demo users after the run (from their markers). */
  totals: Record<string, number>;
  passwordsUpdated: number;
  ms: number;
  rowsPerSecond: number;
}

export interface SeedDemoOptions {
  users: number;
  params: DemoParams;
  password: string;
  /** COPY connections in parallel (one user each); 1 on a server that takes one connection at a time. */
  concurrency?: number;
  dryRun?: boolean;
  progress?: (msg: string) => void;
}

interface Marker { user_id: string; email: string; seed: number; days: number; last_day: string; generator_version: number; row_counts: Record<string, number> }

async function markers(c: pg.Client): Promise<Marker[]> {
  const r = await c.query<Marker>(
    `SELECT d.user_id, u.email, d.seed, d.days, to_char(d.last_day, 'YYYY-MM-DD') AS last_day, d.generator_version, d.row_counts
       FROM demo_seeds d JOIN users u ON u.id = d.user_id ORDER BY u.email`,
  );
  return r.rows;
}

function differs(m: Marker, p: DemoParams): string | undefined {
  const d: string[] = [];
  if (m.seed !== p.seed) d.push(`seed ${m.seed} → ${p.seed}`);
  if (m.days !== p.days) d.push(`days ${m.days} → ${p.days}`);
  if (m.last_day !== p.lastDay) d.push(`last day ${m.last_day} → ${p.lastDay}`);
  if (m.generator_version !== GENERATOR_VERSION) d.push(`generator v${m.generator_version} → v${GENERATOR_VERSION}`);
  return d.length ? d.join(', ') : undefined;
}

/** What a run would do, from the markers: no writes. */
export async function planDemo(c: pg.Client, users: number, p: DemoParams): Promise<{ plan: DemoUserPlan[]; markers: Marker[] }> {
  const ms = await markers(c);
  const byId = new Map(ms.map((m) => [m.user_id, m]));
  const wanted = Array.from({ length: users }, (_, i) => ({ index: i + 1, id: demoUserId(i + 1), email: demoEmail(i + 1) }));
  // A demo address held by someone else's row (a developer's own user) is never overwritten.
  const taken = await c.query<{ id: string; email: string }>(
    'SELECT id, email FROM users WHERE lower(email) = ANY($1::text[]) AND id <> ALL($2::uuid[])',
    [wanted.map((w) => w.email), wanted.map((w) => w.id)],
  );
  if (taken.rows.length) {
    throw new HelfyError('OPERATION_FAILED', `${taken.rows[0]!.email} belongs to a user that helfy seed did not create`, {
      hint: 'Rename or delete that user, or seed fewer demo users (--users).',
      details: taken.rows.map((r) => `${r.email} (${r.id})`),
    });
  }
  const plan: DemoUserPlan[] = wanted.map((w) => {
    const m = byId.get(w.id);
    if (!m) return { ...w, action: 'create' };
    const why = differs(m, p);
    return why ? { ...w, action: 'regenerate', reason: why } : { ...w, action: 'up-to-date' };
  });
  const keep = new Set(wanted.map((w) => w.id));
  for (const m of ms) {
    if (!keep.has(m.user_id)) plan.push({ index: Number(/demo-(\d+)@/.exec(m.email)?.[1] ?? 0), id: m.user_id, email: m.email, action: 'delete' });
  }
  return { plan, markers: ms };
}

async function copyInto(c: pg.Client, table: string, columns: string[], chunks: Iterable<string>): Promise<void> {
  const stream = c.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FORMAT csv)`));
  await pipeline(chunks, stream);
}

/** Loads one demo user (its users row, every table, its marker) in one transaction. */
export async function loadDemoUser(c: pg.Client, p: DemoParams, u: DemoProfile, passwordHash: string): Promise<Record<string, number>> {
  await c.query('BEGIN');
  try {
    // A regenerated user is deleted first (ON DELETE CASCADE removes its rows and marker).
    await c.query('DELETE FROM users WHERE id = $1', [u.id]);
    await c.query(
      `INSERT INTO users (id, email, display_name, password_hash, birth_date, sex, height_cm, timezone, locale, unit_system, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'UTC', 'en', 'metric', $8, $8)`,
      [u.id, u.email, u.displayName, passwordHash, u.birthDate, u.sex, u.heightCm, u.createdAt],
    );
    const rows: Record<string, number> = {};
    for (const t of demoTables(p, u)) {
      await copyInto(c, t.table, t.columns, t.chunks());
      rows[t.table] = t.count();
    }
    await c.query(
      'INSERT INTO demo_seeds (user_id, seed, days, last_day, generator_version, row_counts) VALUES ($1, $2, $3, $4, $5, $6)',
      [u.id, p.seed, p.days, p.lastDay, GENERATOR_VERSION, JSON.stringify(rows)],
    );
    await c.query('COMMIT');
    return rows;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/**
 * Runs a transaction again when PostgreSQL chose it as a deadlock victim (40P01), up to `tries`
 * times. Parallel demo loads deadlock on real TimescaleDB: a load that creates a hypertable chunk
 * adds the chunk's foreign key to `users`, which takes a SHARE ROW EXCLUSIVE lock on `users`, while
 * each load holds ROW EXCLUSIVE on it from inserting its own user; two loads creating chunks at
 * once wait for each other. The victim's transaction is rolled back whole (loadDemoUser) and the
 * other goes on, so loading the victim again is safe; by then the chunks mostly exist.
 */
export async function retryOnDeadlock<T>(run: () => Promise<T>, onRetry: () => void = () => {}, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if ((e as { code?: string }).code !== '40P01' || attempt >= tries) throw e;
      onRetry();
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

const sum = (xs: Record<string, number>[]) => {
  const out: Record<string, number> = Object.fromEntries(DEMO_TABLES.map((t) => [t, 0]));
  for (const x of xs) for (const [k, v] of Object.entries(x)) out[k] = (out[k] ?? 0) + v;
  return out;
};

export async function seedDemo(conn: PgConnection, opts: SeedDemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  const p = opts.params;
  const control = await connect(conn);
  const extra: pg.Client[] = [];
  try {
    // Two seeds at once take turns (the second then finds the users up to date) instead of
    // racing on the same users' keys. A session lock: it ends with the connection, even on kill -9.
    if (!opts.dryRun) await control.query('SELECT pg_advisory_lock($1)', [DEMO_LOCK_KEY]);
    const { plan, markers: before } = await planDemo(control, opts.users, p);
    const results: DemoUserResult[] = plan.map((x) => ({ ...x, rows: {}, ms: 0 }));
    if (opts.dryRun) {
      return { dryRun: true, users: results, rows: sum([]), totals: sum(before.map((m) => m.row_counts)), passwordsUpdated: 0, ms: Math.round(performance.now() - t0), rowsPerSecond: 0 };
    }

    const gone = results.filter((r) => r.action === 'delete');
    if (gone.length) {
      await control.query('DELETE FROM users WHERE id = ANY($1::uuid[]) AND id IN (SELECT user_id FROM demo_seeds)', [gone.map((g) => g.id)]);
      opts.progress?.(`demo: deleted ${gone.length} demo user(s) beyond --users ${opts.users}`);
    }

    // A password changed in .env since the users were written: new hashes, no new data.
    let passwordsUpdated = 0;
    const current = results.filter((r) => r.action === 'up-to-date');
    if (current.length) {
      const h = await control.query<{ password_hash: string | null }>('SELECT password_hash FROM users WHERE id = $1', [current[0]!.id]);
      if (!(await verifyPassword(opts.password, h.rows[0]?.password_hash ?? ''))) {
        const hashes = await Promise.all(current.map(() => hashPassword(opts.password)));
        await control.query('BEGIN');
        for (let i = 0; i < current.length; i++) await control.query('UPDATE users SET password_hash = $2 WHERE id = $1', [current[i]!.id, hashes[i]]);
        await control.query('COMMIT');
        passwordsUpdated = current.length;
      }
    }

    const todo = results.filter((r) => r.action === 'create' || r.action === 'regenerate');
    // Hashing is deliberately slow (scrypt, 32 MiB each): each worker hashes its next user's
    // password just before that user's transaction, so at most `concurrency` hashes hold memory
    // at once and hashing overlaps the other workers' COPYs.
    const concurrency = Math.max(1, Math.min(opts.concurrency ?? 2, todo.length));
    const clients = [control];
    for (let i = 1; i < concurrency; i++) {
      const c = await connect(conn);
      extra.push(c);
      clients.push(c);
    }
    let next = 0;
    let done = 0;
    let written = 0;
    const loadStart = performance.now();
    await Promise.all(clients.map(async (c) => {
      for (;;) {
        const i = next++;
        if (i >= todo.length) return;
        const r = todo[i]!;
        const u0 = performance.now();
        const hash = await hashPassword(opts.password);
        r.rows = await retryOnDeadlock(() => loadDemoUser(c, p, demoProfile(p, r.index), hash), () => opts.progress?.(`demo: ${r.email} was chosen as a deadlock victim (two loads creating the same hypertable chunks); loading it again`));
        r.ms = Math.round(performance.now() - u0);
        done++;
        written += Object.values(r.rows).reduce((a, b) => a + b, 0);
        const rate = Math.round(written / Math.max(0.001, (performance.now() - loadStart) / 1000));
        opts.progress?.(`demo: ${r.action === 'create' ? 'created' : 'regenerated'} ${r.email} (${done}/${todo.length}, ${written.toLocaleString('en-US')} rows, ${rate.toLocaleString('en-US')} rows/s)`);
      }
    }));
    const after = await markers(control);
    const secs = (performance.now() - loadStart) / 1000;
    const rows = sum(todo.map((r) => r.rows));
    const total = Object.values(rows).reduce((a, b) => a + b, 0);
    return {
      dryRun: false, users: results, rows, totals: sum(after.map((m) => m.row_counts)), passwordsUpdated,
      ms: Math.round(performance.now() - t0), rowsPerSecond: total && secs > 0 ? Math.round(total / secs) : 0,
    };
  } finally {
    await Promise.all([control, ...extra].map((c) => c.end().catch(() => {})));
  }
}

/** Deletes the demo users (those with a demo_seeds row) and, by cascade, all their rows. */
export async function resetDemo(conn: PgConnection): Promise<{ users: number }> {
  const c = await connect(conn);
  try {
    const r = await c.query('DELETE FROM users WHERE id IN (SELECT user_id FROM demo_seeds)');
    return { users: r.rowCount ?? 0 };
  } finally {
    await c.end().catch(() => {});
  }
}

/** How many demo users there are (for `--reset --dry-run` and status lines). */
export async function demoUserCount(conn: PgConnection): Promise<number> {
  const c = await connect(conn);
  try {
    return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM demo_seeds')).rows[0]!.n;
  } finally {
    await c.end().catch(() => {});
  }
}
