import { describe, expect, it } from 'vitest';
import { EXCLUSIVE_GROUPS, groupOf } from './groups.js';
import { laneOrder } from './sequencer.js';

/** Replays an order the way the pool runs it: the next file goes to the first free worker; a group file waits for its group. */
function replay(order: string[], info: Record<string, { group?: string; seconds: number }>, lanes: number) {
  const free = Array.from({ length: lanes }, () => 0);
  const groupFree = new Map<string, number>();
  let waited = 0;
  for (const f of order) {
    const lane = free.indexOf(Math.min(...free));
    const { group, seconds } = info[f]!;
    const start = group ? Math.max(free[lane]!, groupFree.get(group) ?? 0) : free[lane]!;
    waited += start - free[lane]!;
    free[lane] = start + seconds;
    if (group) groupFree.set(group, free[lane]!);
  }
  return { total: Math.max(...free), waited };
}

describe('the lane sequencer', () => {
  const info: Record<string, { group?: string; seconds: number }> = {
    d1: { group: 'docker', seconds: 400 },
    d2: { group: 'docker', seconds: 300 },
    d3: { group: 'docker', seconds: 200 },
    w1: { group: 'web', seconds: 60 },
    w2: { group: 'web', seconds: 60 },
    ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`n${i}`, { seconds: 10 + i }])),
  };
  const items = Object.entries(info).map(([item, v]) => ({ item, ...v }));

  it('keeps every file, and with two lanes never makes a group file wait', () => {
    const order = laneOrder(items, 2);
    expect([...order].sort()).toEqual(Object.keys(info).sort());
    const { total, waited } = replay(order, info, 2);
    expect(waited).toBe(0);
    // The docker files alone take 900 s; everything else (1,065 s) fits beside them.
    expect(total).toBeLessThanOrEqual(1100);
  });

  it('beats the longest-first order, where both lanes start on docker files', () => {
    const naive = items.sort((a, b) => b.seconds - a.seconds).map((x) => x.item);
    expect(replay(naive, info, 2).waited).toBeGreaterThan(0);
    expect(replay(laneOrder(items, 2), info, 2).total).toBeLessThan(replay(naive, info, 2).total);
  });

  it('with one lane it is a plain order of all files', () => {
    expect(laneOrder(items, 1)).toHaveLength(items.length);
  });

  it('the groups name files that exist, each in one group only', async () => {
    const { existsSync } = await import('node:fs');
    const all = Object.values(EXCLUSIVE_GROUPS).flat();
    expect(new Set(all).size).toBe(all.length);
    for (const f of all) expect([f, existsSync(f)]).toEqual([f, true]);
    expect(groupOf('tests/stack/stack.e2e.test.ts')).toBe('docker');
    expect(groupOf('tests/unit/config.test.ts')).toBeUndefined();
  });
});

describe('the group lock', () => {
  it('a second holder waits until the first releases; a dead owner is taken over', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { acquireGroupLock } = await import('./lock.js');
    const root = mkdtempSync(join(tmpdir(), 'helfy-lock-test-'));
    try {
      const release1 = await acquireGroupLock('g', 'a.test.ts', root);
      let second = false;
      const p2 = acquireGroupLock('g', 'b.test.ts', root).then((r) => {
        second = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 1200));
      expect(second).toBe(false);
      release1();
      const release2 = await p2;
      expect(second).toBe(true);
      release2();

      // A lock left by a process that is gone.
      const { execFileSync } = await import('node:child_process');
      const deadPid = Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"']).toString().trim());
      mkdirSync(join(root, 'g.lock'));
      writeFileSync(join(root, 'g.lock', 'owner.json'), JSON.stringify({ pid: deadPid, file: 'gone.test.ts' }));
      const t0 = Date.now();
      const release3 = await acquireGroupLock('g', 'c.test.ts', root);
      expect(Date.now() - t0).toBeLessThan(5000);
      release3();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
