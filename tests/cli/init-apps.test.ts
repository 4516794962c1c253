/**
 * `helfy init` scaffolding the apps and `helfy apps diff|update`, through the built binary. A newer
 * template is simulated the only way a user's workspace meets one: the workspace's record says it
 * was scaffolded from other contents (an older helfy), and the files on disk are those contents.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listAppFiles } from '../../src/scaffold/files.js';
import { helfy, REPO, tempDir } from '../helpers/cli.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const TEMPLATE = { api: join(REPO, 'templates/api'), web: join(REPO, 'templates/web') };
const record = (dir: string) => JSON.parse(readFileSync(join(dir, 'apps/.helfy-scaffold.json'), 'utf8'));
/** Every file below dir (relative) with its contents. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) out[join(e.parentPath, e.name).slice(dir.length + 1)] = readFileSync(join(e.parentPath, e.name), 'utf8');
  return out;
}

describe('helfy init scaffolds the apps', () => {
  it('in an empty folder: apps/api and apps/web hold the template files (no node_modules, dist, test artifacts), recorded with their hashes', async () => {
    const dir = tempDir();
    const r = await helfy(['init', '--yes', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.apps.map((a: { app: string; status: string }) => `${a.app}:${a.status}`)).toEqual(['api:scaffolded', 'web:scaffolded']);
    for (const app of ['api', 'web'] as const) {
      const want = listAppFiles(TEMPLATE[app]);
      // The templates in this repo do have installs and builds beside them: none of it is copied.
      expect(existsSync(join(TEMPLATE[app], 'node_modules'))).toBe(true);
      const got = Object.keys(tree(join(dir, 'apps', app))).sort();
      expect(got).toEqual(want);
      expect(got.some((f) => /^(node_modules|dist|test-artifacts)\//.test(f))).toBe(false);
      for (const f of ['package.json', 'package-lock.json', 'README.md', 'Dockerfile', '.dockerignore']) expect(got, `${app}/${f}`).toContain(f);
      for (const f of want) expect(readFileSync(join(dir, 'apps', app, f)).equals(readFileSync(join(TEMPLATE[app], f))), f).toBe(true);
      const rec = record(dir).apps[app];
      expect(rec.template).toBe(`templates/${app}`);
      expect(rec.helfyVersion).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
      expect(Object.keys(rec.files).sort()).toEqual(want);
      expect(rec.files['package.json']).toBe(sha(readFileSync(join(TEMPLATE[app], 'package.json'), 'utf8')));
      expect(r.json.apps.find((a: { app: string }) => a.app === app).files).toBe(want.length);
    }
    expect(readdirSync(join(dir, 'apps')).sort()).toEqual(['.helfy-scaffold.json', 'api', 'web']);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['node_modules/', 'apps/*/dist/']));
  });

  it('an edited app file survives a second init and init --force; a deleted app comes back with --force', async () => {
    const dir = tempDir();
    expect((await helfy(['init', '--yes'], { cwd: dir })).code).toBe(0);
    const page = join(dir, 'apps/web/pages/login/+Page.tsx');
    writeFileSync(page, `${readFileSync(page, 'utf8')}\n// my edit\n`);
    writeFileSync(join(dir, 'apps/api/src/mine.ts'), 'export const mine = 1;\n');
    const before = tree(join(dir, 'apps'));

    const again = await helfy(['init', '--yes', '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.json.status).toBe('already-initialized');
    expect(again.json.apps.map((a: { status: string }) => a.status)).toEqual(['kept', 'kept']);
    expect(tree(join(dir, 'apps'))).toEqual(before);

    const forced = await helfy(['init', '--force', '--json'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json.status).toBe('rewritten');
    expect(forced.json.apps.map((a: { status: string }) => a.status)).toEqual(['kept', 'kept']);
    expect(tree(join(dir, 'apps'))).toEqual(before);
    expect(readFileSync(page, 'utf8')).toContain('// my edit');

    // apps/api removed by hand: a plain init says so, --force scaffolds it again and keeps web.
    rmSync(join(dir, 'apps/api'), { recursive: true });
    const m = record(dir);
    delete m.apps.api;
    writeFileSync(join(dir, 'apps/.helfy-scaffold.json'), JSON.stringify(m));
    const plain = await helfy(['init', '--yes'], { cwd: dir });
    expect(plain.stderr).toContain('Not scaffolded: apps/api');
    expect(existsSync(join(dir, 'apps/api'))).toBe(false);
    const back = await helfy(['init', '--force', '--json'], { cwd: dir });
    expect(back.json.apps.map((a: { status: string }) => a.status)).toEqual(['scaffolded', 'kept']);
    expect(existsSync(join(dir, 'apps/api/package.json'))).toBe(true);
    expect(readFileSync(page, 'utf8')).toContain('// my edit');
  });

  it('a target folder holding unrelated files is refused with the list, exit 2, and nothing is written', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'apps/web/src'), { recursive: true });
    writeFileSync(join(dir, 'apps/web/index.html'), '<h1>my own site</h1>');
    writeFileSync(join(dir, 'apps/web/src/main.js'), 'console.log(1)');
    const r = await helfy(['init', '--yes'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: cannot scaffold into apps/web: the folder already holds files that are not a helfy scaffold; nothing was written');
    expect(r.stderr).toContain('apps/web/index.html');
    expect(r.stderr).toContain('apps/web/src/main.js');
    expect(r.stderr).toMatch(/hint: .*--no-apps/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(readdirSync(dir)).toEqual(['apps']);
    expect(readdirSync(join(dir, 'apps'))).toEqual(['web']);
    expect(tree(join(dir, 'apps/web'))).toEqual({ 'index.html': '<h1>my own site</h1>', 'src/main.js': 'console.log(1)' });

    const j = await helfy(['init', '--yes', '--json'], { cwd: dir });
    expect(j.code).toBe(2);
    expect(j.json.error.code).toBe('USAGE');
    expect(j.json.error.foreign).toEqual([{ app: 'web', dir: join(dir, 'apps/web'), files: ['index.html', 'src/main.js'] }]);

    // --no-apps leaves apps/ alone and creates the workspace.
    const skip = await helfy(['init', '--yes', '--no-apps', '--json'], { cwd: dir });
    expect(skip.code, skip.stderr).toBe(0);
    expect(skip.json.apps.map((a: { status: string }) => a.status)).toEqual(['skipped', 'skipped']);
    expect(readdirSync(join(dir, 'apps'))).toEqual(['web']);
  });

  it('--no-apps: no apps/ at all, and the .gitignore without the apps entries', async () => {
    const dir = tempDir();
    const r = await helfy(['init', '--yes', '--no-apps'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['.env', '.env.example', '.gitignore', 'helfy.config.json']);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).not.toContain('node_modules/');
    const d = await helfy(['apps', 'diff', '--json'], { cwd: dir });
    expect(d.code).toBe(0);
    expect(d.json.apps.map((a: { app: string; state: string }) => `${a.app}:${a.state}`)).toEqual(['api:not-scaffolded', 'web:not-scaffolded']);
  });
});

describe('helfy apps diff / update', () => {
  /** A workspace "scaffolded by an older helfy": README changed upstream, vite.config.ts changed upstream and edited here. */
  async function olderScaffold() {
    const dir = tempDir();
    expect((await helfy(['init', '--yes'], { cwd: dir })).code).toBe(0);
    const web = join(dir, 'apps/web');
    const m = record(dir);
    writeFileSync(join(web, 'README.md'), '# old readme\n');
    m.apps.web.files['README.md'] = sha('# old readme\n');
    writeFileSync(join(web, 'vite.config.ts'), '// my own vite config\n');
    m.apps.web.files['vite.config.ts'] = sha('// the old template vite config\n');
    rmSync(join(web, 'public/favicon.svg'));
    delete m.apps.web.files['public/favicon.svg'];
    writeFileSync(join(web, 'pages/retired.ts'), 'export {};\n');
    m.apps.web.files['pages/retired.ts'] = sha('export {};\n');
    // An edit where the template did not change: never touched.
    writeFileSync(join(web, 'pages/login/+Page.tsx'), `${readFileSync(join(web, 'pages/login/+Page.tsx'), 'utf8')}// mine\n`);
    writeFileSync(join(dir, 'apps/.helfy-scaffold.json'), JSON.stringify(m, null, 2));
    return { dir, web };
  }

  it('diff shows a unified diff per file, files added and removed by the template, the conflicts; writes nothing', async () => {
    const { dir, web } = await olderScaffold();
    const before = tree(join(dir, 'apps'));
    const r = await helfy(['apps', 'diff'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('--- a/apps/web/README.md\n+++ b/apps/web/README.md\n');
    expect(r.stdout).toContain('-# old readme\n');
    expect(r.stdout).toContain('--- /dev/null\n+++ b/apps/web/public/favicon.svg\n');
    expect(r.stdout).toContain('--- a/apps/web/pages/retired.ts\n+++ /dev/null\n');
    expect(r.stdout).toContain('-// my own vite config\n');
    expect(r.stderr).toContain('api: up to date with the template.');
    expect(r.stderr).toContain('web: 4 file(s) differ from the template:');
    expect(r.stderr).toMatch(/conflict +apps\/web\/vite\.config\.ts {2}\(edited here and changed in the template\)/);
    expect(r.stderr).toMatch(/update +apps\/web\/README\.md {2}\(changed in the template\)/);
    expect(r.stderr).toMatch(/add +apps\/web\/public\/favicon\.svg/);
    expect(r.stderr).toMatch(/delete +apps\/web\/pages\/retired\.ts/);
    expect(r.stdout + r.stderr).not.toContain('apps/web/pages/login/+Page.tsx');
    expect(tree(join(dir, 'apps'))).toEqual(before);

    const j = await helfy(['apps', 'diff', 'web', '--json'], { cwd: dir });
    expect(j.json.status).toBe('diff');
    expect(j.json.summary).toEqual({ add: 1, update: 1, delete: 1, conflict: 1 });
    expect(j.json.apps).toHaveLength(1);
    expect(j.json.apps[0].changes.map((c: { path: string; kind: string }) => `${c.kind} ${c.path}`)).toEqual(['update README.md', 'delete pages/retired.ts', 'add public/favicon.svg', 'conflict vite.config.ts']);
    expect(j.json.apps[0].changes[0].diff).toContain('+++ b/apps/web/README.md');
    expect(web).toBe(j.json.apps[0].dir);
  });

  it('update without a terminal and without --yes refuses (exit 2, naming --yes) and writes nothing; --dry-run writes nothing', async () => {
    const { dir } = await olderScaffold();
    const before = tree(join(dir, 'apps'));
    const r = await helfy(['apps', 'update'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(r.stdout).toContain('+++ b/apps/web/README.md'); // shown before asking
    expect(tree(join(dir, 'apps'))).toEqual(before);
    const dry = await helfy(['apps', 'update', '--dry-run', '--json'], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(dry.json.status).toBe('dry-run');
    expect(tree(join(dir, 'apps'))).toEqual(before);
  });

  it('update --yes takes the template\'s changes, keeps the edits, writes a conflict\'s template version beside it; then it is up to date', async () => {
    const { dir, web } = await olderScaffold();
    const r = await helfy(['apps', 'update', '--yes'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(web, 'README.md'), 'utf8')).toBe(readFileSync(join(TEMPLATE.web, 'README.md'), 'utf8'));
    expect(readFileSync(join(web, 'public/favicon.svg'), 'utf8')).toBe(readFileSync(join(TEMPLATE.web, 'public/favicon.svg'), 'utf8'));
    expect(existsSync(join(web, 'pages/retired.ts'))).toBe(false);
    expect(readFileSync(join(web, 'vite.config.ts'), 'utf8')).toBe('// my own vite config\n');
    expect(readFileSync(join(web, 'vite.config.ts.template'), 'utf8')).toBe(readFileSync(join(TEMPLATE.web, 'vite.config.ts'), 'utf8'));
    expect(readFileSync(join(web, 'pages/login/+Page.tsx'), 'utf8')).toMatch(/\/\/ mine\n$/);
    expect(r.stderr).toContain('conflict: apps/web/vite.config.ts edited here and changed in the template; kept yours, the template\'s version is in apps/web/vite.config.ts.template. Merge by hand.');
    expect(r.stderr).toContain('(3 file(s) written, 1 conflict(s))');
    const rec = record(dir).apps.web;
    expect(rec.files['README.md']).toBe(sha(readFileSync(join(TEMPLATE.web, 'README.md'), 'utf8')));
    expect(rec.files['pages/retired.ts']).toBeUndefined();
    expect(rec.updatedAt).toMatch(/^\d{4}-/);

    const again = await helfy(['apps', 'update', '--yes', '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.json.status).toBe('up-to-date');
    expect(again.json.summary).toEqual({ add: 0, update: 0, delete: 0, conflict: 0 });
  });

  it('update --yes never overwrites a <file>.template of the developer\'s own: the conflict copy takes the next free name', async () => {
    const { dir, web } = await olderScaffold();
    writeFileSync(join(web, 'vite.config.ts.template'), '// my notes, not helfy\'s\n');
    const r = await helfy(['apps', 'update', '--yes', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(web, 'vite.config.ts.template'), 'utf8')).toBe('// my notes, not helfy\'s\n');
    expect(readFileSync(join(web, 'vite.config.ts.template.2'), 'utf8')).toBe(readFileSync(join(TEMPLATE.web, 'vite.config.ts'), 'utf8'));
    expect(r.json.apps.find((a: { app: string }) => a.app === 'web').changes.find((c: { path: string }) => c.path === 'vite.config.ts').templateCopy).toBe('vite.config.ts.template.2');
    expect(r.stderr).toContain('the template\'s version is in apps/web/vite.config.ts.template.2. Merge by hand.');
  });

  it('bad input: an unknown app, a folder that is not a workspace, a corrupt record', async () => {
    const dir = tempDir();
    expect((await helfy(['init', '--yes'], { cwd: dir })).code).toBe(0);
    const u = await helfy(['apps', 'diff', 'mobile'], { cwd: dir });
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('error: unknown app "mobile"');
    expect(u.stderr).toContain('hint: Apps: api, web.');
    const none = await helfy(['apps', 'diff'], { cwd: tempDir() });
    expect(none.code).toBe(2);
    writeFileSync(join(dir, 'apps/.helfy-scaffold.json'), '{ not json');
    const bad = await helfy(['apps', 'diff', '--json'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.json.error.code).toBe('CONFIG_INVALID');
    expect(bad.json.error.message).toMatch(/^apps\/\.helfy-scaffold\.json is not a valid scaffold record/);
  });
});
