import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { helfy, REPO } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(`${REPO}/package.json`, 'utf8')) as { version: string };

describe('helfy basics (built binary)', () => {
  it('--version prints the package version', async () => {
    const r = await helfy(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(r.stderr).toBe('');
  });

  it('every command shows one or two examples in its --help, each using only flags the command has', async () => {
    const { COMMANDS } = await import('../../src/commands/index.js');
    type Spec = (typeof COMMANDS)[number];
    const leaves = (specs: Spec[], path: string[] = []): { path: string[]; spec: Spec }[] =>
      specs.flatMap((s) => [...(s.load ? [{ path: [...path, s.name], spec: s }] : []), ...leaves((s.subcommands ?? []) as Spec[], [...path, s.name])]);
    const all = leaves(COMMANDS);
    expect(all.length).toBeGreaterThan(20);
    for (const { path, spec } of all) {
      expect(spec.examples?.length, `helfy ${path.join(' ')}`).toBeGreaterThanOrEqual(1);
      expect(spec.examples!.length).toBeLessThanOrEqual(2);
      for (const e of spec.examples!) {
        const line = e.split('#')[0]!.trim();
        expect(line.startsWith(`helfy ${path.join(' ')}`), e).toBe(true);
        for (const f of line.match(/--[a-z-]+/g) ?? []) expect(['--yes', '--json', ...(spec.options ?? []).map((o) => o.flags)].some((o) => o.includes(f)), `${e}: ${f}`).toBe(true);
      }
    }
    const r = await helfy(['backup', 'prune', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nExamples:\n  helfy backup prune --keep-last 3 --keep-daily 7 --dry-run +# what would go\n/);
  });

  it('--help lists every command on stdout', async () => {
    const r = await helfy(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['init', 'doctor', 'config']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    for (const f of ['--json', '--yes', '--verbose', '--quiet', '--cwd', '--no-color']) expect(r.stdout).toContain(f);
  });

  it('an unknown command suggests the closest one and exits 2', async () => {
    const r = await helfy(['doctr']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'doctr'");
    expect(r.stderr).toContain('Did you mean doctor?');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('an unknown flag suggests the closest one and exits 2', async () => {
    const r = await helfy(['init', '--forse']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--forse'");
    expect(r.stderr).toContain('Did you mean --force?');
  });

  it('--json turns a usage error into one JSON error document on stdout', async () => {
    const r = await helfy(['--json', 'nope']);
    expect(r.code).toBe(2);
    expect(r.json).toEqual({ error: { code: 'USAGE', message: "unknown command 'nope'", hint: expect.stringContaining('helfy --help') } });
    expect(r.stderr).toBe('');
  });
});

describe('command groups', () => {
  it('a group without its subcommand: help on stderr, exit 2; with --json one error document', async () => {
    const r = await helfy(['migrate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: helfy migrate');
    const j = await helfy(['--json', 'migrate']);
    expect(j.code).toBe(2);
    expect(j.json).toEqual({ error: { code: 'USAGE', message: 'a subcommand is missing', hint: expect.any(String) } });
  });

  it('db bootstrap refuses a timeout that is not a duration', async () => {
    const r = await helfy(['db', 'bootstrap', '--neo4j-timeout', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--neo4j-timeout "soon" is not a duration');
  });

  it('up --seed is refused before anything starts when it cannot seed', async () => {
    const noWait = await helfy(['up', '--seed', '--no-wait']);
    expect(noWait.code).toBe(2);
    expect(noWait.stderr).toContain('--seed needs a healthy stack: it cannot be combined with --no-wait');
    // temporal needs postgres but not neo4j.
    const partial = await helfy(['up', 'temporal', '--seed', '--json']);
    expect(partial.code).toBe(2);
    expect(partial.json.error).toMatchObject({ code: 'USAGE', message: '--seed needs neo4j in the stack' });
  });

  it('migrate up --force-unlock without a terminal or --yes names the flag', async () => {
    const dir = (await import('../helpers/cli.js')).tempDir();
    await helfy(['init', '--yes'], { cwd: dir });
    const r = await helfy(['migrate', 'up', '--force-unlock'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
  });
});
