/**
 * `helfy export kubernetes|swarm`: load the workspace, build the files of the target from the
 * service catalog, refuse an `--out` folder holding other files (unless --force), write them as a
 * set. Returns what was written; secret values are never part of the result.
 */
import { loadConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import { builder } from '../stack/catalog.js';
import { kubernetesFiles, renderKubeFile, SECRET_NAME } from './kubernetes.js';
import { exportedServices, imageOf, type SecretKey } from './model.js';
import { DEFAULT_REGISTRY, namespaceFrom, type ExportOptions, type ExportTarget, type SecretsMode } from './options.js';
import { secretName, STACK_FILE, swarmExport } from './swarm.js';
import { refusal, writeExport, type OutFile } from './write.js';

export interface ExportResult {
  target: ExportTarget;
  out: string;
  /** Files written, relative to `out`. */
  files: string[];
  /** Kubernetes: every object (kind, name, file). */
  objects?: { kind: string; name: string; file: string }[];
  /** Swarm: every service of the stack file (the one-off steps included). */
  services?: string[];
  namespace?: string;
  /** Image of every exported service. */
  images: Record<string, string>;
  secrets: SecretsMode;
  /** The secret keys the export references (names only), and where they live. */
  secretKeys: SecretKey[];
  secretStore: string;
  /** The command that deploys it. */
  deploy: string;
  notes: string[];
}

export async function exportStack(ctx: Context, opts: ExportOptions): Promise<ExportResult> {
  const cfg = loadConfig({ cwd: ctx.options.cwd, env: ctx.env, requireSecrets: opts.secrets === 'embed' });
  const refused = await refusal(opts.out, opts.target, cfg.root);
  if (refused && !(opts.force && refused.code === 'OUTPUT_NOT_EMPTY')) throw refused;
  const images = Object.fromEntries(exportedServices().map((d) => [d.name, imageOf(d, cfg, opts.registry, opts.tag)]));
  const notes: string[] = [];
  const apps = [...new Set(exportedServices().map((d) => builder(d)?.name).filter(Boolean))].map((n) => `${opts.registry}/${n}:${opts.tag}`);
  if (opts.registry === DEFAULT_REGISTRY) notes.push(`images ${apps.join(', ')} are the local ones \`docker compose build\` tags; a cluster must be able to pull them (push them to a registry and pass --registry)`);
  else notes.push(`push ${apps.join(' and ')} before deploying (helfy builds them with \`helfy up\`; docker tag + docker push)`);

  if (opts.target === 'kubernetes') {
    const namespace = opts.namespace ?? namespaceFrom(cfg.projectName);
    const { files, secretKeys } = kubernetesFiles(cfg, opts, namespace);
    const out: OutFile[] = files.map((f) => ({ path: f.path, content: renderKubeFile(f), mode: f.path === 'secret.yaml' ? 0o600 : 0o644 }));
    await writeExport(opts.out, opts.target, out);
    if (opts.secrets === 'external') notes.push(`create the Secret ${SECRET_NAME} in namespace ${namespace} with the keys ${secretKeys.join(', ')} before applying`);
    notes.push('PersistentVolumeClaims use the default storage class; an ingress to the web Service (port 3000) is yours to add');
    return {
      target: 'kubernetes', out: opts.out, files: out.map((f) => f.path), namespace, images, secrets: opts.secrets, secretKeys,
      objects: files.filter((f) => f.path !== 'kustomization.yaml').flatMap((f) => f.docs.map((d) => ({ kind: String(d.kind), name: String((d.metadata as { name: string }).name), file: f.path }))),
      secretStore: opts.secrets === 'embed' ? `Secret ${SECRET_NAME} (secret.yaml)` : `Secret ${SECRET_NAME} (external: create it yourself)`,
      deploy: `kubectl apply -k ${opts.out}`,
      notes,
    };
  }
  const sw = swarmExport(cfg, opts);
  await writeExport(opts.out, opts.target, sw.files);
  if (opts.secrets === 'external') notes.push(`create the Docker secrets ${sw.secretKeys.map(secretName).join(', ')} (docker secret create <name> -) before deploying`);
  return {
    target: 'swarm', out: opts.out, files: sw.files.map((f) => f.path), services: sw.services, images, secrets: opts.secrets, secretKeys: sw.secretKeys,
    secretStore: opts.secrets === 'embed' ? 'Docker secrets from secrets/ (mode 0600)' : 'external Docker secrets',
    deploy: `docker stack deploy -c ${opts.out}/${STACK_FILE} ${cfg.projectName}`,
    notes,
  };
}
