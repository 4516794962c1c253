/**
 * The coverage pipeline of `npm test` (tests/coverage/provider.mjs): a nested vitest runs the
 * fixture suite (tests/coverage/fixture), whose test calls one function in its worker and runs
 * another only in a built child process. With helfy's provider both count as run and the function
 * nothing calls does not; vitest's stock v8 provider, on the same suite, misses the child.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const FIXTURE = resolve(import.meta.dirname, 'fixture');
const LIB = join(FIXTURE, 'src/lib.ts');
const VITEST = resolve(import.meta.dirname, '../../node_modules/vitest/vitest.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'helfy-coverage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface FileCoverage {
  statementMap: Record<string, { start: { line: number } }>;
  s: Record<string, number>;
}

/** Runs the fixture suite with coverage; returns lib.ts's hits per line (a statement counts on the
 *  line it starts, as istanbul's line coverage does) and vitest's output. */
async function runFixture(name: string, args: string[] = []): Promise<{ lines: Map<number, number>; output: string }> {
  const env: Record<string, string | undefined> = { ...process.env, FIXTURE_OUT: join(tmp, `${name}-out`) };
  // The outer run's own coverage and worker state stay out of the nested run.
  for (const k of Object.keys(env)) if (k === 'HELFY_CHILD_V8_COVERAGE' || k.startsWith('VITEST')) delete env[k];
  // Node passes its NODE_V8_COVERAGE on to every child unless the child's env sets it; empty = off.
  env.NODE_V8_COVERAGE = '';
  const reports = join(tmp, `${name}-coverage`);
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [VITEST, 'run', '--root', FIXTURE, '--coverage', `--coverage.reportsDirectory=${reports}`, ...args], { env, encoding: 'utf8', timeout: 90_000 });
  const final = JSON.parse(readFileSync(join(reports, 'coverage-final.json'), 'utf8')) as Record<string, FileCoverage>;
  const file = final[LIB];
  if (!file) throw new Error(`no coverage for ${LIB}; files: ${Object.keys(final).join(', ')}`);
  const lines = new Map<number, number>();
  for (const [id, loc] of Object.entries(file.statementMap)) lines.set(loc.start.line, Math.max(lines.get(loc.start.line) ?? 0, file.s[id] ?? 0));
  return { lines, output: stdout + stderr };
}

describe('coverage of child processes', () => {
  it('counts code run only by a child process, through its source map, and nothing else', async () => {
    const { lines, output } = await runFixture('helfy');
    expect(lines.get(3)).toBeGreaterThan(0); // inProcess: in vitest's worker
    expect(lines.get(7)).toBeGreaterThan(0); // childOnly: only in the child
    expect(lines.get(10)).toBeGreaterThan(0);
    expect(lines.get(8)).toBe(0); // the branch the child did not take
    expect(lines.get(14)).toBe(0); // neverCalled
    // One child (the worker itself is measured by vitest, not recorded a second time).
    expect(output).toContain('child processes: 1 measured, 1 of their scripts mapped to included sources');
  });

  it("vitest's own v8 provider, on the same suite, sees only the worker", async () => {
    const { lines } = await runFixture('stock', ['--coverage.provider=v8']);
    expect(lines.get(3)).toBeGreaterThan(0);
    expect(lines.get(7)).toBe(0);
    expect(lines.get(10)).toBe(0);
  });
});
