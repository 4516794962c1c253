/**
 * The commander root. Parses global flags, builds the context, lazily loads the command module,
 * prints its result (human or one JSON document) and turns every outcome into an exit code.
 * It never calls process.exit: bin/helfy.js does, with the code returned here.
 */
import { Command, CommanderError, Option } from 'commander';
import { resolve } from 'node:path';
import type { CommandModule, CommandSpec } from './core/command.js';
import type { Context, GlobalOptions } from './core/context.js';
import { ExitCode, HelfyError, isHelfyError, toJsonError } from './core/errors.js';
import { COMMANDS } from './commands/index.js';
import { createLogger, palette, type Stream } from './ui/logger.js';
import { createPrompter, isInteractive } from './ui/prompts.js';
import { createTaskRunner } from './ui/tasks.js';

export interface MainIO {
  env: NodeJS.ProcessEnv;
  stdout: Stream;
  stderr: Stream;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  cwd: string;
  version: string;
}

export function defaultIO(version: string): MainIO {
  return {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
    version,
  };
}

function colorEnabled(flag: boolean, io: MainIO): boolean {
  const env = io.env;
  if (!flag || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return io.stderrIsTTY;
}

/** stdout's terminal width, or $COLUMNS; nothing when stdout is not a terminal and COLUMNS is unset. */
function terminalColumns(io: MainIO): { columns?: number } {
  const out = io.stdout as Partial<NodeJS.WriteStream>;
  if (out.isTTY && out.columns) return { columns: out.columns };
  const env = Number(io.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? { columns: env } : {};
}

function isCI(env: NodeJS.ProcessEnv): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
}

export async function main(argv: string[], io: MainIO): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  let globals: GlobalOptions | undefined;
  const controller = new AbortController();
  // Persistent listeners, not `once`: signal-exit (loaded by listr2's terminal renderer and by the
  // prompts) re-raises a signal when it finds itself the only listener left, which killed helfy
  // by the signal on a real terminal before it could report the interruption. The first signal
  // aborts the running command (exit 130 with a message); a second one stops helfy at once, as the
  // signal would without helfy.
  const onSignal = (sig: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      controller.abort(new HelfyError('INTERRUPTED', 'interrupted'));
      return;
    }
    removeSignalListeners();
    process.kill(process.pid, sig);
  };
  const removeSignalListeners = () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const program = new Command('helfy')
    .description('Developer CLI and local ops toolkit for the Helfy stack')
    .version(io.version, '-V, --version', 'print the version')
    .option('--json', 'print exactly one JSON document on stdout')
    .option('-y, --yes', 'answer yes to confirmations; never prompt')
    .option('-v, --verbose', 'print debug output')
    .option('-q, --quiet', 'print only warnings and errors')
    .option('--cwd <dir>', 'run as if started in <dir>')
    .option('--no-color', 'disable colours (also NO_COLOR)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      // Help shown because of a usage error (e.g. a missing subcommand) goes to stderr.
      writeErr: (s) => io.stderr.write(s),
      // Errors are re-rendered in our own format below; commander's own copy is dropped.
      outputError: () => undefined,
    });

  const readGlobals = (): GlobalOptions => {
    const o = program.opts<{ json?: boolean; yes?: boolean; verbose?: boolean; quiet?: boolean; cwd?: string; color: boolean }>();
    return {
      json: Boolean(o.json),
      yes: Boolean(o.yes),
      verbose: Boolean(o.verbose),
      quiet: Boolean(o.quiet),
      color: colorEnabled(o.color, io) && !o.json,
      cwd: resolve(io.cwd, o.cwd ?? '.'),
    };
  };

  const makeContext = (options: GlobalOptions): Context => {
    const log = createLogger(options, io.stderr);
    return {
      options,
      env: io.env,
      log,
      prompt: createPrompter(isInteractive(io.env, io.stdinIsTTY, options.json), options.yes, log),
      tasks: createTaskRunner(options, io.stderrIsTTY, isCI(io.env)),
      stdout: (t) => io.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
      ...terminalColumns(io),
      signal: controller.signal,
    };
  };

  const attach = (parent: Command, spec: CommandSpec) => {
    const cmd = parent.command(spec.name).description(spec.summary);
    cmd.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: () => undefined });
    cmd.showSuggestionAfterError(true);
    for (const a of spec.args ?? []) cmd.argument(a.syntax, a.description);
    for (const o of spec.options ?? []) {
      const opt = new Option(o.flags, o.description);
      if (o.default !== undefined) opt.default(o.default);
      if (o.choices) opt.choices(o.choices);
      cmd.addOption(opt);
    }
    for (const sub of spec.subcommands ?? []) attach(cmd, sub);
    if (spec.examples?.length) cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}\n`);
    if (spec.load) {
      const load = spec.load;
      cmd.action(async (...params: unknown[]) => {
        const self = params[params.length - 1] as Command;
        const args = params.slice(0, -2);
        globals = readGlobals();
        const ctx = makeContext(globals);
        const mod = (await load()) as CommandModule;
        const result = await mod.run(ctx, { args, opts: self.opts() });
        if (globals.json) io.stdout.write(`${JSON.stringify(result ?? null, null, 2)}\n`);
        else mod.render?.(result, ctx);
        exitCode = mod.exitCode?.(result) ?? ExitCode.Ok;
      });
    }
  };
  for (const spec of COMMANDS) attach(program, spec);

  try {
    if (argv.length === 0) {
      program.outputHelp();
      return ExitCode.Ok;
    }
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    const options = globals ?? safeGlobals(readGlobals);
    return report(err, options, io);
  } finally {
    removeSignalListeners();
  }
}

function safeGlobals(read: () => GlobalOptions): GlobalOptions {
  try {
    return read();
  } catch {
    return { json: false, yes: false, verbose: false, quiet: false, color: false, cwd: process.cwd() };
  }
}

/** The one place an error becomes output and an exit code. */
function report(err: unknown, options: GlobalOptions, io: MainIO): number {
  let e: HelfyError;
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.Ok;
    // A command group without its subcommand: commander has printed the group's help to stderr.
    if (err.code === 'commander.help') {
      if (err.exitCode === 0) return ExitCode.Ok;
      if (!options.json) return ExitCode.Usage;
      e = new HelfyError('USAGE', 'a subcommand is missing', { hint: 'Run `helfy <command> --help` for its subcommands.' });
      io.stdout.write(`${JSON.stringify(toJsonError(e), null, 2)}\n`);
      return e.exitCode;
    }
    const [first, ...rest] = err.message.replace(/^error: /, '').split('\n');
    const suggestion = rest.find((l) => l.includes('Did you mean'));
    e = new HelfyError('USAGE', first!, {
      hint: suggestion ? `${suggestion.replace(/[()]/g, '').trim()} Run \`helfy --help\` for the list.` : 'Run `helfy --help` (or `helfy <command> --help`) for usage.',
    });
  } else if (isHelfyError(err)) {
    e = err;
  } else if (err instanceof Error && isHelfyError(err.cause)) {
    e = err.cause;
  } else {
    const msg = err instanceof Error ? err.message : String(err);
    e = new HelfyError('INTERNAL', `unexpected internal error: ${msg}`, {
      hint: 'This is a bug in helfy. Re-run with --verbose and report the output.',
    });
    if (options.verbose && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  }
  if (options.json) {
    io.stdout.write(`${JSON.stringify(toJsonError(e), null, 2)}\n`);
  } else {
    const c = palette(options.color);
    io.stderr.write(`${c.red('error:')} ${e.message}\n`);
    for (const d of e.details) io.stderr.write(`  - ${d}\n`);
    if (e.hint) io.stderr.write(`${c.dim('hint:')} ${e.hint}\n`);
  }
  return e.exitCode;
}
