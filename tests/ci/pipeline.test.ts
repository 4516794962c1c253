/**
 * The pipeline files `helfy init --ci github|gitlab` writes, checked by real linters:
 * rhysd/actionlint for the GitHub workflow, and check-jsonschema with GitLab's own CI schema
 * (vendored in check-jsonschema: offline) for .gitlab-ci.yml. Both come from infra/actionlint.sh.
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_FILES, renderPipeline, writePipeline } from '../../src/ci/pipeline.js';
import { helfy, REPO, tempDir } from '../helpers/cli.js';

let actionlint = '';
let checkJsonschema = '';
const dir = tempDir('helfy-ci-');

beforeAll(async () => {
  const r = await execa('bash', [join(REPO, 'infra/actionlint.sh')], { timeout: 900_000 });
  [actionlint, checkJsonschema] = String(r.stdout).trim().split('\n') as [string, string];
}, 900_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lintGithub(text: string) {
  const f = join(dir, `wf-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(f, text);
  // actionlint lints a file given by path; -no-color for stable output.
  return execa(actionlint, ['-no-color', f], { reject: false });
}

async function lintGitlab(text: string) {
  const f = join(dir, `gl-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(f, text);
  return execa(checkJsonschema, ['--builtin-schema', 'vendor.gitlab-ci', f], { reject: false });
}

describe('GitHub Actions workflow', () => {
  const text = renderPipeline('github', { version: '0.1.0' });

  it('passes actionlint', async () => {
    const r = await lintGithub(text);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('installs helfy, runs helfy ci, uploads the artifacts folder and reports the JUnit file, also after a failure', () => {
    expect(text).toContain('run: npm install --no-audit --no-fund');
    expect(text).toContain('run: npx --no-install helfy ci --artifacts .helfy/ci');
    expect(text).toContain('pinned to the helfy that made it: 0.1.0');
    expect(text).toMatch(/uses: actions\/upload-artifact@v4\n\s+with:\n\s+name: helfy-ci\n\s+path: \.helfy\/ci\//);
    expect(text).toContain('report_paths: .helfy/ci/junit.xml');
    expect(text.match(/if: \$\{\{ always\(\) \}\}/g)).toHaveLength(2);
  });

  it('actionlint does catch a broken workflow (the lint can fail)', async () => {
    const r = await lintGithub(text.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    timeout-minutes: "soon"').replace('${{ always() }}', '${{ always( }}'));
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/timeout-minutes/);
  });
});

describe('GitLab CI file', () => {
  const text = renderPipeline('gitlab', { version: '0.1.0' });

  it("passes GitLab's CI JSON schema", async () => {
    const r = await lintGitlab(text);
    expect(r.stdout).toContain('ok -- validation done');
    expect(r.exitCode).toBe(0);
  });

  it('installs helfy, runs helfy ci, keeps the artifacts folder always and the JUnit file as a test report', () => {
    expect(text).toContain('- npm install --no-audit --no-fund');
    expect(text).toContain('- npx --no-install helfy ci --artifacts .helfy/ci');
    expect(text).toMatch(/artifacts:\n\s+when: always\n[\s\S]*paths:\n\s+- \.helfy\/ci\/\n\s+reports:\n\s+junit: \.helfy\/ci\/junit\.xml/);
  });

  it('the schema check does catch a broken file', async () => {
    const r = await lintGitlab(text.replace('when: always', 'when: sometimes'));
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/when/);
  });
});

describe('writePipeline', () => {
  it('writes the file where the provider reads it, then is idempotent', () => {
    const root = join(dir, 'ws1');
    mkdirSync(root);
    const a = writePipeline(root, 'github', { version: '0.1.0' });
    expect(a).toEqual({ provider: 'github', file: join(root, '.github/workflows/helfy.yml'), changed: true });
    expect(readFileSync(a.file, 'utf8')).toBe(renderPipeline('github', { version: '0.1.0' }));
    expect(writePipeline(root, 'github', { version: '0.1.0' }).changed).toBe(false);
    const b = writePipeline(root, 'gitlab', { version: '0.1.0' });
    expect(b.file).toBe(join(root, PIPELINE_FILES.gitlab));
    expect(existsSync(b.file)).toBe(true);
  });

  it("keeps a user's own pipeline file unless forced; refuses an unknown provider", () => {
    const root = join(dir, 'ws2');
    mkdirSync(join(root, '.github/workflows'), { recursive: true });
    const file = join(root, '.github/workflows/helfy.yml');
    writeFileSync(file, 'name: mine\n');
    expect(() => writePipeline(root, 'github')).toThrow(/already exists with other content/);
    expect(readFileSync(file, 'utf8')).toBe('name: mine\n');
    expect(writePipeline(root, 'github', { force: true, version: '0.1.0' }).changed).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('helfy ci');
    expect(() => writePipeline(root, 'jenkins')).toThrow('--ci jenkins: expected github or gitlab');
  });

  it('the version installed defaults to this helfy', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(renderPipeline('gitlab')).toContain(`pinned to the helfy that made it: ${pkg.version}`);
  });
});

describe('helfy init --ci (the built binary)', () => {
  it('writes the pipeline with the workspace, lints clean, and adds one to an initialized workspace later', async () => {
    const root = join(dir, 'cli1');
    mkdirSync(root);
    const a = await helfy(['init', root, '--yes', '--no-apps', '--ci', 'github', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    expect(a.json.pipeline).toEqual({ provider: 'github', file: join(root, '.github/workflows/helfy.yml'), changed: true, helfyPackage: `file:vendor/helfy-${version}.tgz` });
    const r = await lintGithub(readFileSync(a.json.pipeline.file, 'utf8'));
    expect(r.stdout + r.stderr).toBe('');
    const b = await helfy(['init', root, '--ci', 'gitlab', '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.json.status).toBe('already-initialized');
    expect(b.json.pipeline.file).toBe(join(root, '.gitlab-ci.yml'));
    expect((await lintGitlab(readFileSync(b.json.pipeline.file, 'utf8'))).exitCode).toBe(0);
  });

  it("refuses before writing anything when a user's own pipeline is in the way, or the provider is unknown", async () => {
    const root = join(dir, 'cli2');
    mkdirSync(root);
    writeFileSync(join(root, '.gitlab-ci.yml'), 'stages: [mine]\n');
    const a = await helfy(['init', root, '--yes', '--no-apps', '--ci', 'gitlab']);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('.gitlab-ci.yml already exists with other content');
    expect(existsSync(join(root, 'helfy.config.json'))).toBe(false);
    expect(existsSync(join(root, '.env'))).toBe(false);
    expect(readFileSync(join(root, '.gitlab-ci.yml'), 'utf8')).toBe('stages: [mine]\n');
    const b = await helfy(['init', root, '--yes', '--no-apps', '--ci', 'jenkins']);
    expect(b.code).toBe(2);
    expect(existsSync(join(root, 'helfy.config.json'))).toBe(false);
  });
});

// The generated pipeline's own steps, run verbatim in a fresh clone of a workspace (install, then
// `helfy ci` on a real Docker engine): tests/smoke/ci.e2e.test.ts.
