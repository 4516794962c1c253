/** The docker CLI as a backup tool: into / from a host file or for its output, and its errors. */
import type { StreamOpts, StreamResult } from '../../../backup/runtime.js';
import type { HelfyError } from '../../../core/errors.js';
import { toolCapture, toolFailure, toolFromFile, toolToFile, type ToolRun } from '../../tool-run.js';
import type { DockerBackupContext } from './context.js';

export type CliPlace = Pick<DockerBackupContext, 'dockerBin' | 'toolEnv'>;

/** One run of the docker CLI with `args` (not killed with helfy: the daemon's side would stay anyway). */
export function dockerToolRun(ctx: CliPlace, args: string[]): ToolRun {
  return { cmd: ctx.dockerBin, args, env: ctx.toolEnv, cleanup: false, fail: (code, out) => toolFailed(args, code, out) };
}

/** The docker CLI with stdout into `file` (created/truncated); reports bytes while it grows. */
export function toFile(ctx: CliPlace, args: string[], file: string, so: StreamOpts): Promise<StreamResult> {
  return toolToFile(dockerToolRun(ctx, args), file, so);
}

/** The docker CLI with stdin from `file`. */
export function fromFile(ctx: CliPlace, args: string[], file: string, so: StreamOpts): Promise<StreamResult> {
  return toolFromFile(dockerToolRun(ctx, args), file, so);
}

/** The docker CLI's output (stdin from `input` or `inputFile`). */
export function capture(ctx: CliPlace, args: string[], so: StreamOpts & { input?: string; inputFile?: string } = {}): Promise<string> {
  return toolCapture(dockerToolRun(ctx, args), so);
}

/** The tool a docker CLI run is about: the PostgreSQL tool or neo4j-admin in `args`, else the docker subcommand. */
export function toolNameOf(args: string[]): string {
  return args.find((a) => /^(pg_dump|pg_dumpall|pg_restore|psql|neo4j-admin)$/.test(a)) ?? args[0] ?? 'docker';
}

export function toolFailed(args: string[], code: number | undefined, output: string): HelfyError {
  return toolFailure(toolNameOf(args), code, output, {
    diskHint: 'Free disk space (the engine\'s disk, or HELFY_BACKUP_DIR\'s).',
    hint: 'The lines above are the tool\'s own output; `helfy logs postgres` / `helfy logs neo4j` may say more.',
  });
}
