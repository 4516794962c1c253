/**
 * `helfy init` on a real terminal: the binary runs under `script` (util-linux), which gives it a
 * pseudo-terminal, and the test answers each prompt once it has appeared on the screen.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, baseEnv, tempDir } from '../helpers/cli.js';

function interact(cwd: string, steps: { waitFor: string; send: string }[]): Promise<{ code: number | null; screen: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...baseEnv(), CI: '', TERM: 'xterm' } as NodeJS.ProcessEnv;
    delete env.CI;
    const child = spawn('script', ['-qfec', `node ${BIN} init`, '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let step = 0;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out at step ${step}; screen:\n${screen}`)); }, 30_000);
    const advance = () => {
      while (step < steps.length && screen.includes(steps[step]!.waitFor)) {
        child.stdin.write(steps[step]!.send);
        screen = screen.slice(screen.indexOf(steps[step]!.waitFor) + steps[step]!.waitFor.length);
        step++;
      }
    };
    child.stdout.on('data', (d: Buffer) => { screen += d.toString(); advance(); });
    child.stderr.on('data', (d: Buffer) => { screen += d.toString(); advance(); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, screen }); });
  });
}

describe('helfy init on a terminal', () => {
  it('asks for the name and ports, then writes the workspace', async () => {
    const dir = tempDir();
    const r = await interact(dir, [
      { waitFor: 'Project name', send: 'tty-proj\r' },
      { waitFor: 'Change the default host ports?', send: 'y\r' },
      { waitFor: 'Host port for postgres', send: '15432\r' },
      ...['neo4jHttp', 'neo4jBolt', 'temporal', 'temporalUi', 'api', 'web'].map((k) => ({ waitFor: `Host port for ${k}`, send: '\r' })),
    ]);
    expect(r.code, r.screen).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, 'helfy.config.json'), 'utf8'));
    expect(cfg.name).toBe('tty-proj');
    expect(cfg.ports).toEqual({ postgres: 15432, neo4jHttp: 7474, neo4jBolt: 7687, temporal: 7233, temporalUi: 8233, api: 3000, web: 3001 });
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
  });
});
