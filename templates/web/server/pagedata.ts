/** Helpers for the +data hooks: the session's token, and what an API failure means for a page. */
import { redirect } from 'vike/abort';
import { ApiResponseError, ApiUnavailableError } from './api.js';
import { sessionOf } from './context.js';

/** The access token of this request, or a redirect to the log-in page. */
export function tokenOrLogin(pageContext: { urlPathname: string } & object): string {
  const s = sessionOf(pageContext);
  if (!s) throw redirect(`/login?next=${encodeURIComponent(pageContext.urlPathname)}`);
  return s.accessToken;
}

/**
 * Runs the page's API calls. A refused token (401: forged, expired, revoked) sends the browser to
 * log in; an unreachable API gives `{ apiDown }` so the page can say so (and still render).
 */
export async function withApi<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; apiDown: string }> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (e instanceof ApiResponseError && e.status === 401) throw redirect('/login?expired=1');
    if (e instanceof ApiUnavailableError) return { ok: false, apiDown: e.message + '.' };
    if (e instanceof ApiResponseError && e.status >= 500) return { ok: false, apiDown: `the API answered ${e.status} (${e.message}).` };
    throw e;
  }
}
