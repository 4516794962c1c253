/**
 * What `helfy export` refuses: each a one-line error with a hint and a documented exit code, and
 * nothing written. An earlier export of the same kind is replaced without --force.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/errors.js';
import { helfy, tempDir } from '../helpers/cli.js';
import { filesIn, workspace } from './harness.js';

let ws: string;

beforeAll(async () => {
  ws = (await workspace('bad')).dir;
}, 120_000);

/** The error as the user sees it: exit code, a one-line message and a hint line, and the --json document. */
async function refused(cwd: string, args: string[], code: string, exit: number): Promise<string> {
  const human = await helfy(['export', ...args], { cwd });
  expect(human.code, human.stderr).toBe(exit);
  const lines = human.stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^error: /);
  expect(lines.filter((l) => l.startsWith('error: '))).toHaveLength(1);
  expect(lines.some((l) => l.startsWith('hint: '))).toBe(true);
  expect(human.stdout).toBe('');
  const json = await helfy(['export', ...args, '--json'], { cwd });
  expect(json.code).toBe(exit);
  expect(json.json.error.code).toBe(code);
  expect(json.json.error.hint).toBeTruthy();
  return lines[0]!;
}

describe('helfy export: bad input', () => {
  it('no workspace: exit 2 NO_WORKSPACE, nothing written', async () => {
    const dir = tempDir();
    const line = await refused(dir, ['kubernetes', '--out', 'k8s'], 'NO_WORKSPACE', ExitCode.Usage);
    expect(line).toContain('no helfy workspace');
    expect(filesIn(dir)).toEqual([]);
  });

  it.each([
    ['https://ghcr.io/acme', 'registry'],
    ['ghcr.io/Acme', 'registry'],
    ['ghcr.io/acme/', 'registry'],
    ['ghcr.io//acme', 'registry'],
    ['acme/api:1.0', 'registry'],
  ])('a malformed --registry %s: exit 2 USAGE naming the flag', async (registry) => {
    const line = await refused(ws, ['kubernetes', '--out', 'k8s', '--registry', registry], 'USAGE', ExitCode.Usage);
    expect(line).toContain('--registry');
    expect(filesIn(ws).some((f) => f.startsWith('k8s'))).toBe(false);
  });

  it.each(['-rc1', 'v 1', 'a/b', 'latest', 'x'.repeat(129)])('a malformed --tag %s: exit 2 USAGE naming the flag', async (tag) => {
    const line = await refused(ws, ['swarm', '--out', 'sw', `--tag=${tag}`], 'USAGE', ExitCode.Usage);
    expect(line).toContain('--tag');
    expect(filesIn(ws).some((f) => f.startsWith('sw'))).toBe(false);
  });

  it('a malformed --namespace and a missing --out: exit 2 USAGE', async () => {
    expect(await refused(ws, ['kubernetes', '--out', 'k8s', '--namespace', 'Helfy_Prod'], 'USAGE', ExitCode.Usage)).toContain('--namespace');
    expect(await refused(ws, ['kubernetes'], 'USAGE', ExitCode.Usage)).toContain('--out');
  });

  it('an --out folder holding other files: exit 2 OUTPUT_NOT_EMPTY, the folder untouched; --force replaces it', async () => {
    for (const target of ['kubernetes', 'swarm']) {
      const out = join(ws, `busy-${target}`);
      mkdirSync(out);
      writeFileSync(join(out, 'notes.txt'), 'mine');
      const line = await refused(ws, [target, '--out', out], 'OUTPUT_NOT_EMPTY', ExitCode.Usage);
      expect(line).toContain('notes.txt');
      expect(filesIn(out)).toEqual(['notes.txt']);
      expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
      const forced = await helfy(['export', target, '--out', out, '--force', '--json'], { cwd: ws });
      expect(forced.code, forced.stderr).toBe(0);
      expect(filesIn(out)).not.toContain('notes.txt');
      expect(filesIn(out)).toEqual([...forced.json.files, '.helfy-export.json'].sort());
    }
    // No temporary folder is left beside them.
    expect(filesIn(ws).filter((f) => f.includes('.helfy-tmp-') || f.includes('.helfy-old-'))).toEqual([]);
  });

  it('an earlier export of the same kind is replaced without --force; of the other kind it is refused', async () => {
    const first = await helfy(['export', 'kubernetes', '--out', 'again', '--json'], { cwd: ws });
    expect(first.code, first.stderr).toBe(0);
    const second = await helfy(['export', 'kubernetes', '--out', 'again', '--tag', '2.0.0', '--json'], { cwd: ws });
    expect(second.code, second.stderr).toBe(0);
    expect(readFileSync(join(ws, 'again', 'api.yaml'), 'utf8')).toContain('helfy-local/api:2.0.0');
    await refused(ws, ['swarm', '--out', 'again'], 'OUTPUT_NOT_EMPTY', ExitCode.Usage);
  });

  it('a folder that cannot be written: exit 1 FS_ERROR, no temporary folder left', async () => {
    writeFileSync(join(ws, 'plain-file'), 'x');
    const line = await refused(ws, ['kubernetes', '--out', 'plain-file/k8s'], 'FS_ERROR', ExitCode.Failed);
    expect(line).toContain('cannot write the export');
    expect(filesIn(ws).filter((f) => f.includes('.helfy-tmp-') || f.includes('k8s/'))).toEqual([]);
  });

  it('an --out that holds the workspace is refused even with --force', async () => {
    const line = await refused(join(ws), ['kubernetes', '--out', '.', '--force'], 'USAGE', ExitCode.Usage);
    expect(line).toContain('holds the workspace');
    expect(filesIn(ws).some((f) => f === 'kustomization.yaml')).toBe(false);
  });
});
