/**
 * Prompts that know about CI: never ask when stdin is not a TTY, CI is set or --json is on.
 * A question with a default then takes it (and says so); one without fails naming the flag.
 */
import type { Logger, Prompter } from '../core/context.js';
import { HelfyError } from '../core/errors.js';

export function isInteractive(env: NodeJS.ProcessEnv, stdinIsTTY: boolean, json: boolean): boolean {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return stdinIsTTY && !ci && !json;
}

export function createPrompter(interactive: boolean, yes: boolean, log: Logger): Prompter {
  const notInteractive = (flag: string, message: string) =>
    new HelfyError('NOT_INTERACTIVE', `cannot ask "${message}" without a terminal`, {
      hint: `Pass ${flag} to answer it non-interactively.`,
    });
  return {
    interactive,
    async confirm(q) {
      if (yes) return true;
      if (!interactive) {
        if (q.default !== undefined) {
          log.info(`${q.message} → ${q.default ? 'yes' : 'no'} (default, not interactive)`);
          return q.default;
        }
        throw notInteractive(q.flag, q.message);
      }
      const { confirm } = await import('@inquirer/prompts');
      return interruptible(confirm({ message: q.message, default: q.default }, { output: process.stderr }));
    },
    async input(q) {
      if (!interactive) {
        if (q.default !== undefined) return q.default;
        throw notInteractive(q.flag, q.message);
      }
      if (yes && q.default !== undefined) return q.default;
      const { input } = await import('@inquirer/prompts');
      return interruptible(input({ message: q.message, default: q.default, validate: q.validate }, { output: process.stderr }));
    },
  };
}

/** Ctrl-C at a prompt (inquirer's ExitPromptError) is an interruption (exit 130), not a bug. */
async function interruptible<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if ((e as Error)?.name === 'ExitPromptError') throw new HelfyError('INTERRUPTED', 'interrupted at a prompt; nothing was changed', { hint: 'Run the command again to answer, or pass the flags it names.' });
    throw e;
  }
}
