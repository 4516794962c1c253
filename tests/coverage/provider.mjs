/**
 * vitest's V8 coverage (@vitest/coverage-v8), plus the V8 coverage of the child processes the tests
 * start: the CLI tests run the built binary (bin/helfy.js → dist/), the API tests the built
 * server/worker (<tmp>/helfy-api-build-<random>/dist/), the web tests `node dist/server/index.mjs`
 * (templates/web/dist/). vitest only sees code loaded in its own workers; without the children
 * most of src/commands would count as never run although tests run it for real.
 *
 * How: when coverage is on, this provider puts HELFY_CHILD_V8_COVERAGE in the environment of
 * vitest's workers; tests/coverage/child-env.mjs (a setup file) copies it into NODE_V8_COVERAGE at
 * run time, so the workers themselves are not collected twice but every process a test starts
 * (with the worker's environment) writes its coverage there when it exits. At the end those dumps
 * are converted with the same converter vitest uses for its own (ast-v8-to-istanbul, through the
 * source map each process recorded in its dump) and merged into vitest's map before the uncovered
 * files are added, the reports printed and the thresholds checked.
 *
 * Not measurable: code that only runs inside Docker containers (the API/web images `helfy up`
 * starts) and client-side code running in Chromium (tests/web/browser.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeProcessCovs } from '@bcoe/v8-coverage';
import v8 from '@vitest/coverage-v8';
import { V8CoverageProvider } from '@vitest/coverage-v8/dist/provider.js';

export const CHILD_ENV = 'HELFY_CHILD_V8_COVERAGE';
const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const API_TEMPLATE = join(REPO, 'templates/api');
/** tests/api/processes.ts builds the API into <tmp>/helfy-api-build-<random>/dist. */
const API_BUILD = /^(.*[/\\]helfy-api-build-[^/\\]+[/\\]dist)[/\\]/;

/** Line lengths as Node records them in a dump's source-map-cache (lib/internal/source_map). */
const lineLengths = (code) => code.split(/\n|\u2028|\u2029/).map((l) => l.length);
const sameLengths = (a, b) => a.length === b.length && a.every((n, i) => n === b[i]);
const shortPath = (url) => {
  const path = fileURLToPath(url);
  return path.startsWith(REPO + sep) ? path.slice(REPO.length + 1) : path;
};

/** An inline `//# sourceMappingURL=data:…;base64,…` map, its sources as file URLs. */
function inlineSourceMap(code, url) {
  const m = /\/\/[#@] sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
  if (!m) return undefined;
  try {
    const map = JSON.parse(Buffer.from(m[1], 'base64').toString('utf8'));
    map.sources = (map.sources ?? []).map((s) => (s == null ? s : new URL(s, url).href));
    return map;
  } catch {
    return undefined;
  }
}

class ChildProcessV8Provider extends V8CoverageProvider {
  initialize(ctx) {
    super.initialize(ctx);
    this.childDirectory = resolve(this.options.reportsDirectory, '.children');
    // Read by the fork pool when it spawns workers (it spreads process.env into their environment).
    process.env[CHILD_ENV] = this.childDirectory;
    this.childStats = { processes: 0, scripts: 0, unmapped: [] };
  }

  async clean(clean = true) {
    await super.clean(clean);
    rmSync(this.childDirectory, { recursive: true, force: true });
    mkdirSync(this.childDirectory, { recursive: true });
  }

  async cleanAfterRun() {
    await super.cleanAfterRun();
    rmSync(this.childDirectory, { recursive: true, force: true });
  }

  /** Same steps as V8CoverageProvider.generateCoverage, then the children merged in. */
  async generateCoverage({ allTestsRun }) {
    const coverageMap = this.createCoverageMap();
    let merged = { result: [] };
    await this.readCoverageFiles({
      onFileRead(coverage) {
        merged = mergeProcessCovs([merged, coverage]);
        merged.result.forEach((result) => {
          if (!result.startOffset) {
            const original = coverage.result.find((r) => r.url === result.url);
            result.startOffset = original?.startOffset || 0;
          }
        });
      },
      onFinished: async (project, environment) => {
        coverageMap.merge(await this.convertCoverage(merged, project, environment));
        merged = { result: [] };
      },
      onDebug: { enabled: false },
    });
    // Every included file vitest's workers did not load gets its all-zero map, also those only a
    // child ran: a bundle leaves out code nothing imports, which must still count as not run.
    // Merging is by location; for lines a statement counts where it starts, so a statement both
    // maps hold (same start line) counts as run when either ran it.
    if (this.options.include != null && (allTestsRun || !this.options.cleanOnRerun)) {
      coverageMap.merge(await this.getCoverageMapForUncoveredFiles(coverageMap.files()));
    }
    coverageMap.merge(await this.convertChildCoverage());
    coverageMap.filter((filename) => existsSync(filename) && this.isIncluded(filename));
    const { processes, scripts, unmapped } = this.childStats;
    this.ctx.logger.log(` % child processes: ${processes} measured, ${scripts} of their scripts mapped to included sources` +
      (unmapped.length ? `; ${unmapped.length} not mapped (built file gone or changed since): ${unmapped.slice(0, 5).join(', ')}${unmapped.length > 5 ? ', …' : ''}` : ''));
    return coverageMap;
  }

  /** Reads every dump the children wrote; keeps scripts whose source map (or own path) leads to an
   *  included file; groups them by file and content (a dist/ rebuilt mid-run is another version). */
  async convertChildCoverage() {
    const map = this.createCoverageMap();
    if (!existsSync(this.childDirectory)) return map;
    const groups = new Map(); // one per script and version → { url, sourceMap, lengths, size, covs }
    for (const name of readdirSync(this.childDirectory).filter((n) => n.endsWith('.json'))) {
      let dump;
      try {
        dump = JSON.parse(readFileSync(join(this.childDirectory, name), 'utf8'));
      } catch {
        continue; // a process killed mid-write
      }
      this.childStats.processes++;
      const cache = dump['source-map-cache'] ?? {};
      for (const script of dump.result) {
        const { url } = script;
        if (!url.startsWith('file://') || url.includes('/node_modules/')) continue;
        const cached = cache[url];
        let key;
        if (cached?.data) {
          // A module with a source map file: Node recorded the map and the line lengths it saw.
          if (!cached.data.sources.some((s) => s?.startsWith('file://') && this.isIncluded(fileURLToPath(s)))) continue;
          key = `${url}\0${cached.lineLengths.join(',')}`;
        } else {
          // No recorded map (plain JS, or a vm.Script such as Temporal's workflow bundle, whose map
          // is inline): decided once the code is read; its top-level range gives the code's length.
          if (!fileURLToPath(url).startsWith(REPO + sep) && !API_BUILD.test(fileURLToPath(url))) continue;
          const top = script.functions[0]?.ranges[0];
          if (!top || top.startOffset !== 0) continue;
          key = `${url}\0#${top.endOffset}`;
        }
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { url, sourceMap: cached?.data, lengths: cached?.lineLengths, size: script.functions[0]?.ranges[0]?.endOffset, covs: [] }));
        group.covs.push({ result: [script] });
      }
    }
    for (const group of groups.values()) {
      const code = this.builtCode(group);
      if (code !== undefined && !group.sourceMap) group.sourceMap = inlineSourceMap(code, group.url);
      if (code !== undefined && !group.lengths) {
        const sources = group.sourceMap?.sources ?? [group.url];
        if (!sources.some((s) => s?.startsWith('file://') && this.isIncluded(fileURLToPath(s)))) continue;
      }
      if (code === undefined) {
        if (group.lengths) this.childStats.unmapped.push(shortPath(group.url));
        continue;
      }
      const { functions } = mergeProcessCovs(group.covs).result[0];
      map.merge(await this.remapCoverage(group.url, 0, { code, map: group.sourceMap }, functions));
      this.childStats.scripts++;
    }
    this.removeApiRebuild();
    return map;
  }

  /** The generated code a child ran: the file itself while it is unchanged; for the API test builds
   *  (private folders the tests delete afterwards) the same file from one fresh build of the
   *  template. Either way it must match what the process ran (the line lengths Node recorded, or
   *  the length of the script's top-level range), or it is skipped. */
  builtCode({ url, lengths, size }) {
    const path = fileURLToPath(url);
    const candidates = [path];
    const apiBuild = API_BUILD.exec(path);
    if (apiBuild) candidates.push(join(this.apiRebuild(), path.slice(apiBuild[1].length + 1)));
    for (const file of candidates) {
      if (!existsSync(file)) continue;
      const code = readFileSync(file, 'utf8');
      if (lengths ? sameLengths(lineLengths(code), lengths) : code.length === size) return code;
    }
    return undefined;
  }

  apiRebuild() {
    if (this.apiRebuildDir) return this.apiRebuildDir;
    // Outside the template, like the tests' own builds.
    this.apiRebuildDir = join(mkdtempSync(join(tmpdir(), 'helfy-api-coverage-')), 'dist');
    try {
      const env = { ...process.env, HELFY_API_OUTDIR: this.apiRebuildDir };
      delete env.NODE_V8_COVERAGE;
      execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: API_TEMPLATE, env, stdio: 'ignore' });
    } catch {
      /* then those scripts count as not mapped */
    }
    return this.apiRebuildDir;
  }

  removeApiRebuild() {
    if (this.apiRebuildDir) rmSync(dirname(this.apiRebuildDir), { recursive: true, force: true });
    this.apiRebuildDir = undefined;
  }
}

export default {
  ...v8,
  async getProvider() {
    return new ChildProcessV8Provider();
  },
};
