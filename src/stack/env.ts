/**
 * The environment helfy runs compose with. Compose interpolates `${HELFY_*}` in the compose file
 * from it, so the values helfy resolved (flags > environment > .env > helfy.config.json >
 * defaults) are exactly what the containers get, whatever compose itself would read.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { appSource, type AppName } from '../config/apps.js';
import type { HelfyConfig } from '../config/load.js';
import { PACKAGE_ROOT } from '../config/paths.js';
import { CATALOG } from './catalog.js';
import { composeModel, hashVar } from './compose-file.js';
import { workspaceConfigDir } from './config-mounts.js';
import { hostFor } from './probes.js';
import { addressIn, contextVar, PROXY_NETWORK } from './services/app.js';
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

/**
 * Where each built service's image is built from: the workspace copy of its app (apps/<app>)
 * when there is one, else the bundled template (config/apps.ts decides).
 */
export function buildContexts(cfg: HelfyConfig): Partial<Record<ServiceName, { dir: string; from: 'workspace' | 'template' }>> {
  const out: Partial<Record<ServiceName, { dir: string; from: 'workspace' | 'template' }>> = {};
  for (const def of CATALOG) {
    if (!def.build) continue;
    // The built services are the apps (api, web); a future one without an app builds its folder.
    out[def.name] = def.name === 'api' || def.name === 'web' ? appSource(cfg.root, def.name as AppName) : { dir: join(PACKAGE_ROOT, def.build.context), from: 'template' };
  }
  return out;
}

export function buildTags(cfg: HelfyConfig, contexts = buildContexts(cfg)): Partial<Record<ServiceName, string>> {
  const out: Partial<Record<ServiceName, string>> = {};
  for (const [name, c] of Object.entries(contexts) as [ServiceName, { dir: string }][]) out[name] = buildTag(c.dir, cfg.images.node);
  return out;
}

/**
 * The /28 of the web → api network for a project: one of the 4,096 in 10.254.0.0/16, picked by a
 * hash of the project name, so two projects on one engine practically never share one.
 */
export function proxySubnet(projectName: string): string {
  const n = createHash('sha256').update(projectName).digest().readUInt16BE(0) % 4096;
  return `10.254.${n >> 4}.${(n & 15) * 16}/28`;
}

/** The host of the web app's URL as helfy prints it (0.0.0.0 / :: → 127.0.0.1; IPv6 in brackets). */
export function webHost(cfg: HelfyConfig): string {
  const host = hostFor(cfg);
  return host.includes(':') ? `[${host}]` : host;
}

/** The origin a browser has on the web app's URL as helfy prints it (0.0.0.0 / :: → 127.0.0.1). */
export function webOrigin(cfg: HelfyConfig): string {
  return `http://${webHost(cfg)}:${cfg.ports.web}`;
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
  /** Per built service: the folder its image is built from, and whether that is the workspace copy. */
  buildContexts: Partial<Record<ServiceName, { dir: string; from: 'workspace' | 'template' }>>;
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
  const contexts = buildContexts(cfg);
  const tags = buildTags(cfg, contexts);
  for (const def of CATALOG) if (def.build && tags[def.name]) vars[def.build.tagVar] = tags[def.name]!;
  for (const [name, c] of Object.entries(contexts) as [ServiceName, { dir: string }][]) vars[contextVar(name)] = c.dir;
  const subnet = proxySubnet(cfg.projectName);
  vars[PROXY_NETWORK.subnetVar] = subnet;
  for (const m of Object.values(PROXY_NETWORK.members)) vars[m!.addressVar] = addressIn(subnet, m!.offset);
  // The API's WEB_ORIGIN is http://${HELFY_WEB_HOST}:${HELFY_WEB_PORT} (compose v1 has no nested
  // defaults, so not one variable with a default that follows the port): both always set here.
  vars.HELFY_WEB_HOST = webHost(cfg);
  vars.HELFY_WEB_PORT = String(cfg.ports.web);
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
  return { vars, hashes, buildTags: tags, buildContexts: contexts };
}
