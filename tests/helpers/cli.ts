/** Runs the built binary (bin/helfy.js → dist/) as a user would, and captures everything. */
import { execa } from 'execa';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const BIN = join(REPO, 'bin/helfy.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is JSON. */
  json: any;
  durationMs: number;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
}

/** A clean environment: no CI-specific or user HELFY_* values leak into the run unless given. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HELFY_') && k !== 'DOCKER_HOST') env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

export async function helfy(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const t0 = performance.now();
  const r = await execa('node', [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: baseEnv(opts.env),
    extendEnv: false,
    input: opts.input ?? '',
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
  });
  return cliResult(r, t0);
}

/** A finished process as a CliResult: exit code, output, stdout parsed as JSON when it is JSON. */
export function cliResult(r: { exitCode?: number; stdout?: unknown; stderr?: unknown }, t0: number): CliResult {
  let json: unknown;
  try {
    json = JSON.parse(String(r.stdout));
  } catch {
    json = undefined;
  }
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), json, durationMs: performance.now() - t0 };
}

export function tempDir(prefix = 'helfy-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
