// Minimal HTTP server: GET /health answers {status, service, version}. No dependencies.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const service = process.env.HELFY_SERVICE ?? pkg.name.replace(/^helfy-/, '');
const port = Number(process.env.PORT ?? 3000);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', service, version: pkg.version }));
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'not found' }));
});

server.listen(port, '0.0.0.0', () => console.log(`${service} ${pkg.version} listening on :${port}`));

// PID 1 in the container: handle the stop signals ourselves, or `docker stop` waits its full timeout.
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    console.log(`${service}: ${sig}, shutting down`);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
    server.closeAllConnections?.();
  });
}
