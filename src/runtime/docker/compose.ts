/**
 * Docker compose through execa: the v2 plugin (`docker compose`) or the standalone v1
 * (`docker-compose`), detected once per process.
 */
import { HelfyError } from '../../core/errors.js';
import { runStreaming } from '../process/stream.js';
import type { RunResult, UpArgsOptions } from '../../stack/runtime.js';

export type { UpArgsOptions };

export interface ComposeCommand {
  /** `v2` for the docker CLI plugin, `v1` for the standalone docker-compose. */
  flavor: 'v1' | 'v2';
  version: string;
  /** argv prefix: ['docker', 'compose'] or ['docker-compose']. */
  argv: [string, ...string[]];
}

let detected: Promise<ComposeCommand> | undefined;

/** Extracts a version number from `docker compose version --short` / `docker-compose version --short` output. */
export function parseComposeVersion(out: string): string | undefined {
  return /v?(\d+\.\d+\.\d+[\w.+-]*)/.exec(out.trim())?.[1];
}

/**
 * How long one `version --short` probe may take. A Go binary of ~60 MB started cold on a loaded
 * machine (2 cores, a test suite beside it) has taken over 5 s; a missing one answers at once.
 */
const PROBE_TIMEOUT_MS = 30_000;

export async function detectCompose(env: NodeJS.ProcessEnv): Promise<ComposeCommand> {
  detected ??= (async () => {
    const { execa } = await import('execa');
    const attempts: ComposeCommand['argv'][] = env.HELFY_COMPOSE === 'v1' ? [['docker-compose']] : env.HELFY_COMPOSE === 'v2' ? [['docker', 'compose']] : [['docker', 'compose'], ['docker-compose']];
    const said: string[] = [];
    for (const argv of attempts) {
      const [file, ...rest] = argv;
      const r = await execa(file, [...rest, 'version', '--short'], { env, reject: false, timeout: PROBE_TIMEOUT_MS, stdin: 'ignore' });
      const version = r.exitCode === 0 ? parseComposeVersion(String(r.stdout)) : undefined;
      if (version) return { flavor: argv.length === 2 ? 'v2' : 'v1', version, argv };
      said.push(`\`${argv.join(' ')}\`: ${probeOutcome(r)}`);
    }
    detected = undefined; // a later call (after an install) probes again
    throw new HelfyError('COMPOSE_MISSING', `docker compose is not available (${said.join('; ')})`, {
      hint: 'Install the Docker Compose v2 plugin (or docker-compose v1), then run `helfy doctor`.',
    });
  })();
  return detected;
}

/** One line on why a probe gave no version: not found, timed out, or its exit code and first line. */
function probeOutcome(r: { timedOut?: boolean; exitCode?: number; code?: string; stdout?: unknown; stderr?: unknown }): string {
  if (r.timedOut) return `no answer within ${PROBE_TIMEOUT_MS / 1000} s`;
  if (r.code === 'ENOENT') return 'not found';
  const first = `${String(r.stderr ?? '')}\n${String(r.stdout ?? '')}`.split('\n').map((l) => l.trim()).find(Boolean);
  return r.exitCode === 0 ? `no version in its answer${first ? ` (${first.slice(0, 120)})` : ''}` : `exit ${r.exitCode}${first ? `: ${first.slice(0, 120)}` : ''}`;
}

/** Where the docker CLI is, without running it (PATH lookup). */
export { findOnPath } from '../process/stream.js';

// ---------------------------------------------------------------------------------------------
// Argument building (pure, unit-tested for both flavors) and running compose.

export interface ComposeTarget {
  /** Absolute path of the compose file. */
  file: string;
  /** Compose project name (`-p`). */
  project: string;
  /** Profiles to enable (`--profile x`, supported by v1 >= 1.28 and v2). */
  profiles?: string[];
}

/** Resets the once-per-process detection (tests). */
export function resetComposeDetection(): void {
  detected = undefined;
}

/** The full command line for one compose subcommand: [file, args]. */
export function composeCommandLine(cmd: ComposeCommand, target: ComposeTarget, sub: string[]): [string, string[]] {
  const [file, ...prefix] = cmd.argv;
  const global = ['-p', target.project, '-f', target.file, ...(target.profiles ?? []).flatMap((p) => ['--profile', p])];
  return [file, [...prefix, ...global, ...sub]];
}

function versionAtLeast(version: string, min: [number, number, number]): boolean {
  const parts = version.split(/[.+-]/).slice(0, 3).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((parts[i] ?? 0) !== min[i]) return (parts[i] ?? 0) > min[i]!;
  }
  return true;
}


/** `up -d` arguments for the given services. */
export function composeUpArgs(cmd: ComposeCommand, services: string[], opts: UpArgsOptions = {}): string[] {
  const args = ['up', '-d'];
  if (opts.build) args.push('--build');
  if (opts.pull && cmd.flavor === 'v2' && versionAtLeast(cmd.version, [2, 9, 0])) args.push('--pull', opts.pull);
  return [...args, ...services];
}

/** `down` arguments: containers and network, plus named volumes with `volumes`. */
export function composeDownArgs(_cmd: ComposeCommand, opts: { volumes?: boolean; timeoutS?: number } = {}): string[] {
  return ['down', '--remove-orphans', '--timeout', String(opts.timeoutS ?? 10), ...(opts.volumes ? ['--volumes'] : [])];
}

export type ComposeRunResult = RunResult;

/**
 * Runs compose; never throws for a non-zero exit (the caller decides). Output lines are passed
 * to `onLine` as they come and collected. `signal` stops the process (SIGTERM).
 */
export async function runCompose(
  cmd: ComposeCommand,
  target: ComposeTarget,
  sub: string[],
  opts: { env: NodeJS.ProcessEnv; signal?: AbortSignal; onLine?: (line: string) => void },
): Promise<ComposeRunResult> {
  const [file, args] = composeCommandLine(cmd, target, sub);
  const r = await runStreaming(file, args, opts);
  return { exitCode: r.exitCode, output: r.output, cancelled: r.cancelled, durationMs: r.durationMs };
}
