/**
 * api, worker and web as local Node processes, run from the built output of the app's sources
 * (`appSource()`: the workspace copy apps/<app>, else the bundled template):
 * `node dist/server.js` / `node dist/worker.js` (api) and `node dist/server/index.mjs` (web).
 * Their environment is the Docker definition's (src/stack/services/app.ts) with every container
 * address rewritten to the host's published port (src/apps/env.ts, as `helfy dev` does), in
 * production mode; the api and web also share PROXY_SECRET (the proof that a request's
 * X-Forwarded-For comes from the web server: see nativeAppEnvironment). The worker's health port is picked once and kept in `.helfy/data/worker/port`.
 *
 * `ensureAppBuilt()`: `npm ci` when the dependencies are missing or stale (src/apps/install.ts),
 * then `npm run build`; the stamp `dist/.helfy-native-build` holds the build tag of the sources
 * (`nativeBuildTag`: what .dockerignore leaves in, never node_modules or dist), so a second call
 * with unchanged sources does nothing. A workspace without apps/<app> builds its own mirror of
 * the bundled template in .helfy/apps/<app> (appBuildDir): nothing is built in helfy's install folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { appSource, type AppName } from '../../../config/apps.js';
import type { HelfyConfig } from '../../../config/load.js';
import { writeFileAtomicSync } from '../../../core/atomic-write.js';
import { HelfyError } from '../../../core/errors.js';
import { childEnvironment, devEnvironment, proxySecret, type DevProcessName } from '../../../apps/env.js';
import { installState, writeStamp } from '../../../apps/install.js';
import { service } from '../../../stack/catalog.js';
import { dockerignore } from '../../../stack/env.js';
import { hostFor, httpUrl, probeHttp, runProbe } from '../../../stack/probes.js';
import { runGroupProcess } from '../../process/group.js';
import type { ProcessSpec } from '../types.js';
import { baseEnv, connectHost, freePort, isPortFree, specHash, type NativeContext, type NativeService } from './common.js';

export const BUILD_STAMP = join('dist', '.helfy-native-build');

/** What each app process runs (relative to the app's folder). */
export const APP_ENTRY: Record<DevProcessName, { app: AppName; entry: string }> = {
  api: { app: 'api', entry: 'dist/server.js' },
  worker: { app: 'api', entry: 'dist/worker.js' },
  web: { app: 'web', entry: 'dist/server/index.mjs' },
};

const ENTRIES: Record<AppName, string[]> = { api: ['dist/server.js', 'dist/worker.js'], web: ['dist/server/index.mjs'] };

/** What never changes a build: the build's own output and what it installs (whatever .dockerignore says). */
const NEVER_HASHED = /^(node_modules|dist|\.helfy)(\/|$)/;

function filesUnder(dir: string, ignored: (rel: string) => boolean, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    const rel = p.slice(base.length + 1);
    if (NEVER_HASHED.test(rel) || ignored(rel)) continue;
    if (e.isDirectory()) out.push(...filesUnder(p, ignored, base));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * The build tag a native build of this folder must carry: a hash of its sources as the image
 * build sees them (.dockerignore, like buildTag of src/stack/env.ts), and never of node_modules
 * or dist/ (an app without a .dockerignore would otherwise change its tag by being built).
 */
export function nativeBuildTag(dir: string): string {
  const h = createHash('sha256').update('native\n');
  for (const f of filesUnder(dir, dockerignore(dir))) h.update(`${f.slice(dir.length)}\n`).update(readFileSync(f));
  return h.digest('hex').slice(0, 12);
}

/**
 * Where an app is built and run from: its workspace copy (apps/<app>), or, for a workspace without
 * one (`helfy init --no-apps`), `.helfy/apps/<app>`, the workspace's own mirror of helfy's template.
 * Nothing is ever built inside helfy's install folder: every workspace owns its build output, two
 * workspaces never race on one, and a read-only install works.
 */
export function appBuildDir(root: string, app: AppName): { source: string; dir: string; mirror: boolean } {
  const src = appSource(root, app);
  return src.from === 'workspace' ? { source: src.dir, dir: src.dir, mirror: false } : { source: src.dir, dir: join(root, '.helfy', 'apps', app), mirror: true };
}

/**
 * Brings the mirror of a template up to date: the files an image build would see (.dockerignore),
 * copied where they differ, and the ones the template no longer has removed (node_modules and
 * dist stay). The template's installed node_modules, when it has one and the mirror has none, is
 * linked in (cp -al: fast, and nothing of the template is ever written); `npm ci` still runs when
 * its install stamp does not match the lockfile.
 */
export async function syncMirror(source: string, dir: string): Promise<void> {
  const want = new Map(filesUnder(source, dockerignore(source)).map((f) => [f.slice(source.length + 1), f]));
  mkdirSync(dir, { recursive: true });
  const have = existsSync(dir) ? filesUnder(dir, () => false).map((f) => f.slice(dir.length + 1)) : [];
  for (const rel of have) if (!want.has(rel)) rmSync(join(dir, rel), { force: true });
  for (const [rel, from] of want) {
    const to = join(dir, rel);
    const bytes = readFileSync(from);
    if (existsSync(to) && readFileSync(to).equals(bytes)) continue;
    mkdirSync(dirname(to), { recursive: true });
    writeFileAtomicSync(to, bytes);
  }
  if (!existsSync(join(dir, 'node_modules')) && existsSync(join(source, 'node_modules'))) {
    const r = await runGroupProcess({ name: 'link node_modules', command: 'cp', args: ['-al', join(source, 'node_modules'), join(dir, 'node_modules')], cwd: dir, env: baseEnv(), onLine: () => undefined });
    // Caches a build rewrites in place must not be links to the template's files.
    if (r.code === 0) for (const c of ['.vite', '.cache']) rmSync(join(dir, 'node_modules', c), { recursive: true, force: true });
    else rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
  }
}

/** True when the app has no native build of its current sources ("image missing" for `up`). */
export function appBuildMissing(cfg: Pick<HelfyConfig, 'root'>, app: AppName): boolean {
  const { source, dir } = appBuildDir(cfg.root, app);
  if (!ENTRIES[app].every((e) => existsSync(join(dir, e)))) return true;
  try {
    return readFileSync(join(dir, BUILD_STAMP), 'utf8').trim() !== nativeBuildTag(source);
  } catch {
    return true;
  }
}

/**
 * The build is a production build whatever the shell says (Vite and React pick their JSX runtime
 * by NODE_ENV: a build under NODE_ENV=test/development calls jsxDEV, which React's production
 * runtime lacks); `npm ci` installs the dev dependencies the build needs (NODE_ENV=production
 * would omit them).
 */
function buildEnvironment(npmCommand: string): NodeJS.ProcessEnv {
  const env = childEnvironment(process.env, {});
  if (npmCommand === 'run') env.NODE_ENV = 'production';
  else delete env.NODE_ENV;
  return env;
}

async function run(app: AppName, dir: string, args: string[], onLine: (line: string) => void): Promise<void> {
  const tail: string[] = [];
  let r: { code: number | null; cancelled: boolean };
  try {
    r = await runGroupProcess({
      name: `${app} npm ${args[0]}`,
      command: 'npm',
      args,
      cwd: dir,
      env: buildEnvironment(args[0]!),
      onLine: (l) => {
        tail.push(l);
        if (tail.length > 40) tail.shift();
        onLine(l);
      },
    });
  } catch (e) {
    throw new HelfyError('TOOL_MISSING', `${app}: could not run npm ${args.join(' ')} (${(e as Error).message})`, { hint: 'Is npm on PATH? It comes with Node.js.' });
  }
  if (r.code !== 0) {
    throw new HelfyError('BUILD_FAILED', `${app}: npm ${args.join(' ')} failed (exit ${r.code}) in ${dir}`, {
      details: tail.slice(-15),
      hint: `Run \`npm ${args.join(' ')}\` in ${dir} to see the whole output.`,
    });
  }
}

/** `npm ci` (when needed) and `npm run build` unless the current sources are built already. */
export async function ensureAppBuilt(cfg: Pick<HelfyConfig, 'root'>, app: AppName, onLine: (line: string) => void): Promise<{ built: boolean; dir: string }> {
  const { source, dir, mirror } = appBuildDir(cfg.root, app);
  if (!appBuildMissing(cfg, app)) return { built: false, dir };
  const tag = nativeBuildTag(source);
  if (mirror) {
    onLine(`${app}: helfy's template into ${dir} (a workspace without apps/${app} builds its own copy)`);
    await syncMirror(source, dir);
  }
  const deps = installState(dir);
  if (deps.needed) {
    onLine(`${app}: npm ci (${deps.reason === 'no-node_modules' ? 'no node_modules' : 'package-lock.json changed'})`);
    await run(app, dir, ['ci', '--no-audit', '--no-fund'], onLine);
    writeStamp(dir);
  }
  onLine(`${app}: npm run build`);
  await run(app, dir, ['run', 'build'], onLine);
  const missing = ENTRIES[app].filter((e) => !existsSync(join(dir, e)));
  if (missing.length) {
    throw new HelfyError('BUILD_FAILED', `${app}: npm run build did not write ${missing.join(', ')} in ${dir}`, { hint: 'Check the "build" script of its package.json.' });
  }
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileAtomicSync(join(dir, BUILD_STAMP), `${tag}\n`);
  return { built: true, dir };
}

/** The environment of one app process (the Docker definition's, addresses on the host, production). */
export function nativeAppEnvironment(cfg: HelfyConfig, name: DevProcessName, o: { vars: Record<string, string>; workerHealthPort: number }): Record<string, string> {
  const env = { ...baseEnv(), ...devEnvironment(cfg, name, { vars: o.vars, workerHealthPort: o.workerHealthPort, viteConfig: '' }) };
  env.NODE_ENV = 'production';
  delete env.VITE_CONFIG;
  if (name === 'api') {
    // The web server proxies /api/* from this machine: its X-Forwarded-For comes from the address
    // it connects to (the API's host), the only peer believed (not the Docker proxy network's).
    // Every other local program connects from there too, so the address alone proves nothing:
    // the API also wants the web server's PROXY_SECRET with it (templates/api/src/auth/client-address.ts).
    env.TRUST_PROXY = connectHost(cfg.bindAddress);
    env.PROXY_SECRET = proxySecret(cfg);
  }
  if (name === 'web') {
    env.HOST = cfg.bindAddress;
    env.PROXY_SECRET = proxySecret(cfg);
  }
  return env;
}

/** The worker's health port as kept in .helfy/data/worker/port. */
function readWorkerPort(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The worker's health port: the kept one when it is still usable (not a configured port; with
 * `check`, free right now), else a fresh free one. `persist` writes it (prepare), otherwise it is
 * only held in memory (nativeService only reads).
 */
async function pickWorkerPort(cfg: HelfyConfig, file: string, o: { check: boolean; persist: boolean; current?: number }): Promise<number> {
  const host = connectHost(cfg.bindAddress);
  const cfgPorts = Object.values(cfg.ports);
  const usable = async (p: number | undefined) => p !== undefined && !cfgPorts.includes(p) && (!o.check || (await isPortFree(host, p)));
  const have = readWorkerPort(file);
  let p: number | undefined = (await usable(have)) ? have : (await usable(o.current)) ? o.current : undefined;
  while (p === undefined || cfgPorts.includes(p)) p = await freePort(host);
  if (o.persist && p !== have) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomicSync(file, `${p}\n`);
  }
  return p;
}

export async function appService(name: DevProcessName, nctx: NativeContext): Promise<NativeService> {
  const { cfg } = nctx;
  const { app, entry } = APP_ENTRY[name];
  const { dir } = appBuildDir(cfg.root, app);
  const portFile = join(nctx.dirs.data, 'worker', 'port');
  let workerPort = name === 'worker' ? await pickWorkerPort(cfg, portFile, { check: false, persist: false }) : 0;
  const spec: ProcessSpec = {
    name,
    kind: 'daemon',
    command: process.execPath,
    args: [entry],
    env: nativeAppEnvironment(cfg, name, { vars: nctx.vars, workerHealthPort: workerPort }),
    cwd: dir,
    stopSignal: 'SIGTERM',
    graceS: service(name).stopGracePeriodS ?? 10,
    labels: {},
  };
  const rehash = () => (spec.labels['dev.helfy.config-hash'] = specHash(spec, existsSync(join(dir, BUILD_STAMP)) ? readFileSync(join(dir, BUILD_STAMP), 'utf8').trim() : ''));
  rehash();
  const ports = name === 'api' ? [cfg.ports.api] : name === 'web' ? [cfg.ports.web] : [workerPort];
  const def = service(name);
  return {
    spec,
    ports,
    async prepare() {
      if (!ENTRIES[app].every((e) => existsSync(join(dir, e)))) {
        throw new HelfyError('OPERATION_FAILED', `${name}: ${join(dir, entry)} is not built`, { hint: 'Run `helfy up --build` (npm ci + npm run build of the app).' });
      }
      if (name === 'worker') {
        const p = await pickWorkerPort(cfg, portFile, { check: true, persist: true, current: workerPort });
        if (p !== workerPort) {
          workerPort = p;
          spec.env.HEALTH_PORT = String(p);
          ports.splice(0, ports.length, p);
        }
      }
      rehash();
    },
    async health(timeoutMs) {
      if (name === 'worker') {
        const r = await probeHttp(httpUrl(hostFor(cfg), workerPort, '/health'), timeoutMs, true);
        return { ok: r.ok, detail: r.detail };
      }
      const r = await runProbe(def, cfg, timeoutMs);
      return { ok: Boolean(r?.ok), detail: r?.detail ?? 'no probe' };
    },
  };
}
