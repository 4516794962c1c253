/**
 * What `helfy smoke` does to the stores directly (only src/db talks to the drivers): a rolled-back
 * round trip as the API's role, and the removal of the throwaway user and its workflow.
 */
import type { HelfyConfig } from '../config/load.js';

/** As helfy_api on helfy_app: insert a user row, read it back, roll back. Returns what was read. */
/** Loads the drivers the smoke cleanup needs ahead of time (the Temporal client takes ~0.5 s of CPU to load). */
export async function warmUp(): Promise<void> {
  await import('@temporalio/client');
}

export async function apiRoleRoundTrip(cfg: HelfyConfig, email: string, timeoutMs: number): Promise<{ id: string; email: string }> {
  const { connect, pgConnectionFor } = await import('./postgres/connection.js');
  const c = await connect({ ...pgConnectionFor(cfg, 'api'), connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs, query_timeout: timeoutMs, application_name: 'helfy smoke' });
  try {
    await c.query('BEGIN');
    try {
      const ins = await c.query<{ id: string }>(`INSERT INTO users (email, display_name) VALUES ($1, 'helfy smoke round trip') RETURNING id`, [email]);
      const back = await c.query<{ id: string; email: string }>('SELECT id, email FROM users WHERE id = $1', [ins.rows[0]!.id]);
      if (back.rows[0]?.email !== email) throw new Error(`read back ${JSON.stringify(back.rows[0] ?? null)} instead of the row just written`);
      return back.rows[0];
    } finally {
      await c.query('ROLLBACK');
    }
  } finally {
    await c.end().catch(() => {});
  }
}

export interface RemovedUser {
  users: number;
  auditRows: number;
}

/**
 * Removes every user with this email and everything that refers to it, in one transaction as
 * the owner role: the user rows cascade to refresh_tokens, biometrics, workouts, nutrition,
 * daily_summaries and demo_seeds; audit_log (ON DELETE SET NULL) is deleted explicitly, including
 * log-in attempts recorded by email before the account was known.
 */
export async function removeUserByEmail(cfg: HelfyConfig, email: string, timeoutMs = 15_000): Promise<RemovedUser> {
  const { connect, pgConnectionFor } = await import('./postgres/connection.js');
  const c = await connect({ ...pgConnectionFor(cfg, 'owner'), connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs, query_timeout: timeoutMs, application_name: 'helfy smoke cleanup' });
  try {
    await c.query('BEGIN');
    try {
      const audit = await c.query(`DELETE FROM audit_log WHERE user_id IN (SELECT id FROM users WHERE email = $1) OR metadata->>'email' = $1`, [email]);
      const users = await c.query('DELETE FROM users WHERE email = $1', [email]);
      await c.query('COMMIT');
      return { users: users.rowCount ?? 0, auditRows: audit.rowCount ?? 0 };
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    }
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * Deletes a workflow execution (terminating it first when it still runs) and its history from
 * Temporal. Returns false when there was none. Visibility records go with it (asynchronously).
 */
export async function deleteWorkflowExecution(cfg: HelfyConfig, workflowId: string, timeoutMs = 10_000): Promise<boolean> {
  const [{ Connection, isGrpcServiceError }, { temporalAddress }] = await Promise.all([import('@temporalio/client'), import('./temporal/namespace.js')]);
  const conn = await Connection.connect({ address: temporalAddress(cfg.temporal), connectTimeout: timeoutMs });
  try {
    await conn.withDeadline(Date.now() + timeoutMs, () => conn.workflowService.deleteWorkflowExecution({ namespace: cfg.temporal.namespace, workflowExecution: { workflowId } }));
    return true;
  } catch (e) {
    // 5 = NOT_FOUND: nothing was started (or it is already gone).
    if (isGrpcServiceError(e) && e.code === 5) return false;
    throw e;
  } finally {
    await conn.close().catch(() => {});
  }
}
