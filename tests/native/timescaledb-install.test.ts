/**
 * native/timescaledb/install.sh from an empty cache folder, for what a full build (~6 min on 2
 * cores; provisioning runs it on every new machine) does not need to show each run:
 *   - the headers of the server's exact version are fetched without root (apt-get download +
 *     dpkg -x into the cache) and the build starts;
 *   - a build killed with -9 half-way leaves only its temp folder, never a half-installed copy,
 *     and the next run removes that folder before it builds again;
 *   - a failed build leaves nothing behind.
 * The failed build uses a stand-in cmake that fails (named as such below): it stops the second run
 * at its configure step instead of compiling for minutes.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/services/util.js';

const SCRIPT = join(REPO_ROOT, 'native/timescaledb/install.sh');
const PG_BINDIR = '/usr/lib/postgresql/15/bin';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the TimescaleDB install from an empty cache', () => {
  it('killed with -9 while building: only a temp folder is left, which the next run removes; a failed build leaves nothing', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'helfy-ts-cache-'));
    dirs.push(cache);
    // First run: real tools, killed (with its whole process group: make, cc) once the build started.
    const child = spawn('bash', [SCRIPT], { env: { ...process.env, PG_BINDIR, HELFY_CACHE_DIR: cache, JOBS: '1' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no build start in 120 s:\n${lines.join('\n')}`)), 120_000);
      createInterface({ input: child.stderr! }).on('line', (l) => {
        lines.push(l);
        if (/compiling|building TimescaleDB/.test(l)) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    // The headers of exactly this server's version came from the Debian archive into the cache.
    expect(lines.join('\n')).toMatch(/fetching postgresql-server-dev-15=15\.\d+-\S+ \(its headers; apt-get download \+ dpkg -x, nothing installed\)/);
    expect(lines.at(-1)).toMatch(/building TimescaleDB 2\.28\.3 for PostgreSQL 15\.\d+/);
    await new Promise((r) => setTimeout(r, 3000)); // into tar / cmake / make
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    const left = readdirSync(cache);
    expect(left.filter((n) => n.startsWith('.timescaledb-build.'))).toHaveLength(1);
    expect(left.filter((n) => n.startsWith('postgres-'))).toEqual([]);
    expect(readdirSync(join(cache, 'debs'))).toEqual([expect.stringMatching(/^postgresql-server-dev-15_15\.\d+-.*\.deb$/)]);

    // Second run: a stand-in cmake (a fake: answers --version, fails to configure).
    const fake = mkdtempSync(join(tmpdir(), 'helfy-fake-cmake-'));
    dirs.push(fake);
    writeFileSync(join(fake, 'cmake'), '#!/bin/sh\n[ "$1" = --version ] && { echo "cmake version 3.25.1"; exit 0; }\necho "stand-in cmake: configure refused" >&2\nexit 1\n');
    chmodSync(join(fake, 'cmake'), 0o755);
    const again = await execa('bash', [SCRIPT], { env: { PG_BINDIR, HELFY_CACHE_DIR: cache, CMAKE: join(fake, 'cmake') }, reject: false, stdin: 'ignore' });
    expect(again.exitCode, again.stderr).toBe(1);
    expect(again.stderr).toContain('stand-in cmake: configure refused');
    expect(again.stderr).toMatch(/ERROR: cmake failed$/m);
    // The killed run's temp folder is gone, and the failed run left none of its own, nor a copy.
    expect(readdirSync(cache).filter((n) => n.startsWith('.timescaledb-build.') || n.startsWith('postgres-'))).toEqual([]);
  }, 300_000);
});
