/** The HTTP side of `helfy smoke`'s API checks: one JSON request, the expected status, a pause. */
import type { SmokeTrace } from './types.js';

export interface ApiInit {
  method?: string;
  token?: string;
  body?: unknown;
  signal: AbortSignal;
  /** Marked as cut off when the signal aborts (the server may still finish the request). */
  trace?: SmokeTrace;
}

export interface ApiResponse<T> {
  status: number;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: T;
}

/** One request to the API: JSON body (POST unless a method is given), bearer token, no redirects followed. */
export async function apiCall<T = any>(base: string, path: string, init: ApiInit): Promise<ApiResponse<T>> {
  if (init.trace) init.signal.addEventListener('abort', () => (init.trace!.cutOff = true), { once: true });
  const res = await fetch(base + path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), 'user-agent': 'helfy-smoke' },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    signal: init.signal,
    redirect: 'manual',
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: body as T };
}

/** What an error answer says: its `error.message`, else the first 200 characters of the body. */
export function errorText(body: unknown): string {
  return (body as { error?: { message?: string } } | undefined)?.error?.message ?? (typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body).slice(0, 200));
}

/** Throws `<what>: HTTP <status> (expected <want>): <error text>` unless the status is `want`. */
export function expectStatus(r: { status: number; body: unknown }, want: number, what: string): void {
  if (r.status === want) return;
  throw new Error(`${what}: HTTP ${r.status} (expected ${want}): ${errorText(r.body)}`);
}

/** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });
