/**
 * The context every command's run() receives. Commands never touch process.*, console.* or
 * stdin directly: they go through this, so tests can inject their own and the entry point keeps
 * the single exit.
 */
import type { ListrTask } from 'listr2';

export interface GlobalOptions {
  json: boolean;
  yes: boolean;
  verbose: boolean;
  quiet: boolean;
  color: boolean;
  cwd: string;
}

export interface Logger {
  /** Human progress/info line on stderr (suppressed by --quiet and --json). */
  info(msg: string): void;
  /** Success line on stderr (suppressed by --quiet and --json). */
  success(msg: string): void;
  /** Warning on stderr (even with --json and --quiet: stdout stays one JSON document). */
  warn(msg: string): void;
  /** Error line on stderr (always, except in --json mode where the error document is used). */
  error(msg: string): void;
  /** Debug line on stderr, only with --verbose. */
  debug(msg: string): void;
  /** Raw human text on stderr (tables, reports); suppressed by --json. */
  raw(text: string): void;
}

export interface Prompter {
  /** True when prompting is allowed (stdin is a TTY, CI unset, not --json). */
  readonly interactive: boolean;
  /**
   * Yes/no question. Non-interactive: `--yes` answers true; otherwise the default is used if
   * given, else a usage error naming `flag` is thrown.
   */
  confirm(q: { message: string; default?: boolean; flag: string }): Promise<boolean>;
  /** Free-text question; non-interactive: the default, or a usage error naming `flag`. */
  input(q: { message: string; default?: string; flag: string; validate?: (v: string) => true | string }): Promise<string>;
}

export interface TaskRunner {
  /** Runs a listr2 task list with the renderer that fits the output (TTY, CI lines, silent for --json). */
  run<C = unknown>(tasks: ListrTask<C>[], opts?: { concurrent?: boolean; exitOnError?: boolean; ctx?: C }): Promise<C>;
}

export interface Context {
  readonly options: GlobalOptions;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly prompt: Prompter;
  readonly tasks: TaskRunner;
  /** Writes one result to stdout (the command's own human output or nothing; JSON is printed by the entry). */
  stdout(text: string): void;
  /** The width of the terminal stdout writes to (or $COLUMNS); undefined when not a terminal: tables are not cut. */
  readonly columns?: number;
  /** An AbortSignal fired on SIGINT/SIGTERM, for long waits. */
  readonly signal: AbortSignal;
}
