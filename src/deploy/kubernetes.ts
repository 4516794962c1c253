/**
 * `helfy deploy kubernetes`: `helfy export kubernetes` into the workspace (.helfy/deploy/kubernetes/),
 * `kubectl apply -k` with the kubectl found on PATH (its current context, or KUBECONFIG), then
 * waits: `kubectl rollout status` for every Deployment and StatefulSet and `kubectl wait
 * --for=condition=complete` for every Job, all within one --timeout. helfy builds no images for a
 * cluster (it cannot know which registry the cluster pulls from): --registry and --tag name images
 * you pushed, as for `helfy export kubernetes`.
 *
 * No kubectl: exit 3 naming it. A kubectl that cannot reach its cluster: one line with kubectl's
 * own cause (exit 3) and a hint. `--remove`: `kubectl delete -k` of the same folder (the
 * PersistentVolumeClaims, i.e. the data, included: they are part of the export).
 */
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import { exportStack } from '../export/run.js';
import { formatDuration } from '../stack/duration.js';
import type { KubernetesDeployOptions } from './options.js';
import type { CliRun, KubectlPort } from './port.js';

export interface KubernetesDeployResult {
  action: 'deployed' | 'removed';
  namespace: string;
  dir: string;
  kubectl: string;
  /** What was waited for, in order (`deployment/api`, `job/migrate-postgres`, …). */
  workloads: string[];
  durationMs: number;
}

const WAITED = ['Deployment', 'StatefulSet', 'Job'];

/** A kubectl failure as one line: its last error line (a connection failure is the environment's: exit 3). */
export function kubectlFailure(what: string, r: CliRun): HelfyError {
  const lines = r.output.map((l) => l.trim()).filter(Boolean);
  const cause = lines.find((l) => /^error\b|^Error from server|unable to|refused|no such host|i\/o timeout|couldn't get/i.test(l)) ?? lines.at(-1) ?? `exit ${r.exitCode}`;
  const unreachable = /connection refused|no such host|i\/o timeout|unable to connect|dial tcp|failed to download openapi|couldn't get current server API group list|no configuration has been provided|the server could not find|Unauthorized/i.test(lines.join('\n'));
  const short = cause.replace(/^error:\s*/i, '').replace(/; if you choose to ignore these errors.*$/, '');
  return unreachable
    ? new HelfyError('CONNECTION_FAILED', `kubectl cannot reach a cluster (${what}): ${short}`, {
        hint: 'Point kubectl at a cluster: `kubectl config current-context` names the one it uses; set KUBECONFIG or `kubectl config use-context <name>`.',
      })
    : new HelfyError('OPERATION_FAILED', `${what} failed: ${short}`, { hint: 'Run it with --verbose for kubectl\'s whole output.' });
}

export async function kubernetesDeploy(ctx: Context, opts: KubernetesDeployOptions, port?: KubectlPort): Promise<KubernetesDeployResult> {
  const t0 = Date.now();
  const kubectl = port ?? (await import('../runtime/process/kubectl.js')).kubectlAdapter(ctx.env);
  const bin = await kubectl.locate();
  if (!bin) {
    throw new HelfyError('TOOL_MISSING', 'kubectl is not on PATH: helfy deploy kubernetes applies the manifests with it', {
      hint: 'Install kubectl (https://kubernetes.io/docs/tasks/tools/) and point it at your cluster, or write the manifests with `helfy export kubernetes --out <dir>`.',
    });
  }
  const cfg = loadConfig({ cwd: ctx.options.cwd, env: ctx.env, requireSecrets: !opts.remove });
  const dir = join(cfg.root, '.helfy', 'deploy', 'kubernetes');
  const exported = await exportStack(ctx, { target: 'kubernetes', out: dir, registry: opts.registry, tag: opts.tag, namespace: opts.namespace, secrets: 'embed', force: true });
  const namespace = exported.namespace!;
  const deadline = Date.now() + opts.timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const log = (l: string) => ctx.log.debug(`kubectl: ${l}`);

  if (opts.remove) {
    ctx.log.info(`deleting the objects of ${dir} (namespace ${namespace})`);
    const r = await kubectl.run(['delete', '-k', dir, '--ignore-not-found', '--wait', `--timeout=${Math.ceil(left() / 1000)}s`], { timeoutMs: left() + 5000, onLine: log, signal: ctx.signal });
    if (r.exitCode !== 0) throw kubectlFailure('kubectl delete -k', r);
    return { action: 'removed', namespace, dir, kubectl: bin, workloads: [], durationMs: Date.now() - t0 };
  }

  ctx.log.info(`applying ${dir} with ${bin} (namespace ${namespace})`);
  for (const n of exported.notes) ctx.log.info(n);
  const applied = await kubectl.run(['apply', '-k', dir], { timeoutMs: left(), onLine: log, signal: ctx.signal });
  if (applied.exitCode !== 0) throw kubectlFailure('kubectl apply -k', applied);

  // The Jobs first (the bootstrap and migrations the apps wait for), in the export's order.
  const objects = (exported.objects ?? []).filter((o) => WAITED.includes(o.kind));
  const workloads = [...objects.filter((o) => o.kind === 'Job'), ...objects.filter((o) => o.kind !== 'Job')].map((o) => `${o.kind.toLowerCase()}/${o.name}`);
  for (const w of workloads) {
    const seconds = Math.ceil(left() / 1000);
    const args = w.startsWith('job/')
      ? ['wait', '-n', namespace, '--for=condition=complete', `--timeout=${seconds}s`, w]
      : ['rollout', 'status', '-n', namespace, `--timeout=${seconds}s`, w];
    const r = await kubectl.run(args, { timeoutMs: seconds * 1000 + 10_000, onLine: log, signal: ctx.signal });
    if (r.exitCode === 0) {
      ctx.log.success(`${w}: ${w.startsWith('job/') ? 'complete' : 'rolled out'}`);
      continue;
    }
    const text = r.output.join('\n');
    if (r.timedOut || Date.now() >= deadline || /timed out|deadline exceeded/i.test(text)) {
      throw new HelfyError('STACK_UNHEALTHY', `${w} did not ${w.startsWith('job/') ? 'complete' : 'roll out'} within ${formatDuration(opts.timeoutMs)}`, {
        hint: `It stays applied: \`kubectl -n ${namespace} describe ${w}\` and \`kubectl -n ${namespace} logs ${w}\` show why; \`helfy deploy kubernetes --remove\` deletes it all.`,
        data: { workload: w, namespace },
      });
    }
    throw kubectlFailure(`waiting for ${w}`, r);
  }
  return { action: 'deployed', namespace, dir, kubectl: bin, workloads, durationMs: Date.now() - t0 };
}
