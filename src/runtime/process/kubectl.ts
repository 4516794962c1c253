/**
 * The kubectl adapter of the KubectlPort (src/deploy/port.ts): finds kubectl on PATH and runs it
 * to its end with the context's environment (KUBECONFIG included), with a time limit.
 */
import type { KubectlPort } from '../../deploy/port.js';
import { findOnPath, runStreaming } from './stream.js';

export function kubectlAdapter(env: NodeJS.ProcessEnv): KubectlPort {
  let bin: string | undefined;
  return {
    async locate() {
      return (bin = await findOnPath('kubectl', env));
    },
    async run(args, opts) {
      const r = await runStreaming(bin ?? 'kubectl', args, { env, signal: opts.signal, timeoutMs: opts.timeoutMs, onLine: opts.onLine });
      return { exitCode: r.exitCode, output: r.output, timedOut: r.timedOut };
    },
  };
}
