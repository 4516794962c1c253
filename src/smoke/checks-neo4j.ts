/** The `neo4j` checks of `helfy smoke`: the migrations' schema objects, the seeded library. */
import type { HelfyConfig } from '../config/load.js';
import { SkipCheck, type CheckDef } from './scheduler.js';

const quiet = { info() {}, success() {}, warn() {}, error() {}, debug() {}, raw() {} };

/** What `verifyStores` says of Neo4j (undefined when it gave no result). */
export interface Neo4jSchemaView {
  pendingFiles: readonly string[];
  checkedFiles: readonly string[];
  drift: readonly { kind: string; message: string }[];
}

/** No pending migration and no drift but extra objects: how many files were checked; else an Error. */
export function neo4jSchemaVerdict(neo4j: Neo4jSchemaView | undefined): string {
  if (!neo4j) throw new Error('no result');
  if (neo4j.pendingFiles.length) throw new Error(`${neo4j.pendingFiles.length} migration(s) not applied: ${neo4j.pendingFiles.join(', ')}`);
  const real = neo4j.drift.filter((d) => d.kind !== 'unexpected');
  if (real.length) throw new Error(real.map((d) => d.message).join('; '));
  return `${neo4j.checkedFiles.length} migration(s) checked, no drift`;
}

/** The Neo4j probe's library counts: loaded (the counts), empty (a skip) or partly loaded (an Error). */
export function libraryVerdict(p: { ok: boolean; detail: string; info?: Record<string, unknown> }): string {
  if (!p.ok) throw new Error(p.detail);
  const lib = p.info?.library as { exercises: number; foods: number; routines: number; loaded: boolean } | undefined;
  if (!lib) throw new Error('no library counts');
  if (lib.loaded && lib.exercises > 0 && lib.foods > 0) return `${lib.exercises} exercises, ${lib.foods} foods, ${lib.routines} routines`;
  if (lib.exercises + lib.foods + lib.routines === 0) throw new SkipCheck('the stack was not seeded (`helfy seed`)');
  throw new Error(`library partly loaded: ${lib.exercises} exercises, ${lib.foods} foods, ${lib.routines} routines (run \`helfy seed\`)`);
}

export function neo4jSchemaCheck(cfg: HelfyConfig, timeoutMs: number): CheckDef {
  return {
    id: 'neo4j.schema', group: 'neo4j', name: 'constraints and indexes of the applied migrations exist', timeoutMs, service: 'neo4j',
    async run() {
      const { verifyStores } = await import('../db/orchestrate.js');
      const { neo4j } = await verifyStores(cfg, quiet, ['neo4j']);
      return neo4jSchemaVerdict(neo4j);
    },
  };
}

export function libraryCheck(cfg: HelfyConfig, timeoutMs: number): CheckDef {
  return {
    id: 'neo4j.library', group: 'neo4j', name: 'the library is loaded (when the stack was seeded)', timeoutMs, service: 'neo4j',
    async run() {
      const { probeNeo4j } = await import('../db/probes.js');
      return libraryVerdict(await probeNeo4j(cfg, timeoutMs));
    },
  };
}

/** The neo4j group, in report order. */
export function neo4jChecks(cfg: HelfyConfig, timeoutMs: number): CheckDef[] {
  return [neo4jSchemaCheck(cfg, timeoutMs), libraryCheck(cfg, timeoutMs)];
}
