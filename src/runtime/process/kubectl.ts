/**
 * The kubectl adapter of the KubectlPort (src/deploy/port.ts): finds kubectl on PATH and runs it
 * to its end with the context's environment (KUBECONFIG included), with a time limit.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { KubectlPort } from '../../deploy/port.js';

export function kubectlAdapter(env: NodeJS.ProcessEnv): KubectlPort {
  let bin: string | undefined;
  return {
    async locate() {
      for (const dir of (env.PATH ?? '').split(delimiter)) {
        if (!dir) continue;
        try {
          await access(join(dir, 'kubectl'), constants.X_OK);
          return (bin = join(dir, 'kubectl'));
        } catch {
          /* not here */
        }
      }
      return undefined;
    },
    async run(args, opts) {
      const { execa } = await import('execa');
      const child = execa(bin ?? 'kubectl', args, {
        env, extendEnv: false, reject: false, stdin: 'ignore', all: true, cleanup: false, forceKillAfterDelay: 3000, timeout: opts.timeoutMs,
        ...(opts.signal ? { cancelSignal: opts.signal } : {}),
      });
      const output: string[] = [];
      let partial = '';
      child.all?.on('data', (chunk: Buffer) => {
        const parts = (partial + chunk.toString('utf8')).split(/\r?\n/);
        partial = parts.pop() ?? '';
        for (const p of parts) {
          output.push(p);
          opts.onLine?.(p);
        }
      });
      const r = await child;
      if (partial) output.push(partial);
      return { exitCode: r.exitCode ?? -1, output, timedOut: Boolean(r.timedOut) };
    },
  };
}
