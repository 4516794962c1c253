/**
 * Host port checks: is a port free on the bind address, and if not, who holds it — a container
 * of this project, another container, or a local process (found through /proc on Linux).
 */
import { createServer } from 'node:net';
import { readFile, readdir, readlink } from 'node:fs/promises';
import type { PortHolder } from '../stack/runtime.js';

export { describeHolder, type PortHolder } from '../stack/runtime.js';

/** True when `host:port` can be bound right now. */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Socket inodes listening on `port`, from /proc/net/tcp and tcp6. */
async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const local = cols[1]!;
      const state = cols[3];
      if (state === '0A' && local.endsWith(`:${hexPort}`)) inodes.add(cols[9]!);
    }
  }
  return inodes;
}

/** The local process listening on `port`, when /proc lets us see it. */
export async function findProcessOnPort(port: number): Promise<{ pid: number; command: string } | undefined> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = await readlink(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m && inodes.has(m[1]!)) {
          const command = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
          return { pid: Number(pid), command };
        }
      } catch {
        /* fd closed meanwhile */
      }
    }
  }
  return undefined;
}

export interface PublishedPort {
  container: string;
  project?: string;
  service?: string;
  publicPort: number;
}

/**
 * Who holds `port`: containers publishing it first (their docker-proxy process would otherwise
 * be reported), then a local process.
 */
export async function findPortHolder(port: number, projectName: string, published: PublishedPort[]): Promise<PortHolder> {
  const c = published.find((p) => p.publicPort === port);
  if (c) {
    return c.project === projectName
      ? { kind: 'project-container', container: c.container, service: c.service }
      : { kind: 'container', container: c.container, project: c.project };
  }
  const proc = await findProcessOnPort(port);
  return proc ? { kind: 'process', ...proc } : { kind: 'unknown' };
}
