/**
 * Process plumbing of the native backup runtime (the Docker runtime's toFile / fromFile / capture
 * over local binaries): a ToolRun for a local tool, with the errors for a missing binary and a
 * failed run.
 */
import type { StreamOpts } from '../../../backup/runtime.js';
import { HelfyError } from '../../../core/errors.js';
import { toolCapture, toolFailure, toolFromFile, toolToFile, type ToolRun } from '../../tool-run.js';

export interface RunOpts extends StreamOpts {
  cwd?: string;
  /** Called with the child's pid right after the spawn (markers). */
  onSpawn?: (pid: number) => void | Promise<void>;
}

/** One run of a local tool: killed with helfy, its own errors for a failure and a missing binary. */
export function nativeToolRun(cmd: string, args: string[], env: Record<string, string>, cwd?: string): ToolRun {
  return {
    cmd, args, env, ...(cwd ? { cwd } : {}), cleanup: true, fail: (code, out) => toolFailed(cmd, args, code, out), notFound: () => notFound(cmd),
  };
}

/** The tool with stdout into `file`. */
export function toFile(cmd: string, args: string[], childEnv: Record<string, string>, file: string, so: RunOpts) {
  return toolToFile(nativeToolRun(cmd, args, childEnv, so.cwd), file, so);
}

/** The tool with stdin from `file`. */
export function fromFile(cmd: string, args: string[], childEnv: Record<string, string>, file: string, so: RunOpts) {
  return toolFromFile(nativeToolRun(cmd, args, childEnv, so.cwd), file, so);
}

/** The tool's output (stdin from `so.input`). */
export function capture(cmd: string, args: string[], childEnv: Record<string, string>, so: RunOpts & { input?: string }) {
  return toolCapture(nativeToolRun(cmd, args, childEnv, so.cwd), so);
}

/** A tool that is not there (a server-only PostgreSQL without the client tools, a moved Java). */
export function notFound(cmd: string): HelfyError {
  const tool = cmd.slice(cmd.lastIndexOf('/') + 1);
  const java = /java$/.test(tool);
  return new HelfyError('TOOL_MISSING', `${tool} not found at ${cmd}`, {
    hint: java
      ? 'Install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless) or point HELFY_JAVA at one.'
      : `Install the PostgreSQL client tools of the server's major beside it (e.g. apt-get install postgresql-client-<major>), or point HELFY_POSTGRES_BIN at a folder that has ${tool}.`,
    data: { tool, path: cmd },
  });
}

export function toolFailed(cmd: string, args: string[], code: number | undefined, output: string): HelfyError {
  const tool = args.includes('org.neo4j.cli.AdminTool') ? 'neo4j-admin' : cmd.slice(cmd.lastIndexOf('/') + 1);
  return toolFailure(tool, code, output, {
    diskHint: 'Free disk space (the workspace\'s, or HELFY_BACKUP_DIR\'s).',
    hint: 'The lines above are the tool\'s own output; `helfy logs postgres` / `helfy logs neo4j` may say more.',
  });
}
