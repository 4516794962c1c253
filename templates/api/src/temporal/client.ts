/** The API's Temporal client: a lazy connection (the API starts even while Temporal is still starting). */
import { Client, Connection } from '@temporalio/client';

export interface TemporalDeps {
  connection: Connection;
  client: Client;
  namespace: string;
  taskQueue: string;
}

export function createTemporal(o: { address: string; namespace: string; taskQueue: string; timeoutMs?: number }): TemporalDeps {
  const connection = Connection.lazy({ address: o.address, connectTimeout: o.timeoutMs ?? 3000 });
  const client = new Client({ connection, namespace: o.namespace });
  return { connection, client, namespace: o.namespace, taskQueue: o.taskQueue };
}

export const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';

/** gRPC health of the workflow service, with a deadline. */
export async function temporalHealthy(t: TemporalDeps, timeoutMs: number): Promise<void> {
  const res = await t.connection.withDeadline(Date.now() + timeoutMs, () =>
    t.connection.healthService.check({ service: WORKFLOW_SERVICE }),
  );
  if (res.status !== 1) throw new Error(`health status ${res.status} (not SERVING)`);
}
