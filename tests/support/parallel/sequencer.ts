/**
 * Orders the test files for two workers (vitest.config.ts) so that the files of an exclusive group
 * (./groups.ts) follow each other on one worker while the other worker runs the rest, instead of
 * both workers picking a Docker file and one of them waiting on the group's lock.
 *
 * It simulates the run: two lanes, each taking the next file when it is free; a lane takes the
 * longest file of a group that is free at that moment, else the longest file of no group, else
 * (only group files left) the one whose group frees first. Durations come from tests/timings.json
 * (seconds per file, written from a run's JUnit report by `node scripts/test-summary.mjs <junit>
 * --timings tests/timings.json`); a file missing there counts 300 s in a group, 30 s otherwise.
 * Only the order depends on this: the locks keep the groups exclusive whatever the estimates.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { groupOf } from './groups.js';

const REPO = resolve(import.meta.dirname, '../../..');
const TIMINGS = resolve(REPO, 'tests/timings.json');

export function laneOrder<T>(items: { item: T; group?: string; seconds: number }[], lanes: number): T[] {
  const left = [...items].sort((a, b) => b.seconds - a.seconds);
  const free = Array.from({ length: lanes }, () => 0);
  const groupFree = new Map<string, number>();
  const order: T[] = [];
  while (left.length) {
    const lane = free.indexOf(Math.min(...free));
    const t = free[lane]!;
    let i = left.findIndex((x) => x.group !== undefined && (groupFree.get(x.group) ?? 0) <= t);
    if (i < 0) i = left.findIndex((x) => x.group === undefined);
    if (i < 0) {
      const soonest = Math.min(...left.map((x) => groupFree.get(x.group!) ?? 0));
      i = left.findIndex((x) => (groupFree.get(x.group!) ?? 0) === soonest);
    }
    const [x] = left.splice(i, 1);
    const start = x!.group === undefined ? t : Math.max(t, groupFree.get(x!.group) ?? 0);
    free[lane] = start + x!.seconds;
    if (x!.group !== undefined) groupFree.set(x!.group, free[lane]!);
    order.push(x!.item);
  }
  return order;
}

export class LaneSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const timings = existsSync(TIMINGS) ? (JSON.parse(readFileSync(TIMINGS, 'utf8')) as Record<string, number>) : {};
    const lanes = Number(this.ctx.config.maxWorkers) || 1;
    return laneOrder(
      files.map((spec) => {
        const rel = relative(REPO, spec.moduleId).replace(/\\/g, '/');
        const group = groupOf(rel);
        return { item: spec, group, seconds: timings[rel] ?? (group ? 300 : 30) };
      }),
      lanes,
    );
  }
}
