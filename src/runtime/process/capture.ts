/**
 * Runs a short-lived tool to its end and hands back its exit code and its stdout and stderr
 * together (e.g. drizzle-kit generate for `helfy migrate create`). Never throws for a non-zero
 * exit; a binary that cannot start rejects.
 */
import { spawn } from 'node:child_process';

export function captureOutput(argv: string[], o: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; output: string }> {
  return new Promise((res, rej) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: o.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', rej);
    child.on('close', (c) => res({ code: c, output: out }));
  });
}
