/**
 * `helfy smoke`'s cleanup on its failing side: when the throwaway user cannot be removed the run
 * fails (exit 1), with the cleanup as a failed case of its own in the result (--json) and the JUnit
 * report. The container listing and logs come from a FAKE runtime (a stand-in for the Docker
 * engine, enough for the security checks, which pass); the cleanup talks to a real TCP port on
 * which nothing listens (PostgreSQL unreachable), over a real workspace made by `helfy init`.
 */
import { XMLParser } from 'fast-xml-parser';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type HelfyConfig } from '../../src/config/load.js';
import { ExitCode } from '../../src/core/errors.js';
import { exitCode } from '../../src/commands/smoke.js';
import { cleanupFailure, smokeStack } from '../../src/smoke/run.js';
import type { ContainerSnapshot } from '../../src/stack/health.js';
import type { StackRuntime } from '../../src/stack/runtime.js';
import { recordingLogger } from '../db/postgres/fixtures.js';
import { helfy, tempDir } from '../helpers/cli.js';

let dir: string;
let cfg: HelfyConfig;

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  dir = tempDir('helfy-smoke-clean-');
  const r = await helfy(['init', dir, '--yes', '--name', 'smokeclean', '--no-apps']);
  if (r.code !== 0) throw new Error(r.stderr);
  cfg = loadConfig({ cwd: dir, env: { HELFY_POSTGRES_PORT: String(await closedPort()) }, requireSecrets: true });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** FAKE runtime: one running container with a loopback port and clean logs. */
function fakeRuntime(): StackRuntime {
  const c: ContainerSnapshot = { id: 'id-api', name: 'smokeclean_api_1', service: 'api', state: 'running', status: 'Up', image: 'x', labels: {}, ports: [{ host: '127.0.0.1', hostPort: 3000, containerPort: 3000 }], createdAt: 0 };
  return { project: 'smokeclean', containers: async () => [c], logs: async () => [{ stream: 'stdout' as const, text: 'listening' }] } as unknown as StackRuntime;
}

describe('smoke cleanup that fails', () => {
  it('fails the run (exit 1) as a case of its own, in the result and the JUnit report, even when every check passed', async () => {
    const log = recordingLogger();
    const junitFile = join(dir, 'out', 'smoke.xml');
    const r = await smokeStack({ log, env: {}, signal: new AbortController().signal } as never, cfg, fakeRuntime(), { groups: ['security'], timeoutMs: 5000, browser: false, junitFile });
    expect(r.checks.filter((c) => c.group === 'security').map((c) => c.status)).toEqual(['passed', 'passed']);
    expect(r.cleanup.error).toMatch(/^PostgreSQL: /);
    const cl = r.checks.find((c) => c.id === 'cleanup.user')!;
    expect(cl).toMatchObject({ group: 'cleanup', status: 'failed', message: `${r.cleanup.error} (hint: remove the user ${r.cleanup.email} by hand)` });
    expect(r.ok).toBe(false);
    expect(r.failed).toBe(1);
    expect(r.passed).toBe(2);
    expect(exitCode(r)).toBe(ExitCode.Failed);
    expect(log.of('warn').some((l) => l.includes(`remove the user ${r.cleanup.email} by hand`))).toBe(true);

    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (n) => ['testsuite', 'testcase'].includes(n) }).parse(readFileSync(junitFile, 'utf8'));
    expect(doc.testsuites['@failures']).toBe('1');
    const suite = doc.testsuites.testsuite.find((s: { '@name': string }) => s['@name'] === 'cleanup');
    expect(suite.testcase[0]['@name']).toBe('the throwaway user and its workflows are removed');
    expect(suite.testcase[0].failure['@message']).toContain(r.cleanup.email);
  }, 60_000);

  it('a complete cleanup adds no case', () => {
    expect(cleanupFailure({ email: 'a@helfy.test', usersRemoved: 1, auditRowsRemoved: 2, workflowsDeleted: ['w'] }, 12)).toBeUndefined();
    expect(cleanupFailure({ email: 'a@helfy.test', usersRemoved: 0, auditRowsRemoved: 0, workflowsDeleted: [], error: 'Temporal: unavailable' }, 12))
      .toEqual({ id: 'cleanup.user', group: 'cleanup', name: 'the throwaway user and its workflows are removed', status: 'failed', durationMs: 12, message: 'Temporal: unavailable (hint: remove the user a@helfy.test by hand)' });
  });
});
