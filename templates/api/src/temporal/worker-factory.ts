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

/** Connects to Temporal, retrying with exponential backoff (capped) while it starts. */
export async function connectWithRetry(
  address: string,
  o: { signal?: AbortSignal; onRetry?: (attempt: number, delayMs: number, error: string) => void; maxDelayMs?: number } = {},
): Promise<NativeConnection> {
  let delay = 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await NativeConnection.connect({ address });
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
