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
import { workspaceConfigDir } from './config-mounts.js';
import type { ServiceName } from './types.js';

export const TEMPLATES_DIR = join(PACKAGE_ROOT, 'templates');

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * `.dockerignore` of a build context as one predicate over context-relative paths: what the
 * engine leaves out of the context does not change the image, so it does not change the tag
 * either (a local `npm run build` writing dist/ must not force a rebuild). The subset of the
 * syntax the templates use: one pattern per line, `#` comments, `*` and `**`, a pattern matching
 * a folder excludes everything below it, `!` re-includes.
 */
export function dockerignore(contextDir: string): (rel: string) => boolean {
  let text = '';
  try {
    text = readFileSync(join(contextDir, '.dockerignore'), 'utf8');
  } catch {
    return (rel) => rel === 'node_modules' || rel.startsWith('node_modules/');
  }
  const rules = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
    const negate = l.startsWith('!');
    const pat = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
    const re = pat.split('**').map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('.*');
    return { negate, re: new RegExp(`^${re}(/.*)?$`) };
  });
  return (rel) => {
    // The recipe itself always counts, whatever the ignore file says (the engine reads it anyway).
    if (rel === 'Dockerfile' || rel === '.dockerignore') return false;
    let out = false;
    for (const r of rules) if (r.re.test(rel)) out = !r.negate;
    return out;
  };
}

function filesUnder(dir: string, ignored: (rel: string) => boolean, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    const rel = p.slice(base.length + 1);
    if (ignored(rel)) continue;
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, ignored, base));
    else out.push(p);
  }
  return out;
}

/** Tag of a built service's image: changes when its template files or the Node base image change. */
export function buildTag(templateDir: string, nodeImage: string): string {
  const h = createHash('sha256').update(`base ${nodeImage}\n`);
  for (const f of filesUnder(templateDir, dockerignore(templateDir))) h.update(`${f.slice(templateDir.length)}\n`).update(readFileSync(f));
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
  // Configuration folders are mounted from the workspace copy (config-mounts.ts writes it).
  for (const def of CATALOG) for (const m of def.configMounts ?? []) vars[m.dirVar] = workspaceConfigDir(cfg, m.source);
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
