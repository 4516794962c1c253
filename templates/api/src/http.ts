/** Serves a fetch handler over node:http (the API entry and tests over a real socket use this). */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';

export async function listen(fetch: (req: Request, env?: unknown) => Response | Promise<Response>, port: number, hostname: string): Promise<{ server: Server; port: number }> {
  const server = serve({ fetch, port, hostname }) as Server;
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return { server, port: (server.address() as AddressInfo).port };
}
