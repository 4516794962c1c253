/**
 * The options of `helfy export kubernetes|swarm`, checked before anything is read or written: a
 * malformed registry, tag or namespace is a one-line usage error (exit 2) naming the flag.
 */
import { HelfyError } from '../core/errors.js';

export type ExportTarget = 'kubernetes' | 'swarm';
export type SecretsMode = 'embed' | 'external';

export interface ExportOptions {
  target: ExportTarget;
  /** The folder the export is written to (absolute). */
  out: string;
  /** `<host>/<namespace>` the app images are pulled from (`helfy-local`: the images `docker compose build` tags). */
  registry: string;
  tag: string;
  /** Kubernetes namespace (default: the project name). */
  namespace?: string;
  secrets: SecretsMode;
  force: boolean;
}

export const DEFAULT_REGISTRY = 'helfy-local';
export const DEFAULT_TAG = 'dev';

/** A path component of an image reference (lower case, separators `.`, `_`, `__`, `-`). */
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** An optional registry host (`ghcr.io`, `registry.local:5000`, `localhost:5000`) then one or more components. */
export const REGISTRY_RE = new RegExp(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?/)?${COMPONENT}(?:/${COMPONENT})*$`);
/** Docker's tag grammar. */
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** A DNS-1123 label (Kubernetes namespace names). */
export const NAMESPACE_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkRegistry(registry: string): string {
  if (!REGISTRY_RE.test(registry)) {
    throw new HelfyError('USAGE', `--registry ${JSON.stringify(registry)} is not a registry and namespace`, {
      hint: 'Pass <host>/<namespace> without a scheme, tag or trailing slash, e.g. --registry ghcr.io/acme or --registry registry.local:5000/helfy.',
    });
  }
  return registry;
}

export function checkTag(tag: string): string {
  if (!TAG_RE.test(tag)) {
    throw new HelfyError('USAGE', `--tag ${JSON.stringify(tag)} is not an image tag`, {
      hint: 'A tag is up to 128 letters, digits, _, . and -, not starting with . or -, e.g. --tag 1.4.0 or --tag main-3f2a1c9.',
    });
  }
  if (tag === 'latest') {
    throw new HelfyError('USAGE', '--tag latest is refused: a deployment must name the images it runs', {
      hint: 'Pass a version or a commit, e.g. --tag 1.4.0 or --tag "$(git rev-parse --short HEAD)".',
    });
  }
  return tag;
}

export function checkNamespace(ns: string): string {
  if (!NAMESPACE_RE.test(ns)) {
    throw new HelfyError('USAGE', `--namespace ${JSON.stringify(ns)} is not a Kubernetes namespace name`, {
      hint: 'Use up to 63 lower-case letters, digits and -, starting and ending with a letter or digit, e.g. --namespace helfy-staging.',
    });
  }
  return ns;
}

/** The default namespace: the project name made a DNS label (`my_stack` → `my-stack`). */
export function namespaceFrom(project: string): string {
  const ns = project.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return ns || 'helfy';
}

/** The options as commander hands them over, checked. */
export function parseExportOptions(target: ExportTarget, opts: Record<string, unknown>, resolveOut: (p: string) => string): ExportOptions {
  const out = typeof opts.out === 'string' ? opts.out.trim() : '';
  if (!out) {
    throw new HelfyError('USAGE', `helfy export ${target} needs --out <dir>`, { hint: `Name the folder to write, e.g. helfy export ${target} --out deploy/${target === 'kubernetes' ? 'k8s' : 'swarm'}.` });
  }
  const secrets = (opts.secrets as string | undefined) ?? 'embed';
  if (secrets !== 'embed' && secrets !== 'external') {
    throw new HelfyError('USAGE', `--secrets ${JSON.stringify(secrets)}: expected embed or external`, { hint: 'embed writes the .env secrets into the export; external references secrets you create yourself.' });
  }
  return {
    target,
    out: resolveOut(out),
    registry: checkRegistry(String(opts.registry ?? DEFAULT_REGISTRY)),
    tag: checkTag(String(opts.tag ?? DEFAULT_TAG)),
    namespace: opts.namespace === undefined ? undefined : checkNamespace(String(opts.namespace)),
    secrets,
    force: Boolean(opts.force),
  };
}
