/**
 * Configuration folders the containers mount read-only (today: Temporal's dynamic config). The
 * originals ship in compose/; `helfy up` copies them into the workspace, under `.helfy/` (which
 * `helfy init` puts in .gitignore), and compose mounts the copy through the folder's HELFY_*_DIR
 * variable. Mounting from helfy's install folder would fail on Docker Desktop for Mac, which
 * shares only a few host folders (/Users, /Volumes, /private, /tmp, /var/folders) by default: a
 * global npm install lives elsewhere, and the engine would mount an empty folder instead.
 *
 * Writes are atomic per file (temporary name + rename inside the mounted folder, which a running
 * container sees at once) and skipped when the content is already the same.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HelfyConfig } from '../config/load.js';
import { CATALOG } from './catalog.js';
import { COMPOSE_FILE } from './compose-file.js';
import type { ServiceDef } from './types.js';

export const STATE_DIR = '.helfy';

/** Absolute path of the workspace copy of a shipped folder (`./temporal/dynamicconfig`). */
export function workspaceConfigDir(cfg: Pick<HelfyConfig, 'root'>, source: string): string {
  return join(cfg.root, STATE_DIR, source.replace(/^\.\//, ''));
}

export interface ConfigMountWrite {
  /** Workspace file written. */
  file: string;
  changed: boolean;
}

/** Copies every shipped configuration folder of `defs` into the workspace; returns what it wrote. */
export function writeConfigMounts(cfg: Pick<HelfyConfig, 'root'>, defs: readonly ServiceDef[] = CATALOG, composeDir = dirname(COMPOSE_FILE)): ConfigMountWrite[] {
  const out: ConfigMountWrite[] = [];
  for (const def of defs) {
    for (const m of def.configMounts ?? []) {
      const from = join(composeDir, m.source);
      const to = workspaceConfigDir(cfg, m.source);
      mkdirSync(to, { recursive: true });
      for (const name of readdirSync(from).sort()) {
        const src = join(from, name);
        if (!statSync(src).isFile()) continue;
        const dest = join(to, name);
        const want = readFileSync(src);
        let have: Buffer | undefined;
        try {
          have = readFileSync(dest);
        } catch {
          have = undefined;
        }
        if (have?.equals(want)) {
          out.push({ file: dest, changed: false });
          continue;
        }
        const tmp = join(dirname(dest), `.${name}.${process.pid}.tmp`);
        try {
          // World-readable: the container user (temporal, uid 1000) is not the host user.
          writeFileSync(tmp, want, { mode: 0o644 });
          renameSync(tmp, dest);
        } catch (e) {
          rmSync(tmp, { force: true });
          throw e;
        }
        out.push({ file: dest, changed: true });
      }
    }
  }
  return out;
}
