/**
 * `helfy export kubernetes|swarm --out <dir>`: parse, call the export domain (src/export: one
 * file per target, the shared model and scripts, the atomic folder write), render.
 */
import { resolve } from 'node:path';
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { exportStack, type ExportResult } from '../export/run.js';
import { parseExportOptions, type ExportTarget } from '../export/options.js';

export type { ExportResult };

function command(target: ExportTarget) {
  return {
    run(ctx: Context, input: CommandInput): Promise<ExportResult> {
      return exportStack(ctx, parseExportOptions(target, input.opts, (p) => resolve(ctx.options.cwd, p)));
    },
    render(r: ExportResult, ctx: Context): void {
      const what = r.target === 'kubernetes' ? `${r.objects?.length ?? 0} objects in ${r.files.length} files (namespace ${r.namespace})` : `${r.services?.length ?? 0} services in ${r.files.length} files`;
      ctx.log.success(`${r.target} export written to ${r.out}: ${what}; secrets: ${r.secretStore}`);
      for (const n of r.notes) ctx.log.info(n);
      ctx.stdout(r.deploy);
    },
  };
}

export const kubernetes = command('kubernetes');
export const swarm = command('swarm');
