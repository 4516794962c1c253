/** `helfy db bootstrap`: roles, databases, extension, Temporal namespace, Neo4j migrations (idempotent). */
import type { CommandModule } from '../core/command.js';
import { loadConfig } from '../config/load.js';

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
