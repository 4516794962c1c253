/**
 * Human output: everything goes to stderr. With --json, stdout carries only the JSON document;
 * warnings still go to stderr (they are not part of the result), other chatter is suppressed.
 */
import type { GlobalOptions, Logger } from '../core/context.js';

export interface Stream {
  write(chunk: string): unknown;
}

type Paint = (s: string) => string;
interface Palette { green: Paint; yellow: Paint; red: Paint; dim: Paint; bold: Paint; cyan: Paint }

const plain: Palette = { green: (s) => s, yellow: (s) => s, red: (s) => s, dim: (s) => s, bold: (s) => s, cyan: (s) => s };

/** ANSI colours without loading chalk on the start-up path (chalk is used by renderers that need more). */
function ansi(open: number, close: number): Paint {
  return (s) => `\u001b[${open}m${s}\u001b[${close}m`;
}
const colored: Palette = { green: ansi(32, 39), yellow: ansi(33, 39), red: ansi(31, 39), dim: ansi(2, 22), bold: ansi(1, 22), cyan: ansi(36, 39) };

export function palette(color: boolean): Palette {
  return color ? colored : plain;
}

export function createLogger(opts: Pick<GlobalOptions, 'json' | 'quiet' | 'verbose' | 'color'>, stderr: Stream): Logger {
  const c = palette(opts.color);
  const human = !opts.json;
  const chatty = human && !opts.quiet;
  const line = (s: string) => stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  return {
    info: (m) => { if (chatty) line(m); },
    success: (m) => { if (chatty) line(`${c.green('✔')} ${m}`); },
    warn: (m) => line(`${c.yellow('warning:')} ${m}`),
    error: (m) => { if (human) line(`${c.red('error:')} ${m}`); },
    debug: (m) => { if (human && opts.verbose) line(c.dim(m)); },
    raw: (t) => { if (human) stderr.write(t.endsWith('\n') ? t : `${t}\n`); },
  };
}
