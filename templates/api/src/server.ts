/** API entry (dist/server.js): config → deps → app → HTTP; SIGTERM drains and closes everything. */
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './log.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`helfy-api: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const log = createLogger(config.LOG_LEVEL, { service: 'api' });
  const [{ createDeps, closeDeps }, { createApp }, { listen }] = await Promise.all([import('./deps.js'), import('./app.js'), import('./http.js')]);
  const deps = await createDeps(config, log);
  const app = createApp(deps);

  const { server, port } = await listen(app.fetch, config.PORT, config.HOST);
  log.info('listening', { port, host: config.HOST, timescale: deps.timescale });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const force = setTimeout(() => {
      log.warn('shutdown timed out; closing remaining connections');
      server.closeAllConnections();
    }, config.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    // Stop accepting; in-flight requests finish; idle keep-alive sockets close now.
    // Keep-alive sockets become idle when their in-flight response ends: close them as they do.
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    server.close(async () => {
      clearTimeout(force);
      clearInterval(idle);
      await closeDeps(deps);
      log.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e) => {
  process.stderr.write(`helfy-api: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
