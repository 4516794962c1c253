/**
 * The backup manifest (manifest.json in every backup folder): what was dumped, from which
 * versions, with which checksums and figures. Pure types and checks, no drivers and no Docker.
 */
import { createHash } from 'node:crypto';
import { HelfyError } from '../core/errors.js';

export const MANIFEST_FORMAT = 2;
export const MANIFEST_FILE = 'manifest.json';
/**
 * The manifest's own checksum, in `sha256sum` format (`<hex>  manifest.json`): written beside it
 * and checked before anything trusts the manifest (`cd <backup> && sha256sum -c manifest.json.sha256`
 * checks it from outside). Required from manifest format 2 on; a format-1 backup (an older helfy)
 * has none.
 */
export const MANIFEST_SUM_FILE = 'manifest.json.sha256';
export const PARTIAL_SUFFIX = '.partial';

export type Store = 'postgres' | 'neo4j';
export const STORES: readonly Store[] = ['postgres', 'neo4j'];

/** The databases a backup holds, in restore order. */
export const PG_DATABASES = ['helfy_app', 'helfy_temporal', 'helfy_temporal_visibility'] as const;
export const NEO4J_DATABASES = ['system', 'neo4j'] as const;
/** Services that write to the stores; stopped for a consistent set (in this order), started in reverse. */
export const WRITERS = ['api', 'worker', 'temporal'] as const;

export interface BackupFile {
  /** File name inside the backup folder. */
  name: string;
  store: Store;
  kind: 'globals' | 'database';
  database?: string;
  bytes: number;
  sha256: string;
  durationMs: number;
}

/** What a restore must reproduce: compared after every restore and restore test. */
export interface Figures {
  postgres?: {
    /** `schema.table` of helfy_app → exact row count. */
    rows: Record<string, number>;
    /** hypertable → chunk count; null when timescaledb is not installed. */
    chunks: Record<string, number> | null;
  };
  neo4j?: {
    labels: Record<string, number>;
    relationships: Record<string, number>;
  };
  temporal?: {
    namespaces: string[];
    /** Closed workflow executions per namespace (from the visibility store). */
    closedWorkflows: Record<string, number>;
  };
}

export interface ServiceRecord {
  image: string;
  imageId: string;
  digests: string[];
}

export interface Manifest {
  format: number;
  id: string;
  name?: string;
  project: string;
  helfyVersion: string;
  createdAt: string;
  durationMs: number;
  stores: Store[];
  /** Writers were stopped for the whole dump: the set is consistent across the stores. */
  consistent: boolean;
  writersStopped: string[];
  writersDowntimeMs: number;
  services: Record<string, ServiceRecord>;
  postgres?: {
    serverVersion: string;
    serverVersionNum: number;
    pgDumpVersion: string;
    /** Per database: its extensions (name → version). */
    databases: Record<string, { extensions: Record<string, string> }>;
    migrationHead: string | null;
  };
  temporal?: {
    serverVersion: string | null;
    schemaVersion: { main: string | null; visibility: string | null };
    historyShards: number | null;
  };
  neo4j?: {
    version: string;
    edition: string;
    databases: string[];
    migrationHead: number | null;
  };
  files: BackupFile[];
  figures: Figures;
  warnings: string[];
}

export const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** `20261201T103712Z[-name]`: sorts by time, safe as a folder name everywhere. */
export function backupId(at: Date, name?: string): string {
  if (name !== undefined && !NAME_RE.test(name)) {
    throw new HelfyError('USAGE', `--name ${JSON.stringify(name)}: expected lowercase letters, digits, - and _ (at most 40)`, { hint: 'For example: --name before-upgrade' });
  }
  const iso = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return name ? `${iso}-${name}` : iso;
}

/** The time encoded in an id (undefined for a folder that is not a backup id). */
export function idTime(id: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-|$)/.exec(id);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/** Parses manifest.json text; a damaged or foreign file is a clear error. */
export function parseManifest(text: string, where: string): Manifest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new HelfyError('BACKUP_DAMAGED', `${where}: manifest.json is not valid JSON (${(e as Error).message})`, { hint: 'The backup is damaged; use another one.' });
  }
  const m = v as Partial<Manifest>;
  if (!m || typeof m !== 'object' || typeof m.format !== 'number' || typeof m.id !== 'string' || !Array.isArray(m.files)) {
    throw new HelfyError('BACKUP_DAMAGED', `${where}: manifest.json is not a helfy backup manifest`, { hint: 'The backup is damaged; use another one.' });
  }
  if (m.format > MANIFEST_FORMAT) {
    throw new HelfyError('BACKUP_INCOMPATIBLE', `${where}: manifest format ${m.format} is newer than this helfy understands (${MANIFEST_FORMAT})`, { hint: 'Upgrade helfy to restore it.' });
  }
  return m as Manifest;
}

export function totalBytes(m: Pick<Manifest, 'files'>): number {
  return m.files.reduce((s, f) => s + f.bytes, 0);
}

/** `--only postgres,neo4j` → the stores, validated. */
export function parseStores(raw: string | undefined): Store[] {
  if (!raw) return [...STORES];
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = parts.filter((p) => !(STORES as readonly string[]).includes(p));
  if (bad.length || !parts.length) {
    throw new HelfyError('USAGE', `--only ${raw}: unknown store${bad.length > 1 ? 's' : ''} ${bad.join(', ')}`.trim(), { hint: `Stores: ${STORES.join(', ')}.` });
  }
  return STORES.filter((s) => parts.includes(s));
}

/** The `sha256sum` line of a manifest's text. */
export function manifestSumLine(text: string): string {
  return `${createHash('sha256').update(text).digest('hex')}  ${MANIFEST_FILE}\n`;
}

/**
 * Why a manifest's text does not match its checksum file (undefined when it does). `sum` is the
 * checksum file's text, or undefined when there is none: allowed only for format 1.
 */
export function manifestSumProblem(text: string, sum: string | undefined, format: number): string | undefined {
  if (sum === undefined) return format >= 2 ? `${MANIFEST_SUM_FILE} is missing (the manifest cannot be trusted)` : undefined;
  const m = /^([0-9a-f]{64}) [ *]manifest\.json\s*$/.exec(sum);
  if (!m) return `${MANIFEST_SUM_FILE} is not a sha256sum line for ${MANIFEST_FILE}`;
  const actual = createHash('sha256').update(text).digest('hex');
  return actual === m[1] ? undefined : `${MANIFEST_FILE} was changed or damaged: its sha256 is ${actual}, ${MANIFEST_SUM_FILE} says ${m[1]}`;
}
