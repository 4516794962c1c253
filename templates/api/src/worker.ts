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
  const [{ createPool }, { startWorker }, { Connection }, { ensureNightlyScheduleWithRetry }] = await Promise.all([
    import('./db/client.js'),
    import('./temporal/worker-factory.js'),
    import('@temporalio/client'),
    import('./temporal/schedule.js'),
  ]);

  let worker: Awaited<ReturnType<typeof startWorker>>['worker'] | undefined;
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
    // Not RUNNING yet (still connecting): the abort ends that wait, and main() checks it before run().
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  const pool = createPool({
    url: config.DATABASE_URL,
    max: config.PG_POOL_MAX,
    timeoutMs: config.DEPENDENCY_TIMEOUT_MS,
    // Activities are retried by Temporal and answer no HTTP client: the old, longer bound.
    statementTimeoutMs: Math.max(config.DEPENDENCY_TIMEOUT_MS * 4, 10_000),
    applicationName: 'helfy-worker',
  });
  let started: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    const bundle = fileURLToPath(new URL('./workflow-bundle.js', import.meta.url));
    // HELFY_WORKFLOWS_PATH (dev, benchmarks): bundle that source at start instead of the prebuilt bundle.
    const workflows = process.env.HELFY_WORKFLOWS_PATH
      ? { workflowsPath: process.env.HELFY_WORKFLOWS_PATH }
      : existsSync(bundle)
        ? { bundlePath: bundle }
        : { workflowsPath: fileURLToPath(new URL('./temporal/workflows.ts', import.meta.url)) };
    started = await startWorker({
      address: config.TEMPORAL_ADDRESS,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      pool,
      workflows,
      signal: abort.signal,
      log,
    });
    worker = started.worker;
    if (abort.signal.aborted) throw new Error('stopped before start');
    // The Schedule is ensured beside the running worker, not before it: its client connects with
    // retry (a Temporal dropping now is waited for, not fatal), and a SIGTERM meanwhile finds the
    // worker RUNNING and drains it (there is no await between here and run()).
    const schedule = ensureNightlyScheduleWithRetry({
      connect: () => Connection.connect({ address: config.TEMPORAL_ADDRESS }),
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      cron: config.DAILY_SUMMARY_CRON,
      signal: abort.signal,
      onRetry: (attempt, delayMs, error) => log.warn('nightly schedule not ensured yet, retrying', { attempt, delayMs, error }),
    })
      .then((r) => log.info('nightly schedule ready', { result: r, cron: config.DAILY_SUMMARY_CRON }))
      .catch((e) => {
        if (!abort.signal.aborted) log.error('could not create the nightly schedule', { error: e instanceof Error ? e.message : String(e) });
      });
    log.info('worker running', { namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE, prebundled: 'bundlePath' in workflows });
    const run = worker.run();
    // A signal that came while run() was starting: shut down now rather than wait for the force exit.
    if (abort.signal.aborted && worker.getState() === 'RUNNING') worker.shutdown();
    await run;
    await schedule;
    log.info('worker stopped');
  } catch (e) {
    if (!stopping) {
      log.error('worker failed', { error: e instanceof Error ? e.message : String(e) });
      process.exitCode = 1;
    }
  } finally {
    await Promise.allSettled([pool.end(), started?.connection.close()]);
    health.close();
    health.closeAllConnections();
    process.exit(process.exitCode ?? 0);
  }
}

main().catch((e) => {
  process.stderr.write(`helfy-worker: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
