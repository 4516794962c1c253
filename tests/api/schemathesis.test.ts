/**
 * The OpenAPI document against the server it describes: schemathesis (PyPI, provisioned by
 * infra/schemathesis.sh) generates requests from /openapi.json — valid and invalid ones, without
 * auth, with unsupported methods, stateful sequences — and checks every answer against the
 * document (status codes, content types, headers, body schemas) and the server against the
 * document (invalid input refused, valid input accepted, no 5xx). One real API over HTTP on
 * 127.0.0.1, against real PostgreSQL, Neo4j and Temporal (a 5xx from a missing dependency would
 * be a failure). Deterministic: a fixed seed, a bounded number of examples per operation.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../templates/api/src/http.js';
import { buildApp, newUser, REPO, startStack, type Stack, type TestApp } from './harness.js';

let stack: Stack;
let t: TestApp;
let close: () => Promise<void>;
let base: string;
let schemathesis: string;

beforeAll(async () => {
  // The provisioned binary (a cached run prints its path at once).
  const provision = new Promise<string>((res, rej) =>
    execFile('bash', [resolve(REPO, 'infra/schemathesis.sh')], { timeout: 600_000 }, (e, out, err) => (e ? rej(new Error(`infra/schemathesis.sh: ${err}`)) : res(out.trim().split('\n').at(-1)!))),
  );
  [stack, schemathesis] = await Promise.all([startStack({ neo4j: true, temporal: true }), provision]);
  t = await buildApp(stack);
  const { server, port } = await listen(t.app.fetch, 0, '127.0.0.1');
  base = `http://127.0.0.1:${port}`;
  close = () => new Promise<void>((r) => server.close(() => r()));
}, 480_000);

afterAll(async () => {
  await close?.();
  await t?.close();
  await stack?.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  report: { operations?: unknown; failures?: unknown[]; [k: string]: unknown } | undefined;
  ms: number;
}

function runSchemathesis(args: string[], dir: string): Promise<Run> {
  const start = performance.now();
  return new Promise((res) => {
    execFile(
      schemathesis,
      args,
      // No proxy, no telemetry, no colours: only 127.0.0.1 is contacted.
      { env: { PATH: process.env.PATH ?? '', HOME: dir, SCHEMATHESIS_TELEMETRY: 'false', NO_COLOR: '1', COLUMNS: '200', PYTHONIOENCODING: 'utf-8' }, cwd: dir, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 },
      (e, stdout, stderr) => {
        let report;
        try {
          report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
        } catch {
          report = undefined;
        }
        res({ code: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr, report, ms: performance.now() - start });
      },
    );
  });
}

describe('schemathesis: /openapi.json describes the server', () => {
  it('every check passes on every operation (fixed seed, bounded examples)', async () => {
    const u = await newUser(t.app, 'schemathesis');
    const dir = mkdtempSync(join(tmpdir(), 'helfy-schemathesis-'));
    try {
      const r = await runSchemathesis(
        [
          '--config-file',
          resolve(import.meta.dirname, 'schemathesis.toml'),
          'run',
          `${base}/openapi.json`,
          '--checks',
          'all',
          '--header',
          `Authorization: Bearer ${u.token}`,
          '--max-examples',
          '25',
          '--seed',
          '20261206',
          // Deterministic generation (no example database either: every run is the same).
          '--generation-deterministic',
          // One worker: hypothesis's lambda descriptions call ast.parse, which CPython 3.11.7
          // breaks under threads ("AST constructor recursion depth mismatch").
          '--workers',
          '1',
          '--request-timeout',
          '10',
          '--no-color',
          '--report',
          'json',
          '--report-json-path',
          join(dir, 'report.json'),
        ],
        dir,
      );
      const summary = r.stdout.split('\n').filter((l) => /passed|failed|errored|skipped|operations|Seed/i.test(l)).slice(-12).join('\n');
      console.log(`schemathesis: exit ${r.code} in ${Math.round(r.ms / 1000)} s\n${summary}`);
      expect(r.code, `schemathesis failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/No issues found|0 failures|passed/i);
      expect(r.stdout).not.toMatch(/\bfailures?\b[^\n]*\b[1-9]\d*\b/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
