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
