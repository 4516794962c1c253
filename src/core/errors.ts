/**
 * Typed errors and the single exit-code table. Every user-facing failure is a HelfyError
 * carrying an exit code, a one-line message and a hint; anything else is an internal bug.
 */
export const ExitCode = {
  Ok: 0,
  /** An operation failed (a migration errored, a backup could not be verified, ...). */
  Failed: 1,
  /** Bad usage or configuration: unknown command/flag, invalid .env, no workspace. */
  Usage: 2,
  /** The environment is missing something: Docker engine unreachable, compose absent, port taken. */
  Environment: 3,
  /** The stack is not healthy: a service exited or did not become healthy in time. */
  Unhealthy: 4,
  /** Interrupted by the user (Ctrl-C). */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Stable machine-readable error codes, printed in `--json` output as `error.code`. */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'NO_WORKSPACE'
  | 'ALREADY_INITIALIZED'
  | 'NOT_INTERACTIVE'
  | 'FS_ERROR'
  | 'DOCKER_UNREACHABLE'
  | 'COMPOSE_MISSING'
  | 'PORT_IN_USE'
  | 'STACK_UNHEALTHY'
  | 'STACK_NOT_RUNNING'
  | 'TIMESCALE_MISSING'
  | 'TOOL_MISSING'
  | 'DATA_INCOMPATIBLE'
  | 'MIGRATION_FAILED'
  | 'MIGRATION_CHECKSUM'
  | 'MIGRATION_ORDER'
  | 'MIGRATION_DRIFT'
  | 'CONNECTION_FAILED'
  | 'CHECKS_FAILED'
  | 'INTERRUPTED'
  | 'BACKUP_DAMAGED'
  | 'BACKUP_INCOMPATIBLE'
  | 'BUILD_FAILED'
  | 'DISK_FULL'
  | 'OUTPUT_NOT_EMPTY'
  | 'SWARM_INACTIVE'
  | 'OPERATION_FAILED'
  | 'INTERNAL';

export interface HelfyErrorOptions {
  hint?: string;
  exitCode?: ExitCode;
  cause?: unknown;
  /** Extra lines printed after the message in human mode (e.g. one line per bad config key). */
  details?: string[];
  /** Extra structured data included in the JSON error document. */
  data?: Record<string, unknown>;
}

const DEFAULT_EXIT: Record<ErrorCode, ExitCode> = {
  USAGE: ExitCode.Usage,
  CONFIG_INVALID: ExitCode.Usage,
  NO_WORKSPACE: ExitCode.Usage,
  ALREADY_INITIALIZED: ExitCode.Ok,
  NOT_INTERACTIVE: ExitCode.Usage,
  FS_ERROR: ExitCode.Failed,
  DOCKER_UNREACHABLE: ExitCode.Environment,
  COMPOSE_MISSING: ExitCode.Environment,
  PORT_IN_USE: ExitCode.Environment,
  STACK_UNHEALTHY: ExitCode.Unhealthy,
  STACK_NOT_RUNNING: ExitCode.Unhealthy,
  TIMESCALE_MISSING: ExitCode.Environment,
  TOOL_MISSING: ExitCode.Environment,
  DATA_INCOMPATIBLE: ExitCode.Environment,
  MIGRATION_FAILED: ExitCode.Failed,
  MIGRATION_CHECKSUM: ExitCode.Usage,
  MIGRATION_ORDER: ExitCode.Usage,
  MIGRATION_DRIFT: ExitCode.Failed,
  CONNECTION_FAILED: ExitCode.Environment,
  CHECKS_FAILED: ExitCode.Failed,
  INTERRUPTED: ExitCode.Interrupted,
  /** A backup's files or manifest do not check out (sha256, JSON, format): nothing was changed. */
  BACKUP_DAMAGED: ExitCode.Failed,
  /** A backup this stack (or this helfy) cannot take: versions differ, or a newer manifest format. */
  BACKUP_INCOMPATIBLE: ExitCode.Failed,
  /** Building an app failed: its image (compose build) or its npm ci / npm run build. */
  BUILD_FAILED: ExitCode.Failed,
  /** No space left on the device a dump or a manifest was being written to. */
  DISK_FULL: ExitCode.Failed,
  /** `helfy export --out` names a folder holding other files (refused unless --force). */
  OUTPUT_NOT_EMPTY: ExitCode.Usage,
  /** `helfy deploy swarm` on an engine that is not a swarm manager (hint: `docker swarm init`). */
  SWARM_INACTIVE: ExitCode.Environment,
  /** Any other operation that failed; the message says which. */
  OPERATION_FAILED: ExitCode.Failed,
  INTERNAL: ExitCode.Failed,
};

/** A user-facing error: printed as one line plus a hint, never with a stack trace. */
export class HelfyError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly hint?: string;
  readonly details: string[];
  readonly data?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: HelfyErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'HelfyError';
    this.code = code;
    this.exitCode = opts.exitCode ?? DEFAULT_EXIT[code];
    this.hint = opts.hint;
    this.details = opts.details ?? [];
    this.data = opts.data;
  }
}

export function isHelfyError(e: unknown): e is HelfyError {
  return e instanceof HelfyError;
}

/** Shape of the error document printed on stdout with --json. */
export interface JsonErrorDocument {
  error: { code: ErrorCode; message: string; hint?: string; details?: string[] } & Record<string, unknown>;
}

export function toJsonError(e: HelfyError): JsonErrorDocument {
  return {
    error: {
      code: e.code,
      message: e.message,
      ...(e.hint ? { hint: e.hint } : {}),
      ...(e.details.length ? { details: e.details } : {}),
      ...(e.data ?? {}),
    },
  };
}
