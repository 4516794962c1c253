/** The `temporal` checks of `helfy smoke`: the namespace, and the dailySummary workflow run through the API. */
import type { HelfyConfig } from '../config/load.js';
import { apiCall, expectStatus, sleep } from './http.js';
import type { CheckDef } from './scheduler.js';
import type { SmokeTrace, SmokeUser } from './types.js';

/** How often a running workflow is asked again. */
export const WORKFLOW_POLL_MS = 200;

/** What `temporalStatus` says: the server version and the namespace (null when not registered). */
export function namespaceVerdict(st: { serverVersion: string; namespace: { state?: string } | null }, namespace: string): string {
  if (!st.namespace) throw new Error(`namespace ${namespace} not found (run \`helfy db bootstrap\`)`);
  return `Temporal ${st.serverVersion}; namespace ${namespace} (${st.namespace.state ?? 'registered'})`;
}

export interface WorkflowRunView {
  status: string;
  result: { weightKg: number | null } | null;
  failure: string | null;
}

/** One answer of GET /api/summaries/daily/runs/{id}: done (the summary), undefined while RUNNING, else an Error. */
export function workflowRunVerdict(run: WorkflowRunView, workflowId: string, weightKg: number): string | undefined {
  if (run.status === 'COMPLETED') {
    if (run.result?.weightKg !== weightKg) throw new Error(`workflow completed with weightKg ${run.result?.weightKg}; expected ${weightKg}`);
    return `${workflowId} completed (weight ${weightKg} kg summarised)`;
  }
  if (run.status !== 'RUNNING') throw new Error(`workflow ${run.status}: ${run.failure ?? ''}`);
  return undefined;
}

/** Starts the user's daily summary (its workflow id goes to the trace) and polls it until it ends. */
export async function runDailySummary(apiBase: string, token: string, user: Pick<SmokeUser, 'day' | 'weightKg'>, trace: SmokeTrace, signal: AbortSignal): Promise<string> {
  const s = await apiCall<{ workflowId: string }>(apiBase, '/api/summaries/daily', { token, body: { day: user.day }, signal, trace });
  expectStatus(s, 202, 'POST /api/summaries/daily');
  trace.workflowIds.add(s.body.workflowId);
  for (;;) {
    const r = await apiCall<WorkflowRunView>(apiBase, `/api/summaries/daily/runs/${encodeURIComponent(s.body.workflowId)}`, { token, signal });
    expectStatus(r, 200, 'GET /api/summaries/daily/runs/{id}');
    const done = workflowRunVerdict(r.body, s.body.workflowId, user.weightKg);
    if (done !== undefined) return done;
    await sleep(WORKFLOW_POLL_MS, signal);
  }
}

export function temporalNamespaceCheck(temporal: HelfyConfig['temporal'], timeoutMs: number): CheckDef {
  return {
    id: 'temporal.namespace', group: 'temporal', name: `namespace ${temporal.namespace} exists`, timeoutMs, service: 'temporal',
    async run() {
      const { temporalStatus, temporalAddress } = await import('../db/temporal/namespace.js');
      const st = await temporalStatus({ address: temporalAddress(temporal), namespace: temporal.namespace, timeoutMs });
      return namespaceVerdict(st, temporal.namespace);
    },
  };
}

/** Needs api.biometrics (its token, and a weight point for the summary to find). */
export function temporalWorkflowCheck(apiBase: string, user: SmokeUser, trace: SmokeTrace, timeoutMs: number): CheckDef {
  return {
    id: 'temporal.workflow', group: 'temporal', name: 'the dailySummary workflow runs on the worker and completes', timeoutMs, service: 'worker', needs: ['api.biometrics'],
    async run({ signal, results }) {
      const { token } = results.get('api.biometrics') as { token: string };
      return runDailySummary(apiBase, token, user, trace, signal);
    },
  };
}
