/**
 * What runs before the native services start: `prepare` (the servers located or installed on
 * first use, the definitions read with their warnings, initdb and config files of the stores not
 * running) and `build` (the apps' `npm run build`), and which app images (builds) are missing.
 */
import { mkdir } from 'node:fs/promises';
import type { HelfyConfig } from '../../../config/load.js';
import type { HelfyError } from '../../../core/errors.js';
import type { RunResult } from '../../../stack/runtime.js';
import type { ServiceName } from '../../../stack/types.js';
import { appOf } from './common.js';
import { locateModule, needs, type StackContext } from './context.js';

/** `prepare` without the workspace lock (nativeRuntime takes it); progress and warnings go to the caller meanwhile. */
export async function prepareLocked(
  ctx: StackContext, names: ServiceName[], opts: { signal?: AbortSignal; onProgress: (line: string) => void },
): Promise<void> {
  const { o, cfg, out } = ctx;
  const prev = out.progress;
  out.progress = opts.onProgress;
  out.loud = true;
  try {
    // The servers first. What their first-use installs need is checked before any starts (one
    // error naming every missing tool); then they run side by side, each with its progress lines.
    const keys = [...new Set(names.flatMap(needs))];
    if (!o.locate) await (await locateModule()).checkInstallable(cfg, keys, { env: o.env });
    await Promise.all(keys.map((k) => ctx.locator[k]()));
    if (opts.signal?.aborted) return;
    // Then the definitions, read afresh so their warnings are said now (they refuse e.g. a
    // data folder of another PostgreSQL major) ...
    ctx.services.clear();
    for (const n of names) await ctx.svc(n);
    // ... and what the stores need on disk before they start (initdb on first use, config
    // files), for those not running. The apps are prepared by up(), after their build.
    const s = await ctx.sup();
    // The workspace folders first, with the default mode: a service creating its own folder
    // recursively with 0700 must not close .helfy/ to the OS user PostgreSQL runs as.
    for (const d of [s.dirs.data, s.dirs.logs, s.dirs.run]) await mkdir(d, { recursive: true });
    for (const n of names) {
      if (opts.signal?.aborted) return;
      if (n === 'api' || n === 'worker' || n === 'web') continue;
      if ((await s.get(n))?.state === 'running') continue;
      await (await ctx.svc(n)).prepare();
    }
  } finally {
    out.progress = prev;
    out.loud = false;
  }
}

/** `build`: `npm run build` of the apps among `names` (api, web), in that order; the first failure ends it with its exit code. */
export async function buildApps(cfg: HelfyConfig, names: ServiceName[], opts: { signal?: AbortSignal; onLine?: (l: string) => void }): Promise<RunResult> {
  const t0 = Date.now();
  const output: string[] = [];
  const onLine = (l: string) => {
    output.push(l);
    opts.onLine?.(l);
  };
  const { ensureAppBuilt } = await import('../services.js');
  for (const n of names) {
    if (opts.signal?.aborted) return { exitCode: 130, output, cancelled: true, durationMs: Date.now() - t0 };
    if (n !== 'api' && n !== 'web') continue;
    try {
      await ensureAppBuilt(cfg, n, onLine);
    } catch (e) {
      onLine(`${n}: ${(e as Error).message}`);
      const code = (e as HelfyError).data?.exitCode;
      return { exitCode: typeof code === 'number' && code !== 0 ? code : 1, output, cancelled: false, durationMs: Date.now() - t0 };
    }
  }
  return { exitCode: 0, output, cancelled: false, durationMs: Date.now() - t0 };
}

/** The image references (`helfy-local/api:…`, `helfy-local/web:…`) whose app build is missing. */
export async function missingImages(cfg: HelfyConfig, refs: string[]): Promise<string[]> {
  const { appBuildMissing } = await import('../services.js');
  return refs.filter((r) => {
    const app = appOf(r);
    return app !== undefined && appBuildMissing(cfg, app);
  });
}
