/**
 * GET /health requests/s: the built API (node dist/server.js, LOG_LEVEL=info: one JSON log line
 * per request, as in production; stdout to /dev/null) against a bare node:http server answering
 * the same JSON. Target: API ≥ 0.7× bare. Rounds alternate the two; medians are compared.
 * Run: (cd templates/api && npm run build) && npx tsx bench/api-health.ts [rounds] [seconds]
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../tests/support/services/index.js';
import { autocannon, median, spawnNode, stop, TEMPLATE, waitHttp } from './api-common.js';

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 5);
const connections = 50;

const bare = join(tmpdir(), `helfy-bare-${process.pid}.mjs`);
writeFileSync(
  bare,
  `import { createServer } from 'node:http';
const body = JSON.stringify({ status: 'ok', service: 'api', version: '0.1.0' });
createServer((req, res) => {
  if (req.url === '/health') { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); }
  else { res.writeHead(404); res.end(); }
}).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`,
);

const [apiPort, barePort] = [await freePort(), await freePort()];
const api = spawnNode(join(TEMPLATE, 'dist/server.js'), {
  PORT: String(apiPort),
  HOST: '127.0.0.1',
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  // /health touches no dependency: these only have to be valid.
  DATABASE_URL: 'postgres://helfy_api:x@127.0.0.1:1/helfy_app',
  NEO4J_URL: 'bolt://127.0.0.1:1',
  NEO4J_PASSWORD: 'unused-password',
  TEMPORAL_ADDRESS: '127.0.0.1:1',
  JWT_SECRET: 'bench-secret-0123456789abcdef',
  DEPENDENCY_TIMEOUT_MS: '200',
});
const base = spawnNode(bare, { PORT: String(barePort) });
try {
  await Promise.all([waitHttp(`http://127.0.0.1:${apiPort}/health`), waitHttp(`http://127.0.0.1:${barePort}/health`)]);
  const run = async (port: number) => {
    const r = await autocannon({ url: `http://127.0.0.1:${port}/health`, connections, duration: seconds });
    if (r.non2xx || r.errors) throw new Error(`non-2xx ${r.non2xx}, errors ${r.errors}`);
    return r.requests.average;
  };
  await run(apiPort); // warm-up (JIT), not counted
  await run(barePort);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      a.push(await run(apiPort));
      b.push(await run(barePort));
    } else {
      b.push(await run(barePort));
      a.push(await run(apiPort));
    }
    console.error(`round ${i + 1}: api ${a.at(-1)!.toFixed(0)} req/s, bare ${b.at(-1)!.toFixed(0)} req/s`);
  }
  const ratio = median(a) / median(b);
  const out = { bench: 'GET /health', connections, seconds, rounds, apiMedian: Math.round(median(a)), bareMedian: Math.round(median(b)), ratio: Number(ratio.toFixed(2)), target: '>= 0.7', pass: ratio >= 0.7 };
  console.log(JSON.stringify(out));
} finally {
  await Promise.all([stop(api), stop(base)]);
}
