/** `helfy db bootstrap`: roles, databases, extension, Temporal namespace, Neo4j migrations (idempotent). */
import type { CommandModule } from '../core/command.js';
import { loadConfig } from '../config/load.js';
import { formatBytes } from '../stack/down.js';

type BootstrapResult = Awaited<ReturnType<typeof import('../db/orchestrate.js').bootstrapStack>>;

export const bootstrap: CommandModule<BootstrapResult> = {
  async run(ctx, input) {
    const { bootstrapStack } = await import('../db/orchestrate.js');
    const { parseDuration } = await import('../stack/duration.js');
    const neo4jTimeoutMs = parseDuration(String(input.opts.neo4jTimeout ?? '120s'), '--neo4j-timeout');
    const cfg = loadConfig({ cwd: ctx.options.cwd, env: ctx.env });
    return bootstrapStack(cfg, ctx.log, { neo4jTimeoutMs, signal: ctx.signal });
  },
  render(r, ctx) {
    const lines = [
      r.postgres.changed ? `postgres: ${r.postgres.changes.map((c) => `${c.object} ${c.action}`).join('; ')}` : 'postgres: roles and databases already in place',
      `postgres: timescaledb ${r.postgres.timescale.present ? r.postgres.timescale.version : 'absent (plain tables)'}`,
      `temporal: namespace ${r.namespace.created ? 'registered' : 'already registered'} (retention ${r.namespace.retentionHours} h)`,
      `neo4j: ${r.neo4jMigrations.applied.length ? `applied ${r.neo4jMigrations.applied.map((a) => a.file).join(', ')}` : 'migrations up to date'}`,
    ];
    ctx.stdout(lines.join('\n'));
  },
};

type StatsResult = import('../db/postgres/stats.js').DbStats;

/** `helfy db stats`: hypertables, compression and continuous aggregates of helfy_app (read only). */
export const stats: CommandModule<StatsResult> = {
  async run(ctx) {
    const { readDbStats } = await import('../db/postgres/stats.js');
    return readDbStats(loadConfig({ cwd: ctx.options.cwd, env: ctx.env }));
  },
  render(r, ctx) {
    ctx.log.raw(renderStats(r));
  },
};

const n = (v: number) => v.toLocaleString('en-US');
const bytes = (v: number | null) => (v === null ? '-' : formatBytes(v));
/** "12 min ago, Success" / "never" (the exact times are in --json). */
const lastRun = (at: string | null, status: string | null, now: number) => {
  if (!at) return 'never';
  const min = Math.round((now - Date.parse(at)) / 60_000);
  const ago = min < 1 ? 'just now' : min < 120 ? `${min} min ago` : min < 2880 ? `${Math.round(min / 60)} h ago` : `${Math.round(min / 1440)} d ago`;
  return `${ago}${status ? `, ${status}` : ''}`;
};
/** PostgreSQL's interval text, shorter: 00:15:00 → 15 min, 12:00:00 → 12 h, 1 day → 1 day. */
const every = (v: string) => {
  const m = /^(\d\d):(\d\d):(\d\d)$/.exec(v);
  if (!m) return v;
  const [h, mi, se] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return se ? v : mi ? `${h * 60 + mi} min` : `${h} h`;
};

function columns(head: string[], rows: string[][], right: Set<number>): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const line = (x: string[]) => x.map((c, i) => (right.has(i) ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

/** The human report (stderr): two tables that fit 100 columns. */
export function renderStats(r: StatsResult, now = Date.now()): string {
  if (!r.timescale) return `${r.database}: no TimescaleDB (HELFY_TIMESCALE=optional): plain tables, nothing to report`;
  const hyper = columns(
    ['HYPERTABLE', 'ROWS (≈)', 'CHUNKS', 'COMPRESSED', 'BEFORE', 'AFTER', 'RATIO', 'TOTAL SIZE'],
    r.hypertables.map((h) => [h.name, n(h.approximateRows), n(h.chunks), n(h.compressedChunks), bytes(h.bytesBeforeCompression), bytes(h.bytesAfterCompression), h.compressionRatio === null ? '-' : `${h.compressionRatio.toFixed(1)}x`, bytes(h.totalBytes)]),
    new Set([1, 2, 3, 4, 5, 6, 7]),
  );
  const aggs = columns(
    ['CONTINUOUS AGGREGATE', 'FROM', 'ROWS (≈)', 'SIZE', 'REFRESH', 'LAST REFRESH (POLICY)'],
    r.continuousAggregates.map((a) => [
      a.name,
      a.source,
      n(a.approximateRows),
      bytes(a.totalBytes),
      a.refresh ? `every ${every(a.refresh.scheduleInterval)}` : 'no policy',
      a.refresh ? lastRun(a.refresh.lastRunStartedAt, a.refresh.lastRunStatus, now) : '-',
    ]),
    new Set([2, 3]),
  );
  return [
    `${r.database}: TimescaleDB ${r.timescale}`,
    '',
    ...hyper,
    '',
    ...(r.continuousAggregates.length ? aggs : ['no continuous aggregates']),
    '',
    'ROWS (≈): approximate_row_count (planner statistics, exact after ANALYZE). BEFORE/AFTER: the',
    'compressed chunks before and after compression. LAST REFRESH: the refresh policy\'s last run.',
  ].join('\n');
}
