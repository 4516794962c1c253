import { writeSync } from 'node:fs';

/** One-line JSON logs on stdout (what `docker logs` collects). Never give it a secret or a body. */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Lines are batched and written once per event-loop turn: stdout to a pipe (docker) is a
 * synchronous write per call on Linux, one per request otherwise. Flushed on exit.
 */
function bufferedStdout(): (line: string) => void {
  let buf: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (buf.length === 0) return;
    const out = buf.join('\n') + '\n';
    buf = [];
    process.stdout.write(out);
  };
  process.once('exit', () => {
    if (buf.length) writeSync(1, buf.join('\n') + '\n');
    buf = [];
  });
  return (line) => {
    buf.push(line);
    if (buf.length >= 512) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

/** BigInt (SDK metadata) as a string; errors as their message. */
const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v);

let stdoutWriter: ((line: string) => void) | undefined;

export function createLogger(
  level: Level | 'silent' = 'info',
  base: Record<string, unknown> = {},
  write: (line: string) => void = (stdoutWriter ??= bufferedStdout()),
): Logger {
  const min = ORDER[level];
  const at = (lvl: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }, replacer));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that keeps its lines (tests). */
export function memoryLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const l = createLogger('debug', {}, (s) => lines.push(JSON.parse(s)));
  return Object.assign(l, { lines });
}
