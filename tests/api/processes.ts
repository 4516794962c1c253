/** The built entries (dist/server.js, dist/worker.js) as real child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';

export const TEMPLATE = resolve(import.meta.dirname, '../../templates/api');

/**
 * Builds the template into a private folder outside it: `<tmp>/dist`, beside a link to the
 * template's node_modules (so the bundle's external packages resolve). Nothing is written into
 * the template, which other test files hash and copy meanwhile.
 */
export async function buildTemplate(): Promise<{ dir: string; cleanup: () => void; ms: number }> {
  const base = mkdtempSync(join(tmpdir(), 'helfy-api-build-'));
  symlinkSync(join(TEMPLATE, 'node_modules'), join(base, 'node_modules'));
  const dir = join(base, 'dist');
  const t0 = Date.now();
  await execa('node', ['scripts/build.mjs'], { cwd: TEMPLATE, env: { HELFY_API_OUTDIR: dir }, stdin: 'ignore' });
  return { dir, ms: Date.now() - t0, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export interface Proc {
  child: ChildProcess;
  out: string[];
  err: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

export function start(script: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(...d.split('\n').filter(Boolean)));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(...d.split('\n').filter(Boolean)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) => child.on('exit', (code, signal) => r({ code, signal, at: Date.now() })));
  return { child, out, err, exited };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: r.status, body: await r.json() };
}
