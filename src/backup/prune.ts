/**
 * `helfy backup prune` rules, pure: which backups to keep. The kept set is the union of
 *  - keep-last N: the N newest backups;
 *  - keep-daily N: for each of the N most recent UTC days that have a backup, its newest one;
 *  - keep-weekly N: for each of the N most recent ISO weeks that have a backup, its newest one;
 *  - always the newest verified backup (a prune never leaves you without a proven restore).
 * Everything else is removed.
 */
import { HelfyError } from '../core/errors.js';

export interface PruneCandidate {
  id: string;
  createdAt: Date;
  verified: boolean;
}

export interface PruneRules {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
}

export interface PruneDecision {
  id: string;
  keep: boolean;
  /** Why kept: `last`, `daily 2026-12-01`, `weekly 2026-W48`, `newest verified`. */
  reasons: string[];
}

export function dayKey(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** ISO 8601 week, e.g. `2026-W49` (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeekKey(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow);
  const yearStart = new Date(Date.UTC(t.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((t.getTime() - yearStart.getTime()) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

function bucketKeep(sorted: PruneCandidate[], n: number, key: (d: Date) => string, label: string, reasons: Map<string, string[]>): void {
  const seen = new Set<string>();
  for (const c of sorted) {
    if (seen.size >= n) break;
    const k = key(c.createdAt);
    if (seen.has(k)) continue;
    seen.add(k);
    reasons.get(c.id)!.push(`${label} ${k}`);
  }
}

export function parseKeep(raw: unknown, flag: string): number | undefined {
  if (raw === undefined || raw === null || raw === false) return undefined;
  const s = String(raw);
  if (!/^\d+$/.test(s)) throw new HelfyError('USAGE', `${flag} ${s}: expected a whole number`, { hint: `For example: ${flag} 7` });
  return Number(s);
}

/** Decides for every candidate; newest first in the result. */
export function planPrune(candidates: readonly PruneCandidate[], rules: PruneRules): PruneDecision[] {
  if (rules.keepLast === undefined && rules.keepDaily === undefined && rules.keepWeekly === undefined) {
    throw new HelfyError('USAGE', 'backup prune needs at least one rule: --keep-last, --keep-daily or --keep-weekly', {
      hint: 'For example: helfy backup prune --keep-last 3 --keep-daily 7 --keep-weekly 4 --dry-run',
    });
  }
  const sorted = [...candidates].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
  const reasons = new Map(sorted.map((c) => [c.id, [] as string[]]));
  sorted.slice(0, rules.keepLast ?? 0).forEach((c) => reasons.get(c.id)!.push('last'));
  if (rules.keepDaily) bucketKeep(sorted, rules.keepDaily, dayKey, 'daily', reasons);
  if (rules.keepWeekly) bucketKeep(sorted, rules.keepWeekly, isoWeekKey, 'weekly', reasons);
  const newestVerified = sorted.find((c) => c.verified);
  if (newestVerified) reasons.get(newestVerified.id)!.push('newest verified');
  return sorted.map((c) => ({ id: c.id, keep: reasons.get(c.id)!.length > 0, reasons: reasons.get(c.id)! }));
}
