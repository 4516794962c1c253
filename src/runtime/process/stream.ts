/**
 * Runs a CLI to its end with its stdout and stderr merged into lines, handed to `onLine` as they
 * come and collected (compose, the docker CLI, kubectl). Never throws for a non-zero exit or a
 * binary that cannot start (exit 127, "<file>: command not found"); the caller decides.
 */
export interface StreamOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  timeoutMs?: number;
  onLine?: (line: string) => void;
}

export interface StreamResult {
  exitCode: number;
  output: string[];
  cancelled: boolean;
  timedOut: boolean;
  durationMs: number;
}

export async function runStreaming(file: string, args: string[], opts: StreamOptions): Promise<StreamResult> {
  const { execa } = await import('execa');
  const t0 = performance.now();
  const output: string[] = [];
  const child = execa(file, args, {
    env: opts.env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    all: true,
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
    forceKillAfterDelay: 3000,
    // No signal-exit handlers: on SIGINT they would re-raise the signal once the entry point's
    // one-shot handler has run, killing helfy before it can report the interruption (exit 130).
    // The signal above stops the child instead.
    cleanup: false,
  });
  let partial = '';
  child.all?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split(/\r?\n/);
    partial = parts.pop() ?? '';
    for (const p of parts) {
      output.push(p);
      opts.onLine?.(p);
    }
  });
  const r = await child;
  if (partial) {
    output.push(partial);
    opts.onLine?.(partial);
  }
  const durationMs = performance.now() - t0;
  if ((r as { code?: string }).code === 'ENOENT') return { exitCode: 127, output: [`${file}: command not found`], cancelled: false, timedOut: false, durationMs };
  return { exitCode: r.exitCode ?? (r.isCanceled ? 130 : -1), output, cancelled: Boolean(r.isCanceled), timedOut: Boolean(r.timedOut), durationMs };
}

/** Where an executable is on the environment's PATH, without running it. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  const { delimiter, join } = await import('node:path');
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}
