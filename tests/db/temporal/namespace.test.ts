// Temporal namespace bootstrap and status against a real Temporal server on a real PostgreSQL.
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/core/context.js';
import { HelfyError } from '../../../src/core/errors.js';
import { ensureNamespace, temporalAddress, temporalStatus } from '../../../src/db/temporal/namespace.js';
import { freePort, startPostgres, startTemporal, type PostgresServer, type TemporalServer } from '../../support/services/index.js';

let pg: PostgresServer | undefined;
let temporal: TemporalServer | undefined;
const lines: string[] = [];
const log: Logger = {
  info: (m) => lines.push(`info ${m}`), success: (m) => lines.push(`ok ${m}`), warn: (m) => lines.push(`warn ${m}`),
  error: (m) => lines.push(`error ${m}`), debug: () => {}, raw: () => {},
};

beforeAll(async () => {
  pg = await startPostgres();
  temporal = await startTemporal({ postgres: pg });
}, 600_000);

afterAll(async () => {
  await temporal?.stop();
  await pg?.stop();
}, 60_000);

async function rejection(p: Promise<unknown>): Promise<HelfyError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HelfyError) return e;
    throw e;
  }
  throw new Error('expected a HelfyError');
}

/** Describes through a separate connection, so nothing is read from ensureNamespace's own state. */
async function describeElsewhere(namespace: string): Promise<{ name: string; retentionSeconds: number; state: number }> {
  const conn = await Connection.connect({ address: temporal!.address });
  try {
    const res = await conn.withDeadline(Date.now() + 10_000, () => conn.workflowService.describeNamespace({ namespace }));
    return {
      name: res.namespaceInfo?.name ?? '',
      retentionSeconds: Number(String(res.config?.workflowExecutionRetentionTtl?.seconds ?? 0)),
      state: Number(res.namespaceInfo?.state ?? 0),
    };
  } finally {
    await conn.close();
  }
}

describe('ensureNamespace', () => {
  it('registers a missing namespace with the configured retention; a second call is a no-op', async () => {
    const first = await ensureNamespace({ address: temporal!.address, namespace: 'helfy', retentionHours: 72, log });
    expect(first).toEqual({ created: true, retentionHours: 72 });

    const seen = await describeElsewhere('helfy');
    expect(seen).toEqual({ name: 'helfy', retentionSeconds: 72 * 3600, state: 1 /* REGISTERED */ });

    const again = await ensureNamespace({ address: temporal!.address, namespace: 'helfy', retentionHours: 72, log });
    expect(again).toEqual({ created: false, retentionHours: 72 });
  });

  it('leaves an existing namespace alone and warns when the retention differs', async () => {
    await ensureNamespace({ address: temporal!.address, namespace: 'helfy-keep', retentionHours: 24, log });
    lines.length = 0;
    const res = await ensureNamespace({ address: temporal!.address, namespace: 'helfy-keep', retentionHours: 48, log });
    expect(res).toEqual({ created: false, retentionHours: 24 });
    expect(lines.some((l) => l.startsWith('warn') && l.includes('24h') && l.includes('48h'))).toBe(true);
    expect((await describeElsewhere('helfy-keep')).retentionSeconds).toBe(24 * 3600);
  });

  it('concurrent ensures: exactly one registers, all succeed', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => ensureNamespace({ address: temporal!.address, namespace: 'helfy-race', retentionHours: 36, log })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    for (const r of results) expect(r.retentionHours).toBe(36);
    expect((await describeElsewhere('helfy-race')).retentionSeconds).toBe(36 * 3600);
  });

  it('an unreachable server is CONNECTION_FAILED with a hint', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await rejection(ensureNamespace({ address: `127.0.0.1:${port}`, namespace: 'helfy', retentionHours: 72, timeoutMs: 2_000 }));
    expect(err.code).toBe('CONNECTION_FAILED');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.hint).toMatch(/helfy status/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('temporalStatus', () => {
  it('reports SERVING, the server version and the namespace retention', async () => {
    await ensureNamespace({ address: temporal!.address, namespace: 'helfy-status', retentionHours: 72, log });
    const st = await temporalStatus({ address: temporal!.address, namespace: 'helfy-status' });
    expect(st.health).toBe('SERVING');
    expect(st.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(st.capabilities).length).toBeGreaterThan(0);
    expect(st.namespace).toEqual({ name: 'helfy-status', state: 'REGISTERED', retentionHours: 72 });
  });

  it('a namespace that does not exist is reported as null', async () => {
    const st = await temporalStatus({ address: temporal!.address, namespace: 'no-such-namespace' });
    expect(st.health).toBe('SERVING');
    expect(st.namespace).toBeNull();
  });

  it('an unreachable server is CONNECTION_FAILED within the timeout', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await rejection(temporalStatus({ address: `127.0.0.1:${port}`, namespace: 'helfy', timeoutMs: 1_500 }));
    expect(err.code).toBe('CONNECTION_FAILED');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('temporalAddress formats host and port', () => {
    expect(temporalAddress({ host: '127.0.0.1', port: 7233 })).toBe('127.0.0.1:7233');
    expect(temporalAddress({ host: '::1', port: 7233 })).toBe('[::1]:7233');
  });
});
