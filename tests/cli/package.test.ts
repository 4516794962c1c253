/** The packed tarball installs into an empty folder and runs: what a user gets from `npm install helfy`. */
import { execa } from 'execa';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, baseEnv, tempDir } from '../helpers/cli.js';

describe('npm package', () => {
  it('npm pack → install into an empty folder → npx helfy works', { timeout: 300_000 }, async () => {
    const out = tempDir('helfy-pack-');
    const env = baseEnv({ npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });
    // dist/ is already built by `npm test`'s pretest step; --ignore-scripts keeps pack from rebuilding.
    const pack = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: REPO, env, extendEnv: false });
    const [info] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    const paths = info.files.map((f) => f.path);
    expect(paths).toContain('bin/helfy.js');
    expect(paths).toContain('dist/main.js');
    // The native runtime's first-use installers (src/runtime/native/locate.ts runs them from the package).
    expect(paths).toEqual(expect.arrayContaining(['native/neo4j/install.sh', 'native/neo4j/pom.xml', 'native/temporal/install.sh']));
    expect(paths.some((p) => p.startsWith('src/') || p.startsWith('tests/') || p === '.env')).toBe(false);

    const app = tempDir('helfy-install-');
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    await execa('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(out, info.filename)], { cwd: app, env, extendEnv: false });
    expect(readdirSync(join(app, 'node_modules', 'helfy'))).toContain('dist');

    const version = await execa('npx', ['--no-install', 'helfy', '--version'], { cwd: app, env, extendEnv: false });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
    const help = await execa('npx', ['--no-install', 'helfy', '--help'], { cwd: app, env, extendEnv: false });
    expect(help.stdout).toContain('doctor');
    const ws = tempDir();
    const init = await execa('npx', ['--no-install', 'helfy', 'init', '--yes', '--cwd', ws, '--json'], { cwd: app, env, extendEnv: false, input: '' });
    expect(JSON.parse(init.stdout).status).toBe('created');
  });
});
