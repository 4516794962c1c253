/** The API's Temporal client: a lazy connection (the API starts even while Temporal is still starting). */
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';

export interface TemporalDeps {
  connection: Connection;
  client: Client;
  namespace: string;
  taskQueue: string;
  /** Ends new retries and waits (bounded) for the ones already scheduled, then closes the connection. */
  close(): Promise<void>;
}

/** The longest back-off the SDK's retry interceptor waits between two attempts (its maxIntervalMs). */
const MAX_RETRY_DELAY_MS = 5_000;

/**
 * The SDK's own retry interceptor, with a count of the retries it has scheduled and not yet made.
 * Why: a failed call (UNAVAILABLE while Temporal is down) is retried from a timer, and a timer that
 * fires after connection.close() throws "Channel has been shut down" as an uncaught exception — a
 * readiness probe that timed out just before a SIGTERM would crash the shutdown. So close() first
 * stops new retries, then waits for the pending ones to run (they end at once: no retry is allowed).
 */
function countedRetries() {
  const base = defaultGrpcRetryOptions();
  let pending = 0;
  let closing = false;
  const interceptor = makeGrpcRetryInterceptor({
    delayFunction: base.delayFunction,
    retryableDecider(attempt, status) {
      if (attempt > 1) pending--; // the status of a retry this decider scheduled
      const again = !closing && base.retryableDecider(attempt, status);
      if (again) pending++;
      return again;
    },
  });
  async function drain(): Promise<void> {
    closing = true;
    const until = Date.now() + MAX_RETRY_DELAY_MS + 1_000;
    while (pending > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }
  return { interceptor, drain };
}

export function createTemporal(o: { address: string; namespace: string; taskQueue: string; timeoutMs?: number }): TemporalDeps {
  const retries = countedRetries();
  const connection = Connection.lazy({ address: o.address, connectTimeout: o.timeoutMs ?? 3000, interceptors: [retries.interceptor] });
  const client = new Client({ connection, namespace: o.namespace });
  return {
    connection,
    client,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    async close() {
      await retries.drain();
      await connection.close();
    },
  };
}

export const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';

/** gRPC health of the workflow service, with a deadline. */
export async function temporalHealthy(t: Pick<TemporalDeps, 'connection'>, timeoutMs: number): Promise<void> {
  const res = await t.connection.withDeadline(Date.now() + timeoutMs, () =>
    t.connection.healthService.check({ service: WORKFLOW_SERVICE }),
  );
  if (res.status !== 1) throw new Error(`health status ${res.status} (not SERVING)`);
}
