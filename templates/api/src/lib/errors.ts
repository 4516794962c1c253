/** Errors a route throws on purpose: app.onError turns them into `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 503,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A dependency (PostgreSQL, Neo4j, Temporal) did not answer in time or refused: 503. */
export class DependencyError extends ApiError {
  constructor(readonly dependency: 'postgres' | 'neo4j' | 'temporal', message: string) {
    super(503, 'DEPENDENCY_UNAVAILABLE', `${dependency} is unavailable: ${message}`);
    this.name = 'DependencyError';
  }
}

/** Rejects after ms with a DependencyError; the underlying promise is left to settle on its own. */
export async function withTimeout<T>(dep: DependencyError['dependency'], ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DependencyError(dep, `no answer within ${ms} ms`)), ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

export function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The dependency an error comes from when it means "unavailable or too slow", not bad input or a
 * bug: answered with 503. Neo4j: no connection, a transaction the server timed out (the library's
 * transaction timeout, e.g. a query slowed by a loaded machine) and transient errors the driver's
 * retries did not overcome. PostgreSQL: no connection, a statement cancelled by statement_timeout
 * (57014: 2 × DEPENDENCY_TIMEOUT_MS, a slow query or a lock wait), a server shutting down or full.
 */
export function dependencyOf(err: unknown): DependencyError['dependency'] | undefined {
  const e = err as { code?: string; message?: string; name?: string };
  const msg = e?.message ?? '';
  const code = e?.code ?? '';
  if (e?.name === 'Neo4jError') {
    if (code === 'ServiceUnavailable' || code === 'SessionExpired' || /acquisition timed out|Connection was closed|Failed to connect/i.test(msg)) return 'neo4j';
    if (code.startsWith('Neo.ClientError.Transaction.TransactionTimedOut') || code.startsWith('Neo.TransientError.')) return 'neo4j';
  }
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', '57014', '57P01', '57P03', '53300', '08006', '08001'].includes(code)) return 'postgres';
  if (/timeout exceeded when trying to connect|Connection terminated|Query read timeout|connect ECONNREFUSED/i.test(msg)) return 'postgres';
  return undefined;
}
