#!/usr/bin/env node
// Benchmark: building the API image (templates/api/Dockerfile) on the Docker engine, against the
// same work done on the host in the same run (`npm ci` + `npm run build` + `npm prune --omit=dev`
// in a copy of the template): the ratio is what the image build adds (layers, copies on vfs).
//  1. first build: `docker build --no-cache` (npm ci from the registry inside the build);
//  2. sources changed, lockfile not: a copy of the context with one source file touched (the
//     lockfile layer and its npm ci come from the layer cache);
//  3. nothing changed: what `helfy up` does then — one `docker image inspect` of the content tag.
//
//   node bench/stack-build.mjs [--rounds 1]
// Needs a Docker engine and the node base image (stand-in: infra/docker/images.sh). No target:
// it reports figures (the first build is dominated by the registry download and the storage driver).
import { execa } from 'execa';
import { cpSync, mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, arg, images, median } from './stack-common.mjs';

const rounds = Number(arg('rounds', '1'));
const log = (m) => process.stderr.write(`${m}\n`);
const base = (await images()).HELFY_NODE_IMAGE ?? 'node:22-bookworm-slim';
const env = { ...process.env, DOCKER_BUILDKIT: '0' };

function contextCopy() {
  const dir = mkdtempSync(join(tmpdir(), 'helfy-bench-build-'));
  cpSync(join(REPO, 'templates/api'), dir, { recursive: true, filter: (src) => !/\/(node_modules|dist)(\/|$)/.test(src.slice(REPO.length)) });
  return dir;
}

async function timed(label, fn) {
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  log(`${label}: ${(ms / 1000).toFixed(1)}s`);
  return ms;
}

async function dockerBuild(ctx, tag, extra = []) {
  const r = await execa('docker', ['build', '-q', ...extra, '--build-arg', `HELFY_NODE_IMAGE=${base}`, '-t', tag, ctx], { env, reject: false });
  if (r.exitCode !== 0) throw new Error(`docker build failed:\n${r.stderr.slice(-3000)}`);
}

async function hostBuild(ctx) {
  for (const args of [['ci', '--no-audit', '--no-fund', '--loglevel=error'], ['run', 'build'], ['prune', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error']]) {
    const r = await execa('npm', args, { cwd: ctx, reject: false });
    if (r.exitCode !== 0) throw new Error(`npm ${args.join(' ')} failed:\n${r.stderr.slice(-2000)}`);
  }
}

const first = [], firstHost = [], incremental = [], cached = [];
const tag = `helfy-bench/api:${Date.now().toString(36)}`;
for (let i = 0; i < rounds; i++) {
  const ctx = contextCopy();
  const hostCtx = contextCopy();
  try {
    // Alternate which goes first (the npm cache warms for the second).
    const order = i % 2 === 0 ? ['docker', 'host'] : ['host', 'docker'];
    for (const which of order) {
      if (which === 'docker') first.push(await timed(`round ${i + 1} docker build --no-cache`, () => dockerBuild(ctx, tag, ['--no-cache'])));
      else firstHost.push(await timed(`round ${i + 1} host npm ci + build + prune`, () => hostBuild(hostCtx)));
    }
    appendFileSync(join(ctx, 'src/server.ts'), `\n// bench ${Date.now()}\n`);
    incremental.push(await timed(`round ${i + 1} docker build after a source change`, () => dockerBuild(ctx, tag)));
    cached.push(await timed(`round ${i + 1} image present (docker image inspect)`, () => execa('docker', ['image', 'inspect', tag], { env })));
  } finally {
    rmSync(ctx, { recursive: true, force: true });
    rmSync(hostCtx, { recursive: true, force: true });
  }
}
const size = Number((await execa('docker', ['image', 'inspect', tag, '--format', '{{.Size}}'])).stdout);
await execa('docker', ['rmi', tag], { reject: false });
const result = {
  bench: 'stack-build (templates/api image)',
  base,
  rounds,
  firstBuildMs: first.map(Math.round),
  hostSameWorkMs: firstHost.map(Math.round),
  ratioFirstToHost: Number((median(first) / median(firstHost)).toFixed(2)),
  sourceChangeRebuildMs: incremental.map(Math.round),
  imagePresentCheckMs: cached.map(Math.round),
  imageSizeMB: Math.round(size / 1e6),
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
