/**
 * `helfy status` in a terminal: one line per service whatever its command line looks like (a
 * multi-line shell script, a whole JVM command line), the last column cut to the terminal's
 * width, and a failed service's exit code in the table (not only in --json).
 */
import { describe, expect, it } from 'vitest';
import { render } from '../../src/commands/status.js';
import type { Context } from '../../src/core/context.js';
import type { StatusResult } from '../../src/stack/status.js';

const JVM = `/usr/lib/jvm/java-17-openjdk-amd64/bin/java -Xms512m -Xmx512m -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow -XX:+AlwaysPreTouch ${'-Dneo4j.x=y '.repeat(30)}-cp /root/.cache/helfy/neo4j-5.26.30/lib/* org.neo4j.server.CommunityEntryPoint`;
const SCRIPT = 'set -e\nuntil pg_isready -h 127.0.0.1; do sleep 1; done\ntemporal-sql-tool setup-schema -v 0.0\ntemporal-sql-tool update-schema -d ./schema';

function status(): StatusResult {
  const base = { kind: 'daemon' as const, ports: [], urls: [] };
  return {
    project: 'demo', runtime: { kind: 'native', detail: 'native (PostgreSQL 15.18)' }, running: true, healthy: false, checkedAt: '', durationMs: 1,
    services: [
      { ...base, name: 'neo4j', state: 'healthy', healthy: true, detail: 'running', container: { name: 'neo4j', state: 'running', status: 'Up' }, image: JVM, uptimeS: 60 },
      { ...base, name: 'temporal-schema', kind: 'job', state: 'completed', healthy: true, detail: 'completed (exit 0)', container: { name: 'temporal-schema', state: 'exited', status: 'Exited (0)' }, image: `/bin/sh -c ${SCRIPT}` },
      { ...base, name: 'api', state: 'failed', healthy: false, detail: 'exited with code 137', container: { name: 'api', state: 'exited', status: 'Exited (137)' }, image: 'node dist/server.js' },
    ],
  } as StatusResult;
}

function rendered(o: { columns?: number; verbose?: boolean }): string[] {
  const out: string[] = [];
  const ctx = { options: { color: false, verbose: Boolean(o.verbose) }, stdout: (t: string) => out.push(t), ...(o.columns ? { columns: o.columns } : {}) } as unknown as Context;
  render(status(), ctx);
  return out.join('\n').split('\n');
}

describe('status table', () => {
  it('at 100 columns: one line per service, none wider than the terminal, the cut marked with …', () => {
    const lines = rendered({ columns: 100 });
    expect(lines).toHaveLength(1 + 1 + 3 + 1);
    for (const l of lines.slice(1, -1)) expect(l.length).toBeLessThanOrEqual(100);
    expect(lines.find((l) => l.includes('neo4j'))).toMatch(/\/usr\/lib\/jvm\/.*…$/);
    expect(lines.find((l) => l.includes('temporal-schema'))).toMatch(/\/bin\/sh -c set -e$/);
  });

  it('a failed service shows its exit code in the HEALTH column', () => {
    expect(rendered({ columns: 200 }).find((l) => /^\S+ api /.test(l))).toMatch(/ failed \(exit 137\) /);
    expect(rendered({ columns: 200 }).at(-1)).toBe('1 service(s) not healthy: api');
  });

  it('-v, or no terminal width, shows the whole command line', () => {
    expect(rendered({ verbose: true, columns: 100 }).join('\n')).toContain('CommunityEntryPoint');
    expect(rendered({}).find((l) => l.includes('neo4j'))).toMatch(/CommunityEntryPoint$/);
  });
});
