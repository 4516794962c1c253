/** Prometheus metrics (prom-client), one registry per app instance so tests stay independent. */
import client from 'prom-client';

export interface Metrics {
  registry: client.Registry;
  httpRequests: client.Counter<'method' | 'route' | 'status'>;
  httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  workflowStarts: client.Counter<'workflow'>;
  /** Adds pool gauges that are read at scrape time. */
  addCollector(name: string, help: string, labelNames: string[], collect: () => Promise<[Record<string, string>, number][]> | [Record<string, string>, number][]): void;
}

export function createMetrics(defaultMetrics = true): Metrics {
  const registry = new client.Registry();
  if (defaultMetrics) client.collectDefaultMetrics({ register: registry, prefix: 'helfy_api_' });
  const httpRequests = new client.Counter({
    name: 'helfy_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new client.Histogram({
    name: 'helfy_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const workflowStarts = new client.Counter({
    name: 'helfy_workflow_starts_total',
    help: 'Temporal workflows started by the API',
    labelNames: ['workflow'] as const,
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    workflowStarts,
    addCollector(name, help, labelNames, collect) {
      new client.Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          this.reset();
          for (const [labels, v] of await collect()) this.set(labels, v);
        },
      });
    },
  };
}
