/**
 * The house rules, checked by the tools that own them (docs/architecture.md):
 *  - dependency-cruiser with .dependency-cruiser.cjs: the import rules between src/ folders;
 *  - ESLint with eslint.config.js: no function in src/ over 150 lines.
 * Each rule is also shown to fail: a small tree that breaks it, cruised / linted with the very
 * same configuration, must be reported with the rule's name.
 */
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPCRUISE = join(REPO, 'node_modules', '.bin', 'depcruise');
const CONFIG = join(REPO, '.dependency-cruiser.cjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

async function cruise(cwd: string): Promise<{ violations: Violation[]; modules: number }> {
  const r = await execa(DEPCRUISE, ['src', '--config', CONFIG, '--output-type', 'json'], { cwd, reject: false });
  expect(r.stderr).toBe('');
  const out = JSON.parse(r.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: out.summary.violations, modules: out.summary.totalCruised };
}

// Under the repository (ignored by git), so `pg`, `execa`, … resolve to the real node_modules.
const fixtures = join(REPO, 'test-artifacts', 'architecture');
mkdirSync(fixtures, { recursive: true });
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(fixtures, 'tree-'));
  made.push(root);
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowJs: false } }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

describe('import rules (dependency-cruiser)', () => {
  it('src/ keeps every rule', async () => {
    const { violations, modules } = await cruise(REPO);
    expect(modules).toBeGreaterThan(150);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it('a tree that breaks each rule is reported, rule by rule, and what is allowed is not', async () => {
    const root = tree({
      // no-command-imports-command (index.ts, the registry, may be imported)
      'src/commands/up.ts': "import { x } from './seed.js';\nimport { loadCommand } from './index.js';\nexport const y = [x, loadCommand];\n",
      'src/commands/seed.ts': 'export const x = 1;\n',
      'src/commands/index.ts': "export const loadCommand = () => import('./seed.js');\n",
      // no-domain-imports-commands
      'src/stack/status.ts': "import { x } from '../commands/seed.js';\nexport const s = x;\n",
      // backup-uses-the-port (its own port is fine)
      'src/backup/session.ts': "import type { R } from './runtime.js';\nimport { n } from '../runtime/native/stack.js';\nexport const b: R | number = n;\n",
      'src/backup/runtime.ts': 'export type R = string;\n',
      // stack-reaches-runtime-through-open (open.ts may)
      'src/stack/up.ts': "import { d } from '../runtime/docker/stack.js';\nexport const u = d;\n",
      'src/stack/open.ts': "export const o = () => import('../runtime/docker/stack.js');\n",
      // adapters-apart, runtime-stays-below, runtime-takes-only-the-backup-port
      'src/runtime/docker/stack.ts': "import { n } from '../native/stack.js';\nimport type { R } from '../../backup/runtime.js';\nexport const d: R | number = n;\n",
      'src/runtime/native/stack.ts': "import { dv } from '../../dev/run.js';\nimport { rs } from '../../backup/session.js';\nexport const n = dv + String(rs);\n",
      'src/dev/run.ts': 'export const dv = 1;\n',
      // only-runtime-starts-processes, only-db-imports-drivers (src/db and src/runtime may)
      'src/smoke/run.ts': "import { spawn } from 'node:child_process';\nimport { execa } from 'execa';\nimport pg from 'pg';\nimport neo4j from 'neo4j-driver';\nexport const s = [spawn, execa, pg, neo4j];\n",
      'src/db/client.ts': "import pg from 'pg';\nexport const c = pg;\n",
      'src/runtime/process/run.ts': "import { execa } from 'execa';\nexport const r = execa;\n",
    });
    const { violations } = await cruise(root);
    const found = violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to.replace(/^.*node_modules\/([^/]+)\/.*$/, '$1')}`).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    expect(found).toEqual([
      'adapters-apart: src/runtime/docker/stack.ts → src/runtime/native/stack.ts',
      'backup-uses-the-port: src/backup/session.ts → src/runtime/native/stack.ts',
      'no-command-imports-command: src/commands/up.ts → src/commands/seed.ts',
      'no-domain-imports-commands: src/stack/status.ts → src/commands/seed.ts',
      'only-db-imports-drivers: src/smoke/run.ts → neo4j-driver',
      'only-db-imports-drivers: src/smoke/run.ts → pg',
      'only-runtime-starts-processes: src/smoke/run.ts → child_process',
      'only-runtime-starts-processes: src/smoke/run.ts → execa',
      'runtime-stays-below: src/runtime/native/stack.ts → src/dev/run.ts',
      'runtime-takes-only-the-backup-port: src/runtime/native/stack.ts → src/backup/session.ts',
      'stack-reaches-runtime-through-open: src/stack/up.ts → src/runtime/docker/stack.ts',
    ]);
  });
});

describe('function length budget (ESLint max-lines-per-function)', () => {
  const eslint = new ESLint({ cwd: REPO });

  it('no function in src/ is over 150 lines', async () => {
    const results = await eslint.lintFiles(['src']);
    expect(results.length).toBeGreaterThan(150);
    const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath.slice(REPO.length + 1)}:${m.line} ${m.ruleId ?? ''} ${m.message}`));
    expect(problems).toEqual([]);
  });

  it('a 151-line function fails, a 150-line one passes, and an inline disable comment does not count', async () => {
    const fn = (lines: number, name: string) => `export function ${name}(): number {\n${'  void 0;\n'.repeat(lines - 3)}  return 1;\n}\n`;
    const [long] = await eslint.lintText(fn(151, 'tooLong'), { filePath: join(REPO, 'src', 'fixture.ts') });
    expect(long!.messages.map((m) => [m.ruleId, m.message])).toEqual([
      ['max-lines-per-function', "Function 'tooLong' has too many lines (151). Maximum allowed is 150."],
    ]);
    const [fits] = await eslint.lintText(fn(150, 'fits'), { filePath: join(REPO, 'src', 'fixture.ts') });
    expect(fits!.messages).toEqual([]);
    const [hidden] = await eslint.lintText(`/* eslint-disable max-lines-per-function */\n${fn(151, 'hidden')}`, { filePath: join(REPO, 'src', 'fixture.ts') });
    expect(hidden!.messages.map((m) => m.ruleId)).toContain('max-lines-per-function');
  });
});
