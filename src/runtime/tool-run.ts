/**
 * Running a backup tool with its output streamed into a file or its input from one — the docker
 * CLI (`docker exec … pg_dump`) for the Docker runtime, a local pg_dump / pg_restore / java for
 * the native one — counting bytes and hashing on the way, and turning a full disk, an interrupt,
 * a missing binary and a non-zero exit into typed errors. Both BackupRuntimes use these.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { HelfyError } from '../core/errors.js';

import type { StreamResult } from '../backup/runtime.js';

export type { StreamResult };

export function isEnospc(e: unknown): boolean {
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  return err?.code === 'ENOSPC' || err?.cause?.code === 'ENOSPC' || /ENOSPC|No space left on device/i.test(String(err?.message ?? ''));
}

export class DiskFullError extends HelfyError {
  constructor(file: string, bytes: number, cause?: unknown) {
    super('DISK_FULL', `disk full while writing ${file} (${bytes} bytes written): no space left on device`, {
      hint: 'Free space on that disk or point HELFY_BACKUP_DIR at a larger one; the incomplete backup was removed.',
      cause,
      data: { reason: 'ENOSPC', file },
    });
  }
}

/** One invocation of a tool. */
export interface ToolRun {
  cmd: string;
  args: string[];
  /** The child's whole environment (helfy's own is not inherited: passwords go only here). */
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Kill the child when helfy exits (execa's `cleanup`). */
  cleanup: boolean;
  /** The error for a non-zero exit, from the tool's output. */
  fail(code: number | undefined, output: string): Error;
  /** The error for a binary that is not there (ENOENT); without it, `fail` is used. */
  notFound?(): Error;
}

export interface ToolStreamOpts {
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
  /** Called with the child's pid right after the spawn. */
  onSpawn?: (pid: number) => void | Promise<void>;
}

const execaMod = () => import('execa');

interface Outcome {
  isCanceled: boolean;
  exitCode?: number;
  code?: string;
  shortMessage?: string;
}

function check(t: ToolRun, r: Outcome, output: string): void {
  if (r.isCanceled) throw new HelfyError('INTERRUPTED', 'interrupted');
  if (r.code === 'ENOENT' && t.notFound) throw t.notFound();
  if (r.exitCode !== 0) throw t.fail(r.exitCode, output || String(r.shortMessage ?? ''));
}

/** Runs `t` with stdout into `file` (created/truncated, 0600); reports bytes while it grows. */
export async function toolToFile(t: ToolRun, file: string, so: ToolStreamOpts = {}): Promise<StreamResult> {
  const { execa } = await execaMod();
  const t0 = performance.now();
  const out = createWriteStream(file, { flags: 'w', mode: 0o600 });
  let bytes = 0;
  const hash = createHash('sha256');
  let writeError: unknown;
  out.on('error', (e) => {
    writeError = e;
    child.kill('SIGTERM');
  });
  const child = execa(t.cmd, t.args, {
    env: t.env, extendEnv: false, reject: false, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: { stdout: false, stderr: true },
    ...(t.cwd ? { cwd: t.cwd } : {}), ...(so.signal ? { cancelSignal: so.signal } : {}), forceKillAfterDelay: 3000, cleanup: t.cleanup,
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
    so.onBytes?.(bytes);
  });
  child.stdout!.pipe(out);
  if (child.pid) await so.onSpawn?.(child.pid);
  const r = await child;
  await new Promise<void>((resolve) => (out.writableFinished || out.destroyed ? resolve() : out.end(resolve)));
  if (writeError) {
    if (isEnospc(writeError)) throw new DiskFullError(file, bytes, writeError);
    throw new HelfyError('FS_ERROR', `cannot write ${file}: ${(writeError as Error).message}`, { cause: writeError });
  }
  check(t, r as Outcome, String(r.stderr ?? ''));
  // A write that filled the disk exactly at the end shows up in the final size.
  const size = (await stat(file)).size;
  if (size !== bytes) throw new DiskFullError(file, size);
  return { bytes, durationMs: performance.now() - t0, sha256: hash.digest('hex') };
}

/** Runs `t` with stdin from `file`. */
export async function toolFromFile(t: ToolRun, file: string, so: ToolStreamOpts = {}): Promise<StreamResult & { output: string }> {
  const { execa } = await execaMod();
  const t0 = performance.now();
  const input = createReadStream(file);
  let bytes = 0;
  const hash = createHash('sha256');
  input.on('data', (chunk) => {
    bytes += chunk.length;
    hash.update(chunk);
    so.onBytes?.(bytes);
  });
  const child = execa(t.cmd, t.args, {
    env: t.env, extendEnv: false, reject: false, stdin: 'pipe', all: true,
    ...(t.cwd ? { cwd: t.cwd } : {}), ...(so.signal ? { cancelSignal: so.signal } : {}), forceKillAfterDelay: 3000, cleanup: t.cleanup,
  });
  // The tool may stop reading early (an error): that is its exit code's story, not an EPIPE crash.
  child.stdin!.on('error', () => undefined);
  input.on('error', (e) => child.kill('SIGTERM', e));
  input.pipe(child.stdin!);
  // After the pipe is attached: the 'data' listener above already made the file flow, and an
  // awaited callback before the pipe would lose its first chunk.
  if (child.pid) await so.onSpawn?.(child.pid);
  const r = await child;
  input.destroy();
  check(t, r as Outcome, String(r.all ?? ''));
  return { bytes, durationMs: performance.now() - t0, sha256: hash.digest('hex'), output: String(r.all ?? '') };
}

/** Runs `t` and returns its stdout (input from a string or a file, or none). */
export async function toolCapture(t: ToolRun, so: { signal?: AbortSignal; input?: string; inputFile?: string } = {}): Promise<string> {
  const { execa } = await execaMod();
  const r = await execa(t.cmd, t.args, {
    env: t.env, extendEnv: false, reject: false, all: true,
    ...(so.input !== undefined ? { input: so.input } : so.inputFile ? { inputFile: so.inputFile } : { stdin: 'ignore' as const }),
    ...(t.cwd ? { cwd: t.cwd } : {}), ...(so.signal ? { cancelSignal: so.signal } : {}), forceKillAfterDelay: 3000, cleanup: t.cleanup,
  });
  check(t, r as Outcome, String(r.all ?? ''));
  return String(r.stdout ?? '');
}

/**
 * The error of a tool that exited non-zero: its first error line (a password never shown), the
 * last lines as details, and "no space left" told apart.
 */
export function toolFailure(tool: string, code: number | undefined, output: string, o: { diskHint: string; hint: string }): HelfyError {
  const clean = (l: string) => l.replace(/PGPASSWORD=\S+/g, 'PGPASSWORD=***');
  const lines = output.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  const firstError = lines.find((l) => /error|fatal|failed|No space/i.test(l)) ?? lines[lines.length - 1] ?? 'no output';
  if (isEnospc({ message: firstError })) {
    return new HelfyError('DISK_FULL', `${tool} failed: no space left on device`, { hint: o.diskHint, details: lines.slice(-10) });
  }
  return new HelfyError('OPERATION_FAILED', `${tool} failed (exit ${code ?? '?'}): ${clean(firstError)}`, { details: lines.slice(-10).map(clean), hint: o.hint });
}
