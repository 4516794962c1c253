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
