/**
 * The client's address: the socket peer, or — when the peer is a trusted proxy (TRUST_PROXY) —
 * the rightmost X-Forwarded-For entry (the address the last proxy saw; entries to its left can be
 * written by the client).
 *
 * A trusted address alone is not always proof enough: on one machine (helfy's native runtime)
 * the web server reaches the API from 127.0.0.1, like every other local program. With
 * PROXY_SECRET set, the peer must also send that secret in X-Proxy-Secret (compared in constant
 * time); without it, or with a wrong one, X-Forwarded-For is ignored and the peer's own address
 * counts (for the per-address log-in limit, among others).
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

export const PROXY_SECRET_HEADER = 'X-Proxy-Secret';

export interface TrustedProxies {
  peers: BlockList;
  /** SHA-256 of PROXY_SECRET (equal lengths for timingSafeEqual), when one is required. */
  secretDigest: Buffer | undefined;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** TRUST_PROXY's entries (and the secret config.ts attaches to them, if any). */
export function trustList(entries: readonly string[] & { readonly secret?: string }, secret = entries.secret): TrustedProxies {
  const peers = new BlockList();
  for (const e of entries) {
    const [addr, bits] = e.split('/') as [string, string | undefined];
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) peers.addAddress(addr, type);
    else peers.addSubnet(addr, Number(bits), type);
  }
  return { peers, secretDigest: secret ? digest(secret) : undefined };
}

/** Whether the request carries the proxy secret (always true when none is required). */
function provesProxy(c: Context, secretDigest: Buffer | undefined): boolean {
  if (!secretDigest) return true;
  const given = c.req.header(PROXY_SECRET_HEADER);
  return given !== undefined && timingSafeEqual(digest(given), secretDigest);
}

const norm = (a: string) => (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a);

export function clientAddress(c: Context, trusted: TrustedProxies | undefined): string | null {
  let peer: string | null = null;
  try {
    const a = getConnInfo(c).remote.address;
    peer = a && isIP(norm(a)) ? norm(a) : null;
  } catch {
    peer = null; // app.request() in tests: no socket
  }
  if (peer && trusted && trusted.peers.check(peer, isIP(peer) === 6 ? 'ipv6' : 'ipv4') && provesProxy(c, trusted.secretDigest)) {
    const hops = c.req.header('X-Forwarded-For')?.split(',').map((s) => norm(s.trim())).filter((s) => isIP(s));
    const last = hops?.[hops.length - 1];
    if (last) return last;
  }
  return peer;
}
