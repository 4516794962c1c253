/**
 * Where log-in may send the browser afterwards (`next`): a path on this site, else the fallback.
 *
 * "Starts with one `/`" is not enough: browsers read `\` as `/` (`/\evil.example` is
 * `//evil.example`, another host), drop tabs and newlines anywhere in a URL and spaces and
 * control characters at its ends, and a server or proxy further on may percent-decode
 * (`/%2f%2fevil.example`, `/%5cevil.example`). So `next` must
 *   - contain no backslash, whitespace or control character, raw or percent-decoded;
 *   - start with exactly one `/` (no scheme, no `//` host), also once decoded;
 *   - resolve, against a placeholder origin, to that same origin and a path that does not start
 *     with `//` (`/..//evil.example` would become one).
 * Anything else — `javascript:`, absolute URLs, malformed escapes — gives the fallback.
 */
const BASE = 'http://x.invalid';
const UNSAFE_CHAR = /[\\\s\x00-\x1f\x7f]/;
const MAX_LENGTH = 2048;

export function safeNext(next: string | undefined | null, fallback = '/dashboard'): string {
  if (typeof next !== 'string' || next === '' || next.length > MAX_LENGTH) return fallback;
  if (UNSAFE_CHAR.test(next) || !next.startsWith('/') || next.startsWith('//')) return fallback;
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return fallback;
  }
  if (/[\\\x00-\x1f\x7f]/.test(decoded) || decoded.startsWith('//')) return fallback;
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE || url.pathname.startsWith('//')) return fallback;
  return next;
}
