/**
 * The native config hash (label dev.helfy.config-hash) decides whether `up` keeps a running
 * service or restarts it. The shell helfy runs in is not part of a service: `up` from a shell with
 * another PATH, HOME or TZ must restart nothing that did not change (issue: repairing one crashed
 * service restarted the whole stack and reported a false failure).
 */
import { describe, expect, it } from 'vitest';
import { AMBIENT_ENV, baseEnv, specHash } from '../../src/runtime/native/services/common.js';

const spec = (env: Record<string, string>, over: Partial<{ command: string; args: string[]; cwd: string }> = {}) => ({
  command: '/usr/lib/postgresql/15/bin/postgres', args: ['-D', '/w/.helfy/data/postgres', '-p', '5432'], cwd: '/w', env, ...over,
});

describe('specHash', () => {
  it('is the same from two shells that differ in PATH, HOME, TZ and TMPDIR', () => {
    const a = baseEnv({ PATH: '/usr/bin:/bin', HOME: '/root', TZ: 'UTC' });
    const b = baseEnv({ PATH: '/usr/lib/postgresql/15/bin:/usr/bin:/bin', HOME: '/home/dev', TZ: 'Asia/Tokyo', TMPDIR: '/var/tmp' });
    expect(a).not.toEqual(b);
    expect(specHash(spec({ ...a, PGDATA: '/w/.helfy/data/postgres' }))).toBe(specHash(spec({ ...b, PGDATA: '/w/.helfy/data/postgres' })));
    expect([...AMBIENT_ENV].sort()).toEqual(['HOME', 'LANG', 'PATH', 'TMPDIR', 'TZ']);
  });

  it('changes with what makes the service what it is: its own variables, command, arguments, folder and extra configuration', () => {
    const env = { ...baseEnv({ PATH: '/usr/bin' }), PGDATA: '/w/.helfy/data/postgres' };
    const h = specHash(spec(env));
    expect(h).toMatch(/^[0-9a-f]{12}$/);
    const others = [
      specHash(spec({ ...env, PGDATA: '/w/other' })),
      specHash(spec({ ...env, LD_LIBRARY_PATH: '/opt/lib' })),
      specHash(spec(env, { command: '/usr/lib/postgresql/16/bin/postgres' })),
      specHash(spec(env, { args: ['-D', '/w/.helfy/data/postgres', '-p', '5433'] })),
      specHash(spec(env, { cwd: '/elsewhere' })),
      specHash(spec(env), 'max_connections=200'),
    ];
    for (const o of others) expect(o).not.toBe(h);
    expect(new Set(others).size).toBe(others.length);
  });
});
