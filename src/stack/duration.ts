/** Durations on the command line: `180s`, `3m`, `1h`, `500ms`, or a bare number of seconds. */
import { HelfyError } from '../core/errors.js';

export function parseDuration(raw: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new HelfyError('USAGE', `${flag} ${JSON.stringify(raw)} is not a duration`, { hint: `Use e.g. ${flag} 180s, ${flag} 3m or ${flag} 90.` });
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms']);
}

/** `--since` for logs: a duration ago (10m, 2h) or an absolute date/time; returns unix seconds. */
export function parseSince(raw: string, now = Date.now()): number {
  if (/^\d+(?:\.\d+)?(ms|s|m|h)$/.test(raw.trim())) return Math.floor((now - parseDuration(raw, '--since')) / 1000);
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw new HelfyError('USAGE', `--since ${JSON.stringify(raw)} is neither a duration nor a date`, { hint: 'Use e.g. --since 10m, --since 2h or --since 2024-05-01T12:00:00Z.' });
  return Math.floor(t / 1000);
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
