/**
 * Temporal end to end: the built worker (node dist/worker.js, prebundled workflows) against a
 * real Temporal server on a real PostgreSQL; the API starts dailySummary and reads its result;
 * the daily_summaries row is checked against values computed here; the nightly Schedule; the
 * built API process; SIGTERM on both.
 */
import { join } from 'node:path';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureNightlySchedule, ensureNightlyScheduleWithRetry } from '../../templates/api/src/temporal/schedule.js';
import { connectWithRetry, createWorker, startWorker } from '../../templates/api/src/temporal/worker-factory.js';
import { NIGHTLY_SCHEDULE_ID, SUMMARY_GRACE_MS } from '../../templates/api/src/temporal/shared.js';
import { createActivities } from '../../templates/api/src/temporal/activities.js';
import { addDays, localDay } from '../../templates/api/src/data/daily.js';
import { ensureNamespace } from '../../src/db/temporal/namespace.js';
import { freePort } from '../support/services/index.js';
import { buildApp, call, newUser, startStack, withClient, type Stack, type TestApp } from './harness.js';
import { buildTemplate, getJson, start, waitFor, type Proc } from './processes.js';

let stack: Stack;
let t: TestApp;
let dist: Awaited<ReturnType<typeof buildTemplate>>;
let worker: Proc;
let healthPort: number;
let client: Client;

beforeAll(async () => {
  [stack, dist] = await Promise.all([startStack({ temporal: true }), buildTemplate()]);
  t = await buildApp(stack);
  healthPort = await freePort();
  worker = start(join(dist.dir, 'worker.js'), { ...stack.env, HEALTH_PORT: String(healthPort), HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  client = new Client({ connection: await Connection.connect({ address: stack.temporalServer!.address }), namespace: 'helfy' });
}, 300_000);

afterAll(async () => {
  worker?.child.kill('SIGKILL');
  await client?.connection.close();
  await t?.close();
  await stack?.stop();
  dist?.cleanup();
});

const DAY = '2026-10-06';
const at = (h: number, m = 0) => new Date(Date.UTC(2026, 9, 6, h, m)).toISOString();

describe('the worker', () => {
  it('reports RUNNING on its health port once connected, with the prebundled workflows', async () => {
    const h = await waitFor('worker health 200', async () => {
      const r = await getJson(`http://127.0.0.1:${healthPort}/health`);
      return r.status === 200 ? r : undefined;
    }, 90_000);
    expect(h.body).toMatchObject({ status: 'ok', service: 'worker', version: '0.1.0', state: 'RUNNING' });
    const running = worker.out.map((l) => JSON.parse(l)).find((l) => l.msg === 'worker running');
    expect(running).toMatchObject({ prebundled: true, namespace: 'helfy' });
    expect((await fetch(`http://127.0.0.1:${healthPort}/other`)).status).toBe(404);
  });

  it('dailySummary: started by the API, run by the worker, upserts the daily_summaries row', async () => {
    const u = await newUser(t.app, 'summary');
    const other = await newUser(t.app, 'bystander');
    // The day's data, written directly (this file has no Neo4j for the exercise check).
    await withClient(stack.owner, async (c) => {
      const bio: [string, string, number, string][] = [
        [at(8), 'heart_rate', 60, 'bpm'],
        [at(12), 'heart_rate', 90, 'bpm'],
        [at(18), 'heart_rate', 75, 'bpm'],
        [at(9), 'steps', 4000, 'count'],
        [at(17), 'steps', 6500, 'count'],
        [at(7), 'weight', 81.2, 'kg'],
        [at(21), 'weight', 80.9, 'kg'],
        [at(6), 'resting_heart_rate', 52, 'bpm'],
        [at(6, 30), 'sleep', 420, 'min'],
        ['2026-10-05T23:59:59Z', 'heart_rate', 200, 'bpm'], // the day before: not counted
        ['2026-10-07T00:00:00Z', 'steps', 99999, 'count'], // the day after: not counted
      ];
      for (const [time, metric, value, unit] of bio) {
        await c.query(`INSERT INTO biometrics (time, user_id, metric, value, unit) VALUES ($1, $2, $3, $4, $5)`, [time, u.id, metric, value, unit]);
      }
      await c.query(`INSERT INTO biometrics (time, user_id, metric, value, unit) VALUES ($1, $2, 'steps', 123, 'count')`, [at(10), other.id]);
      const w = await c.query(`INSERT INTO workouts (time, user_id, name, status) VALUES ($1, $2, 'Legs', 'completed') RETURNING id`, [at(17, 30), u.id]);
      // A skipped workout's sets (planned, never done) count in neither sets nor volume, like the workout itself.
      const sk = await c.query(`INSERT INTO workouts (time, user_id, name, status) VALUES ($1, $2, 'Skipped', 'skipped') RETURNING id`, [at(19), u.id]);
      for (const n of [1, 2]) {
        await c.query(`INSERT INTO workout_sets (time, user_id, workout_id, set_number, exercise_id, reps, weight_kg) VALUES ($1, $2, $3, $4, 'Barbell_Squat', 10, 50)`, [at(19), u.id, sk.rows[0].id, n]);
      }
      for (const [n, reps, kg] of [[1, 5, 100], [2, 5, 100], [3, 8, 80]]) {
        await c.query(`INSERT INTO workout_sets (time, user_id, workout_id, set_number, exercise_id, reps, weight_kg) VALUES ($1, $2, $3, $4, 'Barbell_Squat', $5, $6)`, [at(17, 30), u.id, w.rows[0].id, n, reps, kg]);
      }
      await c.query(`INSERT INTO nutrition (time, user_id, food_id, meal, quantity_g, energy_kcal, protein_g, carbs_g, fat_g, fiber_g) VALUES ($1, $2, '20038', 'breakfast', 80, 311.2, 13.51, 53.02, 5.52, 8.48)`, [at(8), u.id]);
      await c.query(`INSERT INTO nutrition (time, user_id, food_id, meal, quantity_g, energy_kcal, protein_g) VALUES ($1, $2, '01001', 'dinner', 10, 71.7, 0.09)`, [at(19), u.id]);
    });

    const started = await call(t.app, 'POST', '/api/summaries/daily', { token: u.token, body: { day: DAY } });
    expect(started.status).toBe(202);
    expect(started.body.workflowId).toBe(`daily-summary:${u.id}:${DAY}`);
    const done = await waitFor('workflow completed', async () => {
      const r = await call(t.app, 'GET', `/api/summaries/daily/runs/${encodeURIComponent(started.body.workflowId)}`, { token: u.token });
      expect(r.status).toBe(200);
      return r.body.status === 'COMPLETED' ? r.body : undefined;
    }, 60_000, 300);
    const expected = {
      userId: u.id,
      day: DAY,
      steps: 10500,
      heartRateAvg: 75,
      heartRateMin: 60,
      heartRateMax: 90,
      restingHeartRate: 52,
      hrvAvg: null,
      weightKg: 80.9,
      sleepMinutes: 420,
      workouts: 1,
      sets: 3,
      volumeKg: 5 * 100 + 5 * 100 + 8 * 80,
      energyKcal: 311.2 + 71.7,
      proteinG: 13.51 + 0.09,
      carbsG: 53.02,
      fatG: 5.52,
      fiberG: 8.48,
    };
    expect(done.runId).toBe(started.body.runId);
    expect(Object.keys(done.result).sort()).toEqual(Object.keys(expected).sort());
    for (const [k, v] of Object.entries(expected)) {
      if (typeof v === 'number') expect(done.result[k], k).toBeCloseTo(v, 9);
      else expect(done.result[k], k).toBe(v);
    }
    const rows = await call(t.app, 'GET', `/api/summaries/daily?from=${DAY}&to=${DAY}`, { token: u.token });
    expect(rows.body.days).toHaveLength(1);
    expect(rows.body.days[0]).toMatchObject({ day: DAY, steps: 10500, sets: 3, workouts: 1, workflowId: started.body.workflowId });
    expect(rows.body.days[0].energyKcal).toBeCloseTo(382.9, 9);
    // Another user can neither read this run nor see the row.
    const peek = await call(t.app, 'GET', `/api/summaries/daily/runs/${encodeURIComponent(started.body.workflowId)}`, { token: other.token });
    expect(peek.status).toBe(404);
    expect((await call(t.app, 'GET', `/api/summaries/daily?from=${DAY}&to=${DAY}`, { token: other.token })).body.days).toEqual([]);
    // Re-running upserts the same row (one row per user and day).
    await withClient(stack.owner, (c) => c.query(`INSERT INTO biometrics (time, user_id, metric, value, unit) VALUES ($1, $2, 'steps', 500, 'count')`, [at(20), u.id]));
    const again = await call(t.app, 'POST', '/api/summaries/daily', { token: u.token, body: { day: DAY } });
    expect(again.body.runId).not.toBe(started.body.runId);
    await waitFor('second run', async () => {
      const r = await call(t.app, 'GET', `/api/summaries/daily/runs/${encodeURIComponent(again.body.workflowId)}`, { token: u.token });
      return r.body.status === 'COMPLETED' && r.body.runId === again.body.runId ? r : undefined;
    });
    const n = await withClient(stack.owner, (c) => c.query(`SELECT count(*)::int AS n, max(steps) AS steps FROM daily_summaries WHERE user_id = $1`, [u.id]));
    expect(n.rows[0]).toEqual({ n: 1, steps: 11000 });
    const m = await (await t.app.request('/metrics')).text();
    expect(m).toMatch(/helfy_workflow_starts_total\{workflow="dailySummary"\} 2/);
  });

  it('an unknown workflow id of the caller is 404; a bad day is 400', async () => {
    const u = await newUser(t.app, 'unknown');
    expect((await call(t.app, 'GET', `/api/summaries/daily/runs/${encodeURIComponent(`daily-summary:${u.id}:2020-01-01`)}`, { token: u.token })).status).toBe(404);
    const bad = await call(t.app, 'POST', '/api/summaries/daily', { token: u.token, body: { day: '3000-01-01' } });
    expect([bad.status, bad.body.error.message]).toEqual([400, 'day: must be between 1970 and today']);
  });

  it("the due summaries are each user's local yesterday, two hours after their midnight, once (fixed clock, three zones)", async () => {
    const tokyo = await newUser(t.app, 'due-tokyo');
    const la = await newUser(t.app, 'due-la');
    const utc = await newUser(t.app, 'due-utc');
    await withClient(stack.owner, async (c) => {
      await c.query(`UPDATE users SET timezone = 'Asia/Tokyo' WHERE id = $1`, [tokyo.id]);
      await c.query(`UPDATE users SET timezone = 'America/Los_Angeles' WHERE id = $1`, [la.id]);
    });
    const acts = createActivities({ pool: t.deps.pool });
    const dueAt = async (at: string) => {
      const page = await acts.listDueSummaries({ after: null, limit: 10_000, at, day: null });
      const of = (id: string) => page.due.find((d) => d.userId === id)?.day;
      return [of(tokyo.id), of(la.id), of(utc.id)];
    };
    // 2026-03-10 16:30Z: Tokyo 01:30 on the 11th (10th over for 1.5 h: not yet), LA 09:30 (PDT), UTC 16:30.
    expect(await dueAt('2026-03-10T16:30:00Z')).toEqual(['2026-03-09', '2026-03-09', '2026-03-09']);
    // An hour later Tokyo's 10th has been over for 2.5 h; the others still owe the 9th.
    expect(await dueAt('2026-03-10T17:30:00Z')).toEqual(['2026-03-10', '2026-03-09', '2026-03-09']);
    // 2026-03-11 09:30Z: LA 02:30 on the 11th (its 10th over by 2.5 h), UTC's 10th long over.
    expect(await dueAt('2026-03-11T09:30:00Z')).toEqual(['2026-03-10', '2026-03-10', '2026-03-10']);
    // A day already summarized is not due again; the others are.
    await withClient(stack.owner, (c) => c.query(`INSERT INTO daily_summaries (user_id, day, workflow_id, computed_at) VALUES ($1, '2026-03-10', 'test', now())`, [tokyo.id]));
    expect(await dueAt('2026-03-11T09:30:00Z')).toEqual([undefined, '2026-03-10', '2026-03-10']);
    // A backfill day is every user's, summarized or not.
    const all = await acts.listDueSummaries({ after: null, limit: 10_000, at: '2026-03-11T09:30:00Z', day: '2026-03-10' });
    expect(all.due.find((d) => d.userId === tokyo.id)).toEqual({ userId: tokyo.id, day: '2026-03-10' });
  });

  it("the Schedule exists (created by the worker), is idempotent; its run summarises each user's local yesterday, and a second run finds nothing due", async () => {
    const handle = client.schedule.getHandle(NIGHTLY_SCHEDULE_ID);
    const d = await waitFor('schedule', () => handle.describe().catch(() => undefined), 30_000);
    expect(d.spec.calendars?.length ?? 0).toBeGreaterThan(0); // the cron expression, as the server stores it
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'nightlyDailySummaries', taskQueue: stack.env.TEMPORAL_TASK_QUEUE });
    // A cron that does not fire while the test runs (the default is hourly): the triggers below are the only runs.
    expect(await ensureNightlySchedule(client, { taskQueue: stack.env.TEMPORAL_TASK_QUEUE!, cron: '30 2 1 1 *' })).toBe('updated');
    const list: string[] = [];
    for await (const s of client.schedule.list()) list.push(s.scheduleId);
    expect(list.filter((id) => id === NIGHTLY_SCHEDULE_ID)).toHaveLength(1);
    const users = (await withClient(stack.owner, (c) => c.query(`SELECT id, timezone FROM users`))).rows as { id: string; timezone: string }[];
    const dueDay = (tz: string, t: number) => addDays(localDay(new Date(t - SUMMARY_GRACE_MS), tz), -1);
    const hasRow = async () => {
      const r = await withClient(stack.owner, (c) => c.query(`SELECT user_id, to_char(day, 'YYYY-MM-DD') AS day FROM daily_summaries`));
      return new Set(r.rows.map((x) => `${x.user_id} ${x.day}`));
    };
    const runOnce = async (previous?: string) => {
      await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
      return waitFor('scheduled run result', async () => {
        const action = (await handle.describe()).info.recentActions.at(-1)?.action;
        if (action?.type !== 'startWorkflow' || action.workflow.workflowId === previous) return undefined;
        expect(action.workflow.workflowId.startsWith(`${NIGHTLY_SCHEDULE_ID}-run`)).toBe(true);
        const h = client.workflow.getHandle(action.workflow.workflowId);
        return (await h.describe()).status.name === 'COMPLETED' ? { id: action.workflow.workflowId, result: await h.result() } : undefined;
      }, 60_000, 300);
    };
    const before = Date.now();
    const had = await hasRow();
    const first = await runOnce();
    const after = Date.now();
    // Every user's own local yesterday (the clock read before the trigger and after the run: the
    // run's time lies between) now has a row; those that had one already were not due.
    const rows = await waitFor('summary rows', async () => {
      const got = await hasRow();
      return users.every((u) => [before, after].some((tt) => got.has(`${u.id} ${dueDay(u.timezone, tt)}`))) ? got : undefined;
    }, 60_000, 500);
    expect(rows.size).toBeGreaterThan(had.size);
    expect(first.result).toMatchObject({ day: null, users: users.length, failed: 0 });
    expect(first.result.summarized).toBe(rows.size - had.size);
    // A second run: every user's day is summarized already.
    const second = await runOnce(first.id);
    expect(second.result).toEqual({ day: null, users: users.length, summarized: 0, failed: 0 });
  });

  it('the nightly run pages users with continueAsNew: one page per run, the last run returns the totals', async () => {
    const users = (await withClient(stack.owner, (c) => c.query(`SELECT count(*)::int AS n FROM users`))).rows[0].n as number;
    expect(users).toBeGreaterThanOrEqual(3);
    const day = '2026-09-01';
    const h = await client.workflow.start('nightlyDailySummaries', {
      args: [day, { pageSize: 2 }],
      taskQueue: stack.env.TEMPORAL_TASK_QUEUE!,
      workflowId: `nightly-paging-test-${Date.now()}`,
    });
    expect(await h.result()).toEqual({ day, users, summarized: users, failed: 0 });
    // Follow the chain of runs: every full page continued as new, the last one completed.
    const statuses: string[] = [];
    let runId: string | undefined = h.firstExecutionRunId;
    while (runId) {
      const run: ReturnType<typeof client.workflow.getHandle> = client.workflow.getHandle(h.workflowId, runId);
      statuses.push((await run.describe()).status.name);
      const history: Awaited<ReturnType<typeof run.fetchHistory>> = await run.fetchHistory();
      const events = history.events ?? [];
      runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    expect(statuses).toEqual([...Array(Math.floor(users / 2)).fill('CONTINUED_AS_NEW'), 'COMPLETED']);
    const rows = await withClient(stack.owner, (c) => c.query(`SELECT count(*)::int AS n FROM daily_summaries WHERE day = $1`, [day]));
    expect(rows.rows[0].n).toBe(users);
  });

  it("the worker's schedule client connects with retry: refused twice (a real closed port), then the real server; an abort ends the wait", async () => {
    const refused = await freePort(); // nothing listens there
    const address = stack.temporalServer!.address;
    let attempts = 0;
    const retries: number[] = [];
    const result = await ensureNightlyScheduleWithRetry({
      connect: () => Connection.connect({ address: ++attempts <= 2 ? `127.0.0.1:${refused}` : address, connectTimeout: '1s' }),
      namespace: 'helfy',
      taskQueue: stack.env.TEMPORAL_TASK_QUEUE!,
      cron: '15 3 * * *',
      scheduleId: 'helfy-test-retried-schedule',
      onRetry: (attempt) => retries.push(attempt),
    });
    expect([result, attempts, retries]).toEqual(['created', 3, [1, 2]]);
    const handle = client.schedule.getHandle('helfy-test-retried-schedule');
    expect((await handle.describe()).action).toMatchObject({ type: 'startWorkflow', workflowType: 'nightlyDailySummaries' });
    await handle.delete();
    // SIGTERM while waiting: the abort ends the back-off at once, nothing is created.
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const s0 = Date.now();
    await expect(
      ensureNightlyScheduleWithRetry({
        connect: () => Connection.connect({ address: `127.0.0.1:${refused}`, connectTimeout: '1s' }),
        namespace: 'helfy',
        taskQueue: stack.env.TEMPORAL_TASK_QUEUE!,
        cron: '15 3 * * *',
        scheduleId: 'helfy-test-aborted-schedule',
        signal: abort.signal,
      }),
    ).rejects.toThrow(/aborted|connect/i);
    expect(Date.now() - s0).toBeLessThan(2500);
    await expect(client.schedule.getHandle('helfy-test-aborted-schedule').describe()).rejects.toThrow();
  });

  it('/health/ready sees Temporal up', async () => {
    const r = await call(t.app, 'GET', '/health/ready');
    expect(r.body.checks.temporal.status).toBe('ok');
    expect(r.body.checks.postgres.status).toBe('ok');
  });

  it('a namespace registered after the worker started: the worker waits, then runs (no stale slot)', async () => {
    const port = await freePort();
    const late = start(join(dist.dir, 'worker.js'), { ...stack.env, TEMPORAL_NAMESPACE: 'late-ns', HEALTH_PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    try {
      await waitFor('two namespace warnings', async () => (late.out.filter((l) => l.includes('namespace not available yet')).length >= 2 ? true : undefined), 30_000);
      expect((await getJson(`http://127.0.0.1:${port}/health`)).status).toBe(503);
      await ensureNamespace({ address: stack.temporalServer!.address, namespace: 'late-ns', retentionHours: 24 });
      const h = await waitFor('late worker RUNNING', async () => {
        const r = await getJson(`http://127.0.0.1:${port}/health`);
        return r.status === 200 ? r : undefined;
      }, 60_000);
      expect(h.body.state).toBe('RUNNING');
      expect(late.out.join('\n')).not.toContain('overlapping worker task types');
    } finally {
      late.child.kill('SIGTERM');
      await late.exited;
    }
  });

  it('after a failed Worker.create the next attempt starts on a fresh connection (no "overlapping" slot error)', async () => {
    const pool = t.deps.pool;
    const workflows = { bundlePath: join(dist.dir, 'workflow-bundle.js') };
    // What the SDK does: two creates on one connection for a namespace that does not exist yet.
    const conn = await connectWithRetry(stack.temporalServer!.address);
    const errors: string[] = [];
    for (let i = 0; i < 2; i++) {
      errors.push(await createWorker({ connection: conn, namespace: 'ghost-ns', taskQueue: 'ghost', pool, workflows }).then(() => 'created', (e: Error) => e.message));
    }
    await conn.close();
    expect(errors[0]).toMatch(/not found/i);
    // The SDK 1.24.0 behaviour the reconnect works around: the second create on that connection
    // usually fails with "overlapping worker task types" — but only while the first failed
    // worker's slot is still held, which is a race inside the SDK (seen both ways in full runs of
    // this file), so either refusal is accepted here. The assertions on startWorker below are the test.
    expect(errors[1]).toMatch(/overlapping worker task types|not found/i);
    // startWorker, made to go through the failed-create path (no namespace wait).
    const warnings: Record<string, unknown>[] = [];
    const starting = startWorker({
      address: stack.temporalServer!.address,
      namespace: 'ghost2-ns',
      taskQueue: 'ghost2',
      pool,
      workflows,
      checkNamespace: false,
      log: { warn: (msg, f) => void warnings.push({ msg, ...f }) },
    });
    await waitFor('two failed creates', async () => (warnings.filter((w) => w.msg === 'worker not created yet').length >= 2 ? true : undefined), 30_000);
    await ensureNamespace({ address: stack.temporalServer!.address, namespace: 'ghost2-ns', retentionHours: 24 });
    const { worker: w, connection, attempts } = await starting;
    try {
      expect(attempts).toBeGreaterThanOrEqual(3);
      expect(warnings.map((x) => String(x.error))).not.toContainEqual(expect.stringMatching(/overlapping/));
      const running = w.run();
      await waitFor('RUNNING', async () => (w.getState() === 'RUNNING' ? true : undefined), 20_000);
      w.shutdown();
      await running;
    } finally {
      await connection.close();
    }
  });

  it('SIGTERM: the worker drains and exits 0 well inside 10 s', async () => {
    const t0 = Date.now();
    worker.child.kill('SIGTERM');
    const e = await worker.exited;
    expect(e.code).toBe(0);
    expect(e.at - t0).toBeLessThan(10_000);
    expect(worker.out.map((l) => JSON.parse(l).msg)).toContain('worker stopped');
  });
});

describe('the API process (dist/server.js)', () => {
  it('exits 1 naming a missing or bad variable, never printing a secret', async () => {
    const { JWT_SECRET: _, ...noJwt } = stack.env;
    const p1 = start(join(dist.dir, 'server.js'), noJwt);
    expect((await p1.exited).code).toBe(1);
    expect(p1.err).toEqual(['helfy-api: JWT_SECRET is missing']);
    const p2 = start(join(dist.dir, 'server.js'), { ...stack.env, DATABASE_URL: 'mysql://helfy_api:hunter2-secret@db/helfy_app' });
    expect((await p2.exited).code).toBe(1);
    expect(p2.err).toEqual(['helfy-api: DATABASE_URL is invalid (must be a postgres:// URL)']);
    const p3 = start(join(dist.dir, 'server.js'), { ...stack.env, PORT: 'eighty' });
    expect((await p3.exited).code).toBe(1);
    expect(p3.err[0]).toMatch(/^helfy-api: PORT is invalid: /);
    const p4 = start(join(dist.dir, 'worker.js'), { ...stack.env, TEMPORAL_ADDRESS: 'temporal' });
    expect((await p4.exited).code).toBe(1);
    expect(p4.err).toEqual(['helfy-worker: TEMPORAL_ADDRESS is invalid: must be host:port']);
  });

  it('serves /health and /health/ready over HTTP; SIGTERM finishes the in-flight request and exits 0', async () => {
    const port = await freePort();
    const api = start(join(dist.dir, 'server.js'), { ...stack.env, PORT: String(port), HOST: '127.0.0.1' });
    try {
      const h = await waitFor('api /health', () => getJson(`http://127.0.0.1:${port}/health`), 30_000);
      expect(h).toEqual({ status: 200, body: { status: 'ok', service: 'api', version: '0.1.0' } });
      const ready = await getJson(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.body.checks.postgres.status).toBe('ok');
      const u = await newUser(t.app, 'inflight');
      const points = Array.from({ length: 10_000 }, (_, i) => ({ time: new Date(Date.UTC(2026, 8, 1) + i * 60_000).toISOString(), metric: 'heart_rate', value: 70 }));
      const inflight = fetch(`http://127.0.0.1:${port}/api/biometrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${u.token}` },
        body: JSON.stringify({ points }),
      });
      await new Promise((r) => setTimeout(r, 30));
      const t0 = Date.now();
      api.child.kill('SIGTERM');
      const res = await inflight;
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ inserted: 10_000, updated: 0, duplicates: 0 });
      const e = await api.exited;
      expect(e.code).toBe(0);
      // The keep-alive socket of the finished request does not hold the exit back.
      expect(e.at - t0).toBeLessThan(3_000);
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
      expect(api.out.map((l) => JSON.parse(l).msg)).toEqual(expect.arrayContaining(['listening', 'shutting down', 'stopped']));
    } finally {
      api.child.kill('SIGKILL');
    }
  });
});
