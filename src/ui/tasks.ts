/** listr2 with the renderer that fits: animated on a TTY, plain lines in CI/pipes, silent for --json. */
import type { GlobalOptions, TaskRunner } from '../core/context.js';

export function createTaskRunner(opts: Pick<GlobalOptions, 'json' | 'quiet' | 'color'>, stderrIsTTY: boolean, ci: boolean): TaskRunner {
  return {
    async run(tasks, runOpts = {}) {
      const { Listr, ListrLogger, ProcessOutput, PRESET_TIMER } = await import('listr2');
      const silent = opts.json || opts.quiet;
      const fancy = stderrIsTTY && !ci;
      const list = new Listr(tasks, {
        concurrent: runOpts.concurrent ?? false,
        exitOnError: runOpts.exitOnError ?? true,
        ctx: runOpts.ctx,
        renderer: silent ? 'silent' : fancy ? 'default' : 'simple',
        // The renderers write through their logger's process output (listr2 9 ignores a top-level
        // processOutput): without this the plain CI lines land on stdout, which is for results.
        rendererOptions: {
          timer: { ...PRESET_TIMER, field: (d: number) => `${(d / 1000).toFixed(1)}s` },
          logger: new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(process.stderr as NodeJS.WriteStream, process.stderr as NodeJS.WriteStream) }),
        } as never,
        registerSignalListeners: false,
        collectErrors: false,
      } as never);
      return (await list.run()) as never;
    },
  };
}
