/** Builds the Temporal worker: prebundled workflows (production) or bundling at start (dev/tests). */
import { NativeConnection, Worker } from '@temporalio/worker';
import type pg from 'pg';
import { createActivities } from './activities.js';

export type WorkflowSource = { bundlePath: string } | { workflowsPath: string };

export async function createWorker(o: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: pg.Pool;
  workflows: WorkflowSource;
  shutdownGraceTime?: string | number;
}): Promise<Worker> {
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    activities: createActivities({ pool: o.pool }),
    ...('bundlePath' in o.workflows ? { workflowBundle: { codePath: o.workflows.bundlePath } } : { workflowsPath: o.workflows.workflowsPath }),
    shutdownGraceTime: o.shutdownGraceTime ?? '5s',
  });
}

export interface RetryOptions {
  signal?: AbortSignal;
  onRetry?: (attempt: number, delayMs: number, error: string) => void;
  maxDelayMs?: number;
}

/**
 * Runs connect until it succeeds, with exponential backoff (0.5 s doubling, capped) while the
 * server starts or comes back. An abort (SIGTERM) ends the wait at once and rejects.
 */
export async function retryConnect<T>(connect: () => Promise<T>, o: RetryOptions = {}): Promise<T> {
  let delay = 500;
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw new Error('aborted while connecting to Temporal');
    try {
      return await connect();
    } catch (e) {
      if (o.signal?.aborted) throw e;
      o.onRetry?.(attempt, delay, e instanceof Error ? e.message.split('\n')[0]! : String(e));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        o.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      if (o.signal?.aborted) throw new Error('aborted while connecting to Temporal');
      delay = Math.min(delay * 2, o.maxDelayMs ?? 10_000);
    }
  }
}

/** Connects to Temporal (the worker's native connection), retrying while it starts. */
export async function connectWithRetry(address: string, o: RetryOptions = {}): Promise<NativeConnection> {
  return retryConnect(() => NativeConnection.connect({ address }), o);
}

interface StartLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Connects (with retry), waits until the namespace answers (`helfy up` may still be registering
 * it), then creates the worker. A Worker.create that fails after the native side registered its
 * task-queue slot leaves that slot on the connection (the next create on it fails with
 * "overlapping worker task types"), so after a failed create the connection is closed and the
 * next attempt starts from a fresh one. Retries until it succeeds or `signal` aborts.
 * `checkNamespace: false` skips the namespace wait (tests use it to reach the failed-create path).
 */
export async function startWorker(o: {
  address: string;
  namespace: string;
  taskQueue: string;
  pool: pg.Pool;
  workflows: WorkflowSource;
  signal?: AbortSignal;
  log?: StartLog;
  checkNamespace?: boolean;
}): Promise<{ worker: Worker; connection: NativeConnection; attempts: number }> {
  const connect = () =>
    connectWithRetry(o.address, {
      signal: o.signal,
      onRetry: (attempt, delayMs, error) => o.log?.warn('temporal not reachable yet', { attempt, retryInMs: delayMs, error }),
    });
  let connection = await connect();
  for (let attempt = 1; ; attempt++) {
    let creating = false;
    try {
      if (o.checkNamespace !== false) {
        await connection.withDeadline(Date.now() + 5000, () => connection.workflowService.describeNamespace({ namespace: o.namespace }));
      }
      creating = true;
      const worker = await createWorker({ connection, namespace: o.namespace, taskQueue: o.taskQueue, pool: o.pool, workflows: o.workflows });
      return { worker, connection, attempts: attempt };
    } catch (e) {
      if (o.signal?.aborted) {
        await connection.close().catch(() => {});
        throw e;
      }
      const error = e instanceof Error ? e.message.split('\n')[0] : String(e);
      o.log?.warn(creating ? 'worker not created yet' : 'namespace not available yet', { attempt, namespace: o.namespace, error });
      await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 3000)));
      if (creating) {
        await connection.close().catch(() => {});
        connection = await connect();
      }
    }
  }
}
