/**
 * The client's address: the socket peer, or — when the peer is a trusted proxy (TRUST_PROXY) —
 * the rightmost X-Forwarded-For entry (the address the last proxy saw; entries to its left can be
 * written by the client).
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { BlockList, isIP } from 'node:net';

export function trustList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const [addr, bits] = e.split('/') as [string, string | undefined];
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

const norm = (a: string) => (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a);

export function clientAddress(c: Context, trusted: BlockList | undefined): string | null {
  let peer: string | null = null;
  try {
    const a = getConnInfo(c).remote.address;
    peer = a && isIP(norm(a)) ? norm(a) : null;
  } catch {
    peer = null; // app.request() in tests: no socket
  }
  if (peer && trusted && trusted.check(peer, isIP(peer) === 6 ? 'ipv6' : 'ipv4')) {
    const hops = c.req.header('X-Forwarded-For')?.split(',').map((s) => norm(s.trim())).filter((s) => isIP(s));
    const last = hops?.[hops.length - 1];
    if (last) return last;
  }
  return peer;
}
