/**
 * The README is the front page and the manual lives in docs/: both stay true. Every command,
 * option, setting and exit code is documented in its page; the README names the test command and
 * every command in one line each; every relative link of the README and the docs resolves to a
 * file and, with an anchor, to a heading of that file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import type { CommandSpec } from '../../src/core/command.js';
import { ExitCode } from '../../src/core/errors.js';
import { SETTINGS } from '../../src/config/settings.js';
import { REPO } from '../helpers/cli.js';

const read = (rel: string) => readFileSync(join(REPO, rel), 'utf8');
const readme = read('README.md');
const commands = read('docs/commands.md');
const configuration = read('docs/configuration.md');

function names(specs: CommandSpec[], prefix = ''): string[] {
  return specs.flatMap((s) => [`${prefix}${s.name}`, ...names(s.subcommands ?? [], `${prefix}${s.name} `)]);
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}

describe('README and docs/', () => {
  it('docs/commands.md has a reference heading for every command and subcommand', () => {
    for (const n of names(COMMANDS)) expect(commands, `docs/commands.md lacks "### \`helfy ${n}"`).toContain(`### \`helfy ${n}`);
  });
  it('docs/commands.md documents every option of every command', () => {
    const walk = (specs: CommandSpec[]): void => {
      for (const s of specs) {
        for (const o of s.options ?? []) {
          const long = /--[a-z0-9-]+/.exec(o.flags)![0];
          expect(commands, `docs/commands.md lacks ${long} of ${s.name}`).toContain(long);
        }
        walk(s.subcommands ?? []);
      }
    };
    walk(COMMANDS);
  });
  it('docs/configuration.md lists every environment variable', () => {
    for (const s of SETTINGS) expect(configuration).toContain(`| \`${s.env}\` |`);
  });
  it('docs/commands.md lists every exit code', () => {
    for (const code of Object.values(ExitCode)) expect(commands).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });
  it('the README is a front page: the two set-up commands, the test command that .ci/run runs, one line per command', () => {
    expect(readme.length).toBeLessThan(8000);
    expect(readme).toContain('## Setup in two commands');
    expect(readme).toContain('npm test');
    expect(read('.ci/run')).toMatch(/^npm test$/m);
    const rows = [...readme.matchAll(/^\| `helfy ([a-z]+)/gm)].map((m) => m[1]);
    expect([...new Set(rows)].sort()).toEqual(COMMANDS.map((c) => c.name).sort());
  });
  it('every relative link of the README and docs/ reaches a file, and its anchor a heading there', () => {
    const pages = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const headings = new Map<string, Set<string>>();
    const anchorsOf = (file: string) => {
      if (!headings.has(file)) headings.set(file, new Set([...readFileSync(file, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!))));
      return headings.get(file)!;
    };
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages) {
      const text = read(page).replace(/```[\s\S]*?```/g, '');
      for (const [, url] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:)/.test(url!)) continue;
        const [path, anchor] = url!.split('#') as [string, string | undefined];
        const file = path ? resolve(dirname(join(REPO, page)), path) : join(REPO, page);
        checked++;
        if (!existsSync(file)) broken.push(`${page}: ${url} (no such file)`);
        else if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor)) broken.push(`${page}: ${url} (no such heading)`);
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(broken).toEqual([]);
  });
});
