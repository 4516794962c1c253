/** The client's address: the socket peer, or the first X-Forwarded-For hop when TRUST_PROXY is set. */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { isIP } from 'node:net';

export function clientAddress(c: Context, trustProxy: boolean): string | null {
  if (trustProxy) {
    const xff = c.req.header('X-Forwarded-For')?.split(',')[0]?.trim();
    if (xff && isIP(xff)) return xff;
  }
  try {
    const a = getConnInfo(c).remote.address;
    if (!a) return null;
    const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
    return isIP(v4) ? v4 : null;
  } catch {
    return null; // app.request() in tests: no socket
  }
}
