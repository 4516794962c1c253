/**
 * The environment helfy runs compose with. Compose interpolates `${HELFY_*}` in the compose file
 * from it, so the values helfy resolved (flags > environment > .env > helfy.config.json >
 * defaults) are exactly what the containers get, whatever compose itself would read.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HelfyConfig } from '../config/load.js';
import { PACKAGE_ROOT } from '../config/paths.js';
import { CATALOG } from './catalog.js';
import { composeModel, hashVar } from './compose-file.js';
import type { ServiceName } from './types.js';

export const TEMPLATES_DIR = join(PACKAGE_ROOT, 'templates');

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    if (e === 'node_modules') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** Tag of a built service's image: changes when its template files or the Node base image change. */
export function buildTag(templateDir: string, nodeImage: string): string {
  const h = createHash('sha256').update(`base ${nodeImage}\n`);
  for (const f of filesUnder(templateDir)) h.update(`${f.slice(templateDir.length)}\n`).update(readFileSync(f));
  return h.digest('hex').slice(0, 12);
}

export function buildTags(cfg: HelfyConfig): Partial<Record<ServiceName, string>> {
  const out: Partial<Record<ServiceName, string>> = {};
  for (const def of CATALOG) {
    if (def.build) out[def.name] = buildTag(join(PACKAGE_ROOT, def.build.context), cfg.images.node);
  }
  return out;
}

/** `${NAME...}` variables a text refers to. */
export function referencedVars(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))].sort();
}

export interface ComposeEnv {
  /** Variables to add to the environment of every compose invocation. */
  vars: Record<string, string>;
  /** Per service: the hash of its definition and the values it uses (label dev.helfy.config-hash). */
  hashes: Record<ServiceName, string>;
  buildTags: Partial<Record<ServiceName, string>>;
}

/**
 * Interpolation variables for the compose file. Secrets that are not set (e.g. `down` on a
 * workspace without them) get a placeholder so compose can still parse the file.
 */
export function composeEnv(cfg: HelfyConfig, opts: { placeholderSecrets?: boolean } = {}): ComposeEnv {
  const vars: Record<string, string> = {};
  for (const v of cfg.values) {
    if (v.raw !== undefined && v.raw !== '') vars[v.key] = v.raw;
    else if (v.secret && opts.placeholderSecrets) vars[v.key] = 'unset';
  }
  const tags = buildTags(cfg);
  for (const def of CATALOG) if (def.build && tags[def.name]) vars[def.build.tagVar] = tags[def.name]!;
  const model = composeModel();
  const hashes = {} as Record<ServiceName, string>;
  for (const def of CATALOG) {
    const text = JSON.stringify(model.services[def.name]);
    const used = referencedVars(text).filter((k) => k !== hashVar(def.name));
    hashes[def.name] = sha(`${text}\n${used.map((k) => `${k}=${vars[k] ?? ''}`).join('\n')}`);
    vars[hashVar(def.name)] = hashes[def.name];
  }
  return { vars, hashes, buildTags: tags };
}
