/** The README stays true: every command, setting and exit code is documented. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import type { CommandSpec } from '../../src/core/command.js';
import { ExitCode } from '../../src/core/errors.js';
import { SETTINGS } from '../../src/config/settings.js';
import { REPO } from '../helpers/cli.js';

const readme = readFileSync(join(REPO, 'README.md'), 'utf8');

function names(specs: CommandSpec[], prefix = ''): string[] {
  return specs.flatMap((s) => [`${prefix}${s.name}`, ...names(s.subcommands ?? [], `${prefix}${s.name} `)]);
}

describe('README', () => {
  it('has a reference heading for every command and subcommand', () => {
    for (const n of names(COMMANDS)) expect(readme, `README lacks "### \`helfy ${n}"`).toContain(`### \`helfy ${n}`);
  });
  it('documents every option of every command', () => {
    const walk = (specs: CommandSpec[]): void => {
      for (const s of specs) {
        for (const o of s.options ?? []) {
          const long = /--[a-z0-9-]+/.exec(o.flags)![0];
          expect(readme, `README lacks ${long} of ${s.name}`).toContain(long);
        }
        walk(s.subcommands ?? []);
      }
    };
    walk(COMMANDS);
  });
  it('lists every environment variable', () => {
    for (const s of SETTINGS) expect(readme).toContain(`| \`${s.env}\` |`);
  });
  it('lists every exit code', () => {
    for (const code of Object.values(ExitCode)) expect(readme).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });
  it('names the test command that .ci/run runs', () => {
    expect(readme).toContain('npm test');
    expect(readFileSync(join(REPO, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
