/** The contract between the command registry (metadata, loaded eagerly) and command modules (loaded lazily). */
import type { Context } from './context.js';
import type { ExitCode } from './errors.js';

export interface OptionSpec {
  /** commander flag syntax, e.g. `--timeout <duration>` or `-f, --follow`. */
  flags: string;
  description: string;
  default?: string | boolean | string[];
  choices?: readonly string[];
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** commander argument syntax, e.g. `[dir]`, `<name>`, `[service...]`. */
  args?: { syntax: string; description: string }[];
  options?: OptionSpec[];
  subcommands?: CommandSpec[];
  /** One or two command lines shown under "Examples:" in `--help`, each with what it does after a `#`. */
  examples?: string[];
  /** Imports the module that runs the command; absent for pure command groups. */
  load?: () => Promise<CommandModule>;
}

export interface CommandInput {
  /** Positional arguments as commander parsed them (variadic ones are arrays). */
  args: unknown[];
  /** The command's own options (global ones are in ctx.options). */
  opts: Record<string, unknown>;
}

export interface CommandModule<R = unknown> {
  run(ctx: Context, input: CommandInput): Promise<R>;
  /** Human rendering of the result (stdout for results, ctx.log for prose). Not called with --json. */
  render?(result: R, ctx: Context): void;
  /** Exit code for a result that is not a thrown error (e.g. doctor with a failed check). */
  exitCode?(result: R): ExitCode;
}
