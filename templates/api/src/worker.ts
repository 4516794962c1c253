/**
 * Worker entry (dist/worker.js): connects to Temporal with retry, runs the prebundled workflows
 * (dist/workflow-bundle.js next to this file) and the activities, ensures the nightly Schedule,
 * serves GET /health on HEALTH_PORT (200 while RUNNING, 503 otherwise), drains on SIGTERM.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type WorkerConfig } from './config.js';
import { createLogger } from './log.js';
import pkg from '../package.json' with { type: 'json' };

async function main(): Promise<void> {
  let config: WorkerConfig;
  try {
    config = loadConfig(process.env, 'worker');
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`helfy-worker: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const log = createLogger(config.LOG_LEVEL, { service: 'worker' });
  // The SDK's own log lines (worker state, activity failures) go through our JSON logger.
  const { Runtime, DefaultLogger } = await import('@temporalio/worker');
  const sdkLevel = ({ debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', silent: 'ERROR' } as const)[config.LOG_LEVEL];
  Runtime.install({
    logger: new DefaultLogger(sdkLevel, (e) => {
      const lvl = e.level === 'TRACE' || e.level === 'DEBUG' ? 'debug' : e.level === 'INFO' ? 'info' : e.level === 'WARN' ? 'warn' : 'error';
      log[lvl](e.message, { sdk: true, ...(e.meta as Record<string, unknown> | undefined) });
    }),
  });
  const [{ createPool }, { connectWithRetry, createWorker }, { Client, Connection }, { ensureNightlySchedule }] = await Promise.all([
    import('./db/client.js'),
    import('./temporal/worker-factory.js'),
    import('@temporalio/client'),
    import('./temporal/schedule.js'),
  ]);

  let worker: Awaited<ReturnType<typeof createWorker>> | undefined;
  const health = createServer((req, res) => {
    const running = worker?.getState() === 'RUNNING';
    if (req.method === 'GET' && (req.url === '/health' || req.url?.startsWith('/health?'))) {
      res.writeHead(running ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: running ? 'ok' : 'unavailable', service: 'worker', version: pkg.version, state: worker?.getState() ?? 'CONNECTING' }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'only GET /health' } }));
    }
  });
  health.listen(config.HEALTH_PORT, config.HOST);

  const abort = new AbortController();
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    setTimeout(() => {
      log.warn('shutdown timed out');
      process.exit(0);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    abort.abort();
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  const pool = createPool({ url: config.DATABASE_URL, max: config.PG_POOL_MAX, timeoutMs: config.DEPENDENCY_TIMEOUT_MS, applicationName: 'helfy-worker' });
  let connection: Awaited<ReturnType<typeof connectWithRetry>> | undefined;
  try {
    connection = await connectWithRetry(config.TEMPORAL_ADDRESS, {
      signal: abort.signal,
      onRetry: (attempt, delayMs, error) => log.warn('temporal not reachable yet', { attempt, retryInMs: delayMs, error }),
    });
    const bundle = fileURLToPath(new URL('./workflow-bundle.js', import.meta.url));
    // HELFY_WORKFLOWS_PATH (dev, benchmarks): bundle that source at start instead of the prebuilt bundle.
    const workflows = process.env.HELFY_WORKFLOWS_PATH
      ? { workflowsPath: process.env.HELFY_WORKFLOWS_PATH }
      : existsSync(bundle)
        ? { bundlePath: bundle }
        : { workflowsPath: fileURLToPath(new URL('./temporal/workflows.ts', import.meta.url)) };
    // The namespace may still be being registered by `helfy up`: wait until it answers, then
    // create the worker. A Worker.create that fails after the native side registered its slot
    // leaves that slot behind on the connection, so a failed attempt closes the connection and
    // the next one starts from a fresh one.
    for (let attempt = 1; ; attempt++) {
      let creating = false;
      try {
        await connection.withDeadline(Date.now() + 5000, () => connection!.workflowService.describeNamespace({ namespace: config.TEMPORAL_NAMESPACE }));
        creating = true;
        worker = await createWorker({ connection, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE, pool, workflows });
        break;
      } catch (e) {
        if (abort.signal.aborted) throw e;
        const error = e instanceof Error ? e.message.split('\n')[0] : String(e);
        log.warn(creating ? 'worker not created yet' : 'namespace not available yet', { attempt, namespace: config.TEMPORAL_NAMESPACE, error });
        await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 3000)));
        if (creating) {
          await connection.close().catch(() => {});
          connection = await connectWithRetry(config.TEMPORAL_ADDRESS, { signal: abort.signal });
        }
      }
    }
    if (abort.signal.aborted) throw new Error('stopped before start');
    const client = new Client({ connection: await Connection.connect({ address: config.TEMPORAL_ADDRESS }), namespace: config.TEMPORAL_NAMESPACE });
    ensureNightlySchedule(client, { taskQueue: config.TEMPORAL_TASK_QUEUE, cron: config.DAILY_SUMMARY_CRON })
      .then((r) => log.info('nightly schedule ready', { result: r, cron: config.DAILY_SUMMARY_CRON }))
      .catch((e) => log.error('could not create the nightly schedule', { error: e instanceof Error ? e.message : String(e) }))
      .finally(() => client.connection.close().catch(() => {}));
    log.info('worker running', { namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE, prebundled: 'bundlePath' in workflows });
    await worker.run();
    log.info('worker stopped');
  } catch (e) {
    if (!stopping) {
      log.error('worker failed', { error: e instanceof Error ? e.message : String(e) });
      process.exitCode = 1;
    }
  } finally {
    await Promise.allSettled([pool.end(), connection?.close()]);
    health.close();
    health.closeAllConnections();
    process.exit(process.exitCode ?? 0);
  }
}

main().catch((e) => {
  process.stderr.write(`helfy-worker: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
