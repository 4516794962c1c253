/**
 * `helfy deploy swarm|kubernetes`: parse, call the deploy domain (src/deploy: the Swarm and the
 * Kubernetes orchestration through their ports, the export written into the workspace), render.
 */
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { kubernetesDeploy, type KubernetesDeployResult } from '../deploy/kubernetes.js';
import { parseKubernetesOptions, parseSwarmOptions } from '../deploy/options.js';
import { swarmDeploy, type SwarmResult } from '../deploy/swarm.js';

export type { KubernetesDeployResult, SwarmResult };

export const swarm = {
  run(ctx: Context, input: CommandInput): Promise<SwarmResult> {
    return swarmDeploy(ctx, parseSwarmOptions(input.opts));
  },
  render(r: SwarmResult, ctx: Context): void {
    const took = `${(r.durationMs / 1000).toFixed(1)}s`;
    if (r.action === 'deployed') {
      ctx.log.success(`stack ${r.stack} deployed: ${r.services.length} services settled in ${took} (images ${Object.values(r.images).join(', ')})`);
      for (const u of r.urls) ctx.stdout(`${u.label.padEnd(4)} ${u.url}`);
      return;
    }
    if (r.action === 'nothing-to-do') ctx.log.success(`stack ${r.stack} is not deployed; nothing to remove`);
    else if (r.action === 'cancelled') ctx.log.warn('cancelled: nothing was removed');
    else {
      const x = r.removed;
      ctx.log.success(`stack ${r.stack} removed in ${took}: ${x.services.length} service(s), ${x.networks.length} network(s), ${x.configs.length} config(s), ${x.secrets.length} secret(s), ${x.volumes.length} volume(s)`);
    }
    if (r.keptVolumes.length) ctx.log.info(`data kept in ${r.keptVolumes.length} volume(s): ${r.keptVolumes.join(', ')} (delete with \`helfy deploy swarm --remove --volumes\`)`);
  },
  exitCode(r: SwarmResult) {
    return r.action === 'cancelled' ? 1 : 0;
  },
};

export const kubernetes = {
  run(ctx: Context, input: CommandInput): Promise<KubernetesDeployResult> {
    return kubernetesDeploy(ctx, parseKubernetesOptions(input.opts));
  },
  render(r: KubernetesDeployResult, ctx: Context): void {
    ctx.log.success(r.action === 'deployed'
      ? `applied ${r.dir} to namespace ${r.namespace}: ${r.workloads.length} workloads ready in ${(r.durationMs / 1000).toFixed(1)}s`
      : `deleted the objects of ${r.dir} from namespace ${r.namespace}`);
  },
};
