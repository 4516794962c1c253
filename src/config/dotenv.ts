/**
 * A small .env reader and writer that keeps line numbers, so every error can name `file:line`.
 * (The `dotenv` package parses leniently and drops positions, which is what we need to avoid.)
 */
import { HelfyError } from '../core/errors.js';

export interface DotenvEntry {
  key: string;
  value: string;
  line: number;
}

const LINE_RE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)?$/;

export function parseDotenv(text: string, fileLabel: string): DotenvEntry[] {
  const entries: DotenvEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = LINE_RE.exec(raw);
    if (!m) {
      throw new HelfyError('CONFIG_INVALID', `${fileLabel}:${i + 1}: malformed line (expected KEY=value)`, {
        hint: `Fix or remove line ${i + 1} of ${fileLabel}; comments start with #.`,
      });
    }
    entries.push({ key: m[1]!, value: unquote(m[2] ?? '', fileLabel, i + 1), line: i + 1 });
  }
  return entries;
}

function unquote(v: string, file: string, line: number): string {
  const s = v.trim();
  const q = s[0];
  if (q === "'") {
    const end = s.indexOf("'", 1);
    if (end === -1) throw unterminated('single', file, line);
    return s.slice(1, end);
  }
  if (q === '"') {
    let out = '';
    for (let i = 1; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\\' && i + 1 < s.length) {
        const next = s[++i]!;
        out += next === 'n' ? '\n' : next;
      } else if (ch === '"') return out;
      else out += ch;
    }
    throw unterminated('double', file, line);
  }
  // Unquoted: strip a trailing " # comment".
  const hash = s.search(/\s#/);
  return (hash === -1 ? s : s.slice(0, hash)).trim();
}

function unterminated(kind: string, file: string, line: number): HelfyError {
  return new HelfyError('CONFIG_INVALID', `${file}:${line}: unterminated ${kind} quote`, { hint: `Close the quote on line ${line} of ${file}.` });
}

/** Serializes a value so parseDotenv reads it back unchanged. */
export function formatDotenvValue(v: string): string {
  return /^[A-Za-z0-9_./:@+-]*$/.test(v) ? v : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
