/**
 * The options of a seed (`helfy seed` and `helfy up --seed`), validated from the command line's
 * flags: every problem is a usage error naming the flag.
 */
import { HelfyError } from '../../core/errors.js';
import type { SeedOptions, SeedPart } from './index.js';

const PARTS: readonly SeedPart[] = ['exercises', 'foods', 'routines', 'demo'];
export const DEFAULTS = { users: 3, days: 90, seed: 1, concurrency: 2 } as const;

function intFlag(flag: string, raw: unknown, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const s = String(raw).trim();
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new HelfyError('USAGE', `${flag} ${JSON.stringify(s)}: expected a whole number from ${min} to ${max}`, { hint: `e.g. ${flag} ${def}` });
  }
  return n;
}

/** Validates the flags into SeedOptions; every problem is a usage error naming the flag. */
export function parseSeedFlags(opts: Record<string, unknown>): SeedOptions {
  if (opts.reset) {
    // --reset removes what the seed made; the flags that shape new data would be silently ignored.
    const shaping = (['users', 'days', 'seed', 'lastDay', 'concurrency'] as const).filter((k) => opts[k] !== undefined);
    if (shaping.length) {
      const flags = shaping.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      throw new HelfyError('USAGE', `--reset does not take ${flags.join(', ')}: it removes the seeded data, it generates none`, {
        hint: 'Run `helfy seed --reset` (with --only and --dry-run if you like), then `helfy seed ' + flags.map((f) => `${f} …`).join(' ') + '`.',
      });
    }
  }
  let only: SeedPart[] | undefined;
  if (opts.only !== undefined) {
    const items = String(opts.only).split(',').map((x) => x.trim()).filter(Boolean);
    const bad = items.filter((x) => !PARTS.includes(x as SeedPart));
    if (bad.length || items.length === 0) {
      throw new HelfyError('USAGE', `--only ${JSON.stringify(String(opts.only))}: unknown part ${bad.map((b) => JSON.stringify(b)).join(', ') || '(none given)'}`, {
        hint: `Parts: ${PARTS.join(', ')} (comma-separated, e.g. --only exercises,foods).`,
      });
    }
    only = [...new Set(items as SeedPart[])];
  }
  let lastDay: string | undefined;
  if (opts.lastDay !== undefined) {
    const s = String(opts.lastDay);
    const t = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : NaN;
    if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s) {
      throw new HelfyError('USAGE', `--last-day ${JSON.stringify(s)}: expected a date YYYY-MM-DD`, { hint: 'e.g. --last-day 2026-11-30 (default: yesterday, UTC).' });
    }
    lastDay = s;
  }
  return {
    ...(only ? { only } : {}),
    users: intFlag('--users', opts.users, DEFAULTS.users, 0, 1000),
    days: intFlag('--days', opts.days, DEFAULTS.days, 1, 3650),
    seed: intFlag('--seed', opts.seed, DEFAULTS.seed, 0, 2_147_483_647),
    concurrency: intFlag('--concurrency', opts.concurrency, DEFAULTS.concurrency, 1, 16),
    ...(lastDay ? { lastDay } : {}),
    reset: Boolean(opts.reset),
    dryRun: Boolean(opts.dryRun),
  };
}
