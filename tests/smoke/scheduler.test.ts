/** The smoke check scheduler: parallelism, per-check timeouts, prerequisites, interruption (pure, real timers). */
import { describe, expect, it } from 'vitest';
import { runChecks, SkipCheck, type CheckDef } from '../../src/smoke/scheduler.js';

const wait = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

const check = (id: string, run: CheckDef['run'], extra: Partial<CheckDef> = {}): CheckDef => ({ id, group: id.split('.')[0]!, name: id, timeoutMs: 2000, run, ...extra });

describe('runChecks', () => {
  it('runs independent checks at the same time: five 300 ms checks take about 300 ms, not 1.5 s', async () => {
    let running = 0;
    let peak = 0;
    const defs = Array.from({ length: 5 }, (_, i) => check(`g.c${i}`, async () => {
      running++;
      peak = Math.max(peak, running);
      await wait(300);
      running--;
      return `done ${i}`;
    }));
    const t0 = performance.now();
    const rs = await runChecks(defs, { signal: new AbortController().signal });
    const wall = performance.now() - t0;
    expect(peak).toBe(5);
    expect(wall).toBeLessThan(700);
    expect(rs.map((r) => [r.id, r.status, r.message])).toEqual(defs.map((d, i) => [d.id, 'passed', `done ${i}`]));
    for (const r of rs) expect(r.durationMs).toBeGreaterThanOrEqual(290);
  });

  it('a check past its own timeout fails with the timeout as its cause; the others are not held up', async () => {
    const t0 = performance.now();
    const rs = await runChecks([
      check('g.hangs', () => new Promise(() => {}), { timeoutMs: 150 }),
      check('g.ignores-signal', async () => { await wait(5000); }, { timeoutMs: 200 }),
      check('g.quick', async () => 'ok'),
    ], { signal: new AbortController().signal });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(rs[0]).toMatchObject({ status: 'failed', message: 'timed out after 150 ms' });
    expect(rs[0]!.durationMs).toBeGreaterThanOrEqual(140);
    expect(rs[1]).toMatchObject({ status: 'failed', message: 'timed out after 200 ms' });
    expect(rs[2]).toMatchObject({ status: 'passed', message: 'ok' });
  });

  it('the timeout aborts the signal the check was given', async () => {
    let reason: unknown;
    await runChecks([check('g.a', async ({ signal }) => {
      await wait(10_000, signal).catch((e) => { reason = e; throw e; });
    }, { timeoutMs: 100 })], { signal: new AbortController().signal });
    expect((reason as Error).name).toBe('CheckTimeout');
  });

  it('a check starts when its prerequisites passed and receives their values; a failed prerequisite skips its dependents, naming it', async () => {
    const order: string[] = [];
    const rs = await runChecks([
      check('api.user', async () => { order.push('user start'); await wait(100); order.push('user end'); return { token: 't-1' }; }),
      check('api.data', async ({ results }) => { order.push('data start'); return `token ${(results.get('api.user') as { token: string }).token}`; }, { needs: ['api.user'] }),
      check('db.broken', async () => { throw new Error('connection refused\nsecond line'); }),
      check('db.after', async () => 'never', { needs: ['db.broken'] }),
      check('db.after2', async () => 'never', { needs: ['db.after'] }),
    ], { signal: new AbortController().signal });
    expect(order).toEqual(['user start', 'user end', 'data start']);
    expect(rs.map((r) => [r.id, r.status, r.message])).toEqual([
      ['api.user', 'passed', undefined],
      ['api.data', 'passed', 'token t-1'],
      ['db.broken', 'failed', 'connection refused'],
      ['db.after', 'skipped', 'not run: db.broken failed'],
      ['db.after2', 'skipped', 'not run: db.after was skipped'],
    ]);
  });

  it('SkipCheck reports the check as skipped with its reason', async () => {
    const [r] = await runChecks([check('neo4j.library', async () => { throw new SkipCheck('not seeded'); })], { signal: new AbortController().signal });
    expect(r).toMatchObject({ status: 'skipped', message: 'not seeded' });
  });

  it('an interruption ends running checks at once (failed: interrupted) and does not start the waiting ones', async () => {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error('SIGINT')), 100);
    const t0 = performance.now();
    const rs = await runChecks([
      check('g.long', async () => wait(5000), { timeoutMs: 10_000 }),
      check('g.next', async () => 'never', { needs: ['g.long'] }),
    ], { signal: ctl.signal });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(rs.map((r) => [r.status, r.message])).toEqual([['failed', 'interrupted'], ['skipped', 'not run: g.long failed']]);
  });

  it('refuses unknown prerequisites, duplicate ids and cycles before running anything', async () => {
    let ran = false;
    const run = async () => { ran = true; };
    const signal = new AbortController().signal;
    await expect(runChecks([check('a.x', run, { needs: ['a.nope'] })], { signal })).rejects.toThrow('check a.x needs unknown check a.nope');
    await expect(runChecks([check('a.x', run), check('a.x', run)], { signal })).rejects.toThrow('duplicate check id');
    await expect(runChecks([check('a.x', run, { needs: ['a.y'] }), check('a.y', run, { needs: ['a.x'] })], { signal })).rejects.toThrow(/dependency cycle/);
    expect(ran).toBe(false);
  });
});
