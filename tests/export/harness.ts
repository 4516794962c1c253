/**
 * What the export tests share: a workspace made by the built CLI, the export run through it, the
 * offline validators (kubernetes-validate in its cached venv, provisioned by
 * infra/kubernetes-validate.sh; kubectl; the docker CLI) and a YAML reader (the venv's PyYAML:
 * helfy itself only writes YAML).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseDotenv } from '../../src/config/dotenv.js';
import { SECRET_KEYS } from '../../src/config/secrets.js';
import { helfy, REPO, tempDir, type CliResult } from '../helpers/cli.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((res) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      const code = e ? (typeof (e as { code?: unknown }).code === 'number' ? ((e as { code: number }).code) : -1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr) || (e && code === -1 ? String(e.message) : '') });
    });
  });
}

/** The kubernetes-validate binary, installed once into the helfy cache (a failure is a provisioning failure). */
export async function provisionKubernetesValidate(): Promise<{ bin?: string; error?: string }> {
  const r = await run('bash', [resolve(REPO, 'infra/kubernetes-validate.sh')], { timeoutMs: 600_000 });
  const bin = r.stdout.trim().split('\n').at(-1);
  if (r.code !== 0 || !bin || !existsSync(bin)) return { error: `infra/kubernetes-validate.sh exited ${r.code}: ${r.stderr.slice(-2000)}` };
  return { bin };
}

/** Every document of the YAML files, parsed by PyYAML in the kubernetes-validate venv (null documents dropped). */
export async function readYamlDocs(python: string, files: string[]): Promise<any[]> {
  const script = 'import sys, json, yaml\nout = []\nfor f in sys.argv[1:]:\n    for d in yaml.safe_load_all(open(f)):\n        if d is not None:\n            d["__file"] = f\n            out.append(d)\nprint(json.dumps(out))';
  const r = await run(python, ['-c', script, ...files]);
  if (r.code !== 0) throw new Error(`PyYAML could not read ${files.join(', ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as any[];
}

export const pythonOf = (bin: string) => join(dirname(bin), 'python');

/** A fresh workspace (`helfy init --yes --no-apps`) and its .env secrets. */
export async function workspace(name = 'shop'): Promise<{ dir: string; secrets: Record<string, string> }> {
  const dir = join(tempDir('helfy-export-'), name);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  const r = await helfy(['init', '--yes', '--no-apps', '--name', name], { cwd: dir });
  if (r.code !== 0) throw new Error(`helfy init failed: ${r.stderr}`);
  const env = Object.fromEntries(parseDotenv(readFileSync(join(dir, '.env'), 'utf8'), '.env').map((e) => [e.key, e.value]));
  return { dir, secrets: Object.fromEntries(SECRET_KEYS.filter((k) => env[k]).map((k) => [k, env[k]!])) };
}

export function exportCli(dir: string, args: string[]): Promise<CliResult> {
  return helfy(['export', ...args, '--json'], { cwd: dir });
}

/** Every file below `dir`, relative to it. */
export function filesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

/** The text of every file of an export, keyed by its relative path. */
export function contents(dir: string): Record<string, string> {
  return Object.fromEntries(filesIn(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}
