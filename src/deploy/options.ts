/**
 * The options of `helfy deploy swarm|kubernetes`, checked before anything is built or deployed:
 * a malformed --timeout, --tag or --registry is a one-line usage error (exit 2) naming the flag.
 */
import { HelfyError } from '../core/errors.js';
import { checkNamespace, checkRegistry, checkTag, DEFAULT_REGISTRY } from '../export/options.js';
import { parseDuration } from '../stack/duration.js';

/** How long a deployment may take to become healthy (image builds do not count). */
export const DEFAULT_TIMEOUT = '10m';

export interface SwarmDeployOptions {
  timeoutMs: number;
  /** Take the stack down instead. */
  remove: boolean;
  /** With remove: also delete the stack's volumes (its data). */
  volumes: boolean;
}

export interface KubernetesDeployOptions {
  timeoutMs: number;
  remove: boolean;
  registry: string;
  tag: string;
  namespace?: string;
}

function timeout(opts: Record<string, unknown>): number {
  const ms = parseDuration(String(opts.timeout ?? DEFAULT_TIMEOUT), '--timeout');
  if (ms < 1000) throw new HelfyError('USAGE', `--timeout ${String(opts.timeout)} is shorter than a second`, { hint: 'A deployment takes minutes: use e.g. --timeout 10m.' });
  return ms;
}

export function parseSwarmOptions(opts: Record<string, unknown>): SwarmDeployOptions {
  const remove = Boolean(opts.remove);
  if (opts.volumes && !remove) throw new HelfyError('USAGE', '--volumes only goes with --remove', { hint: 'helfy deploy swarm --remove --volumes takes the stack down and deletes its data.' });
  return { timeoutMs: timeout(opts), remove, volumes: Boolean(opts.volumes) };
}

export function parseKubernetesOptions(opts: Record<string, unknown>): KubernetesDeployOptions {
  return {
    timeoutMs: timeout(opts),
    remove: Boolean(opts.remove),
    registry: checkRegistry(String(opts.registry ?? DEFAULT_REGISTRY)),
    tag: checkTag(String(opts.tag ?? 'dev')),
    namespace: opts.namespace === undefined ? undefined : checkNamespace(String(opts.namespace)),
  };
}
