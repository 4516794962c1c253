/**
 * The scaffold core against folders made here (a template that changes between versions): copy into
 * place, the three-way plan (base = recorded hash, here = workspace file, new = template), the write.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isExcludedName, listAppFiles, snapshot } from '../../src/scaffold/files.js';
import { MANIFEST_FILE, readManifest, writeManifest } from '../../src/scaffold/manifest.js';
import { assertNoForeign, commitApps, inspectApp, prepareApp } from '../../src/scaffold/scaffold.js';
import { applyUpdate, isUpToDate, planUpdate } from '../../src/scaffold/update.js';

const dirs: string[] = [];
const temp = (p = 'helfy-scaffold-') => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
function write(dir: string, files: Record<string, string>) {
  for (const [rel, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), c);
  }
}

/** A template v1, scaffolded into a workspace as apps/web. */
async function scaffolded() {
  const tpl = temp('helfy-tpl-');
  write(tpl, {
    'package.json': '{"name":"web"}\n', 'pages/a.tsx': 'a v1\n', 'pages/b.tsx': 'b v1\n', 'pages/c.tsx': 'c v1\n', 'README.md': 'readme v1\n',
    'gone.txt': 'removed in v2\n', 'edited-gone.txt': 'removed in v2, edited here\n',
    'node_modules/x/index.js': 'x', 'dist/server/index.mjs': 'built', 'test-artifacts/shot.png': 'png', '.env.local': 'SECRET=1', 'debug.log': 'log',
  });
  const root = temp('helfy-ws-');
  const p = await prepareApp(root, 'web', tpl, new Date('2026-01-02T03:04:05Z'));
  await commitApps([p]);
  await writeManifest(root, { version: 1, apps: { web: p.record } });
  return { tpl, root, app: join(root, 'apps/web') };
}

describe('scaffold files', () => {
  it('leaves out what installs, builds and test runs leave behind, and secrets', () => {
    expect(['node_modules', 'dist', 'coverage', 'test-artifacts', '.env', '.env.local', 'x.log', 'a.tsbuildinfo', '.test-dist-1'].map(isExcludedName)).toEqual(Array(9).fill(true));
    expect(['src', 'pages', '.dockerignore', '.gitignore', 'Dockerfile', 'package-lock.json', 'README.md', '.env.example'].map(isExcludedName)).toEqual([false, false, false, false, false, false, false, true]);
  });

  it('copies the template (minus the excluded files) and records every file\'s hash', async () => {
    const { tpl, root, app } = await scaffolded();
    expect(listAppFiles(app)).toEqual(['README.md', 'edited-gone.txt', 'gone.txt', 'package.json', 'pages/a.tsx', 'pages/b.tsx', 'pages/c.tsx']);
    expect(readdirSync(app).sort()).toEqual(['README.md', 'edited-gone.txt', 'gone.txt', 'package.json', 'pages']);
    for (const f of listAppFiles(app)) expect(readFileSync(join(app, f), 'utf8')).toBe(readFileSync(join(tpl, f), 'utf8'));
    const m = readManifest(root);
    expect(m.apps.web!.files['pages/a.tsx']).toBe(sha('a v1\n'));
    expect(m.apps.web!.files).toEqual(snapshot(app));
    expect(m.apps.web!.scaffoldedAt).toBe('2026-01-02T03:04:05.000Z');
    expect(m.apps.web!.templateHash).toMatch(/^[0-9a-f]{16}$/);
    // No temporary folder left beside it.
    expect(readdirSync(join(root, 'apps')).sort()).toEqual(['.helfy-scaffold.json', 'web']);
    expect(inspectApp(root, 'web', m).state).toBe('scaffolded');
    expect(inspectApp(root, 'api', m).state).toBe('absent');
  });

  it('a folder with files helfy did not put there is refused with the list; an empty one is fine', () => {
    const root = temp();
    write(root, { 'apps/api/server.js': 'mine', 'apps/api/lib/util.js': 'mine', 'apps/api/node_modules/x/i.js': 'dep' });
    mkdirSync(join(root, 'apps/web'), { recursive: true });
    const m = readManifest(root);
    const states = [inspectApp(root, 'api', m), inspectApp(root, 'web', m)];
    expect(states.map((s) => s.state)).toEqual(['foreign', 'absent']);
    let err: any;
    try {
      assertNoForeign(states, root);
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe('USAGE');
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('cannot scaffold into apps/api: the folder already holds files that are not a helfy scaffold; nothing was written');
    expect(err.details).toEqual(['apps/api/ holds 3 file(s) helfy did not scaffold:', '  apps/api/lib/util.js', '  apps/api/node_modules/', '  apps/api/server.js']);
    expect(err.hint).toContain('--no-apps');
  });

  it('a corrupt scaffold record is a clear configuration error', () => {
    const root = temp();
    write(root, { [MANIFEST_FILE]: '{"version":1,"apps":{"web":{}}}' });
    expect(() => readManifest(root)).toThrow(/apps\/\.helfy-scaffold\.json is not a valid scaffold record \(apps\.web\.files is missing\)/);
  });
});

describe('updating from a newer template (three-way per file)', () => {
  it('nothing changed anywhere: up to date, nothing to write', async () => {
    const { tpl, root } = await scaffolded();
    const m = readManifest(root);
    const plan = planUpdate(root, 'web', m.apps.web!, tpl);
    expect(plan.changes).toEqual([]);
    expect(isUpToDate(plan, m.apps.web!)).toBe(true);
  });

  it('takes template changes where the developer did not edit, keeps edits where the template did not change, and reports a conflict where both did', async () => {
    const { tpl, root, app } = await scaffolded();
    // The developer's edits.
    write(app, { 'pages/a.tsx': 'a edited here\n', 'pages/c.tsx': 'c edited here\n', 'edited-gone.txt': 'edited here\n', 'mine.ts': 'my own file\n' });
    // Template v2.
    write(tpl, { 'pages/b.tsx': 'b v2\n', 'pages/c.tsx': 'c v2\n', 'pages/new.tsx': 'new in v2\n' });
    rmSync(join(tpl, 'gone.txt'));
    rmSync(join(tpl, 'edited-gone.txt'));
    const base = readManifest(root).apps.web!;
    const plan = planUpdate(root, 'web', base, tpl);
    expect(plan.changes.map((c) => [c.path, c.kind, c.reason])).toEqual([
      ['edited-gone.txt', 'conflict', 'edited here and removed from the template'],
      ['gone.txt', 'delete', 'removed from the template'],
      ['pages/b.tsx', 'update', 'changed in the template'],
      ['pages/c.tsx', 'conflict', 'edited here and changed in the template'],
      ['pages/new.tsx', 'add', 'new in the template'],
    ]);
    const byPath = Object.fromEntries(plan.changes.map((c) => [c.path, c]));
    expect(byPath['pages/b.tsx']!.diff).toBe('--- a/apps/web/pages/b.tsx\n+++ b/apps/web/pages/b.tsx\n@@ -1,1 +1,1 @@\n-b v1\n+b v2\n');
    expect(byPath['pages/new.tsx']!.diff).toContain('--- /dev/null\n+++ b/apps/web/pages/new.tsx\n');
    expect(byPath['gone.txt']!.diff).toContain('+++ /dev/null');
    expect(byPath['pages/c.tsx']!.diff).toContain('-c edited here\n+c v2\n');
    expect(byPath['pages/c.tsx']!.templateCopy).toBe('pages/c.tsx.template');
    expect(byPath['edited-gone.txt']!.templateCopy).toBeUndefined();
    expect(isUpToDate(plan, base)).toBe(false);

    // Planning wrote nothing.
    expect(readFileSync(join(app, 'pages/b.tsx'), 'utf8')).toBe('b v1\n');
    expect(existsSync(join(app, 'pages/new.tsx'))).toBe(false);

    await applyUpdate(plan);
    expect(readFileSync(join(app, 'pages/a.tsx'), 'utf8')).toBe('a edited here\n');
    expect(readFileSync(join(app, 'pages/b.tsx'), 'utf8')).toBe('b v2\n');
    expect(readFileSync(join(app, 'pages/c.tsx'), 'utf8')).toBe('c edited here\n');
    expect(readFileSync(join(app, 'pages/c.tsx.template'), 'utf8')).toBe('c v2\n');
    expect(readFileSync(join(app, 'pages/new.tsx'), 'utf8')).toBe('new in v2\n');
    expect(readFileSync(join(app, 'edited-gone.txt'), 'utf8')).toBe('edited here\n');
    expect(readFileSync(join(app, 'mine.ts'), 'utf8')).toBe('my own file\n');
    expect(existsSync(join(app, 'gone.txt'))).toBe(false);
    expect(readdirSync(app).filter((f) => f.startsWith('.helfy-tmp'))).toEqual([]);

    // The new base is v2: planning again finds nothing to do, the edits still stand.
    const m = readManifest(root);
    m.apps.web = plan.record;
    await writeManifest(root, m);
    const again = planUpdate(root, 'web', readManifest(root).apps.web!, tpl);
    expect(again.changes).toEqual([]);
    expect(plan.record.files['pages/c.tsx']).toBe(sha('c v2\n'));
    expect(plan.record.files['edited-gone.txt']).toBeUndefined();
    expect(plan.record.files['pages/a.tsx']).toBe(sha('a v1\n'));
  });

  it('a file the developer already changed to the template\'s version is recorded, not reported', async () => {
    const { tpl, root, app } = await scaffolded();
    write(tpl, { 'README.md': 'readme v2\n' });
    write(app, { 'README.md': 'readme v2\n' });
    const base = readManifest(root).apps.web!;
    const plan = planUpdate(root, 'web', base, tpl);
    expect(plan.changes).toEqual([]);
    expect(plan.alreadyCurrent).toEqual(['README.md']);
    expect(plan.record.files['README.md']).toBe(sha('readme v2\n'));
    expect(isUpToDate(plan, base)).toBe(false);
  });

  it('a file deleted here that the template changed, and a file added on both sides, are conflicts', async () => {
    const { tpl, root, app } = await scaffolded();
    rmSync(join(app, 'pages/b.tsx'));
    write(tpl, { 'pages/b.tsx': 'b v2\n', 'both.ts': 'template\n' });
    write(app, { 'both.ts': 'mine\n' });
    const plan = planUpdate(root, 'web', readManifest(root).apps.web!, tpl);
    expect(plan.changes.map((c) => [c.path, c.kind, c.reason])).toEqual([
      ['both.ts', 'conflict', 'added here and in the template, with different contents'],
      ['pages/b.tsx', 'conflict', 'deleted here and changed in the template'],
    ]);
    await applyUpdate(plan);
    expect(existsSync(join(app, 'pages/b.tsx'))).toBe(false);
    expect(readFileSync(join(app, 'pages/b.tsx.template'), 'utf8')).toBe('b v2\n');
    expect(readFileSync(join(app, 'both.ts'), 'utf8')).toBe('mine\n');
  });

  it('a file edited after the plan (while the prompt waited) is not overwritten, created or deleted: it becomes a conflict', async () => {
    const { tpl, root, app } = await scaffolded();
    write(tpl, { 'pages/b.tsx': 'b v2\n', 'pages/c.tsx': 'c v2\n', 'pages/new.tsx': 'new in v2\n', 'pages/late.tsx': 'late in v2\n' });
    rmSync(join(tpl, 'gone.txt'));
    const plan = planUpdate(root, 'web', readManifest(root).apps.web!, tpl);
    expect(plan.changes.map((c) => [c.path, c.kind])).toEqual([
      ['gone.txt', 'delete'], ['pages/b.tsx', 'update'], ['pages/c.tsx', 'update'], ['pages/late.tsx', 'add'], ['pages/new.tsx', 'add'],
    ]);
    // Between the plan and the write: edits to three of them, one made equal to the template's.
    write(app, { 'pages/b.tsx': 'b edited meanwhile\n', 'pages/new.tsx': 'mine, made meanwhile\n', 'gone.txt': 'edited meanwhile\n', 'pages/late.tsx': 'late in v2\n' });
    expect(await applyUpdate(plan)).toEqual(['gone.txt', 'pages/b.tsx', 'pages/new.tsx']);
    expect(readFileSync(join(app, 'pages/b.tsx'), 'utf8')).toBe('b edited meanwhile\n');
    expect(readFileSync(join(app, 'pages/b.tsx.template'), 'utf8')).toBe('b v2\n');
    expect(readFileSync(join(app, 'pages/new.tsx'), 'utf8')).toBe('mine, made meanwhile\n');
    expect(readFileSync(join(app, 'pages/new.tsx.template'), 'utf8')).toBe('new in v2\n');
    expect(readFileSync(join(app, 'gone.txt'), 'utf8')).toBe('edited meanwhile\n');
    expect(existsSync(join(app, 'gone.txt.template'))).toBe(false);
    // Untouched since the plan: updated as planned.
    expect(readFileSync(join(app, 'pages/c.tsx'), 'utf8')).toBe('c v2\n');
    expect(readFileSync(join(app, 'pages/late.tsx'), 'utf8')).toBe('late in v2\n');
    expect(plan.changes.map((c) => [c.path, c.kind, c.reason, c.templateCopy])).toEqual([
      ['gone.txt', 'conflict', 'edited here while the update waited', undefined],
      ['pages/b.tsx', 'conflict', 'edited here while the update waited', 'pages/b.tsx.template'],
      ['pages/c.tsx', 'update', 'changed in the template', undefined],
      ['pages/late.tsx', 'add', 'new in the template', undefined],
      ['pages/new.tsx', 'conflict', 'edited here while the update waited', 'pages/new.tsx.template'],
    ]);
  });

  it('a <file>.template of the developer\'s own is never overwritten: the copy takes the next free name', async () => {
    const { tpl, root, app } = await scaffolded();
    write(app, { 'pages/c.tsx': 'c edited here\n', 'pages/c.tsx.template': 'my own notes\n', 'pages/a.tsx': 'a edited here\n', 'pages/a.tsx.template': 'a v2\n' });
    write(tpl, { 'pages/c.tsx': 'c v2\n', 'pages/a.tsx': 'a v2\n', 'pages/b.tsx': 'b v2\n' });
    write(app, { 'pages/b.tsx': 'b edited here\n' });
    const plan = planUpdate(root, 'web', readManifest(root).apps.web!, tpl);
    const copies = Object.fromEntries(plan.changes.map((c) => [c.path, c.templateCopy]));
    // Taken by another content → .2; already holding this very version → reused.
    expect(copies).toEqual({ 'pages/a.tsx': 'pages/a.tsx.template', 'pages/b.tsx': 'pages/b.tsx.template', 'pages/c.tsx': 'pages/c.tsx.template.2' });
    // A .template made after the plan is not clobbered either.
    write(app, { 'pages/b.tsx.template': 'made meanwhile\n' });
    expect(await applyUpdate(plan)).toEqual([]);
    expect(readFileSync(join(app, 'pages/c.tsx.template'), 'utf8')).toBe('my own notes\n');
    expect(readFileSync(join(app, 'pages/c.tsx.template.2'), 'utf8')).toBe('c v2\n');
    expect(readFileSync(join(app, 'pages/a.tsx.template'), 'utf8')).toBe('a v2\n');
    expect(readFileSync(join(app, 'pages/b.tsx.template'), 'utf8')).toBe('made meanwhile\n');
    expect(readFileSync(join(app, 'pages/b.tsx.template.2'), 'utf8')).toBe('b v2\n');
    expect(plan.changes.find((c) => c.path === 'pages/b.tsx')!.templateCopy).toBe('pages/b.tsx.template.2');
    expect(readdirSync(join(app, 'pages')).filter((f) => f.startsWith('.helfy-tmp'))).toEqual([]);
  });

  it('binary files get a one-line diff', async () => {
    const { tpl, root } = await scaffolded();
    writeFileSync(join(tpl, 'pages/b.tsx'), Buffer.from([0, 1, 2, 3]));
    const plan = planUpdate(root, 'web', readManifest(root).apps.web!, tpl);
    expect(plan.changes[0]!.diff).toBe('Binary files a/apps/web/pages/b.tsx and b/apps/web/pages/b.tsx (template) differ\n');
  });
});
