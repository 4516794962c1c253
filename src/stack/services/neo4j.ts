/**
 * Neo4j 5 community. NEO4J_AUTH sets the password of the `neo4j` user on first start (it is
 * stored in /data, so changing it later needs `helfy down --volumes`). The healthcheck uses
 * `wget -q --spider`: a plain `wget` would save index.html at every probe and fill the disk.
 * The JVM takes a while to start (longer on small machines), hence the generous start period.
 */
import type { ServiceDef } from '../types.js';
import { secret } from './vars.js';

export const neo4j: ServiceDef = {
  name: 'neo4j',
  summary: 'Neo4j 5.26 community (graph store)',
  kind: 'daemon',
  imageSetting: 'HELFY_NEO4J_IMAGE',
  stage: 1,
  dependsOn: {},
  ports: [
    { config: 'neo4jHttp', setting: 'HELFY_NEO4J_HTTP_PORT', container: 7474, scheme: 'http', label: 'Neo4j Browser' },
    { config: 'neo4jBolt', setting: 'HELFY_NEO4J_BOLT_PORT', container: 7687, scheme: 'bolt', label: 'Neo4j Bolt' },
  ],
  volumes: [
    { name: 'neo4j-data', target: '/data', description: 'Neo4j databases' },
    { name: 'neo4j-logs', target: '/logs', description: 'Neo4j logs' },
  ],
  environment: {
    NEO4J_AUTH: `neo4j/${secret('HELFY_NEO4J_PASSWORD')}`,
    // Modest memory for a developer machine.
    NEO4J_server_memory_heap_initial__size: '256m',
    NEO4J_server_memory_heap_max__size: '512m',
    NEO4J_server_memory_pagecache_size: '128m',
  },
  healthcheck: {
    // -t 1 -T 3: one try with a 3 s timeout, so a probe fails fast instead of retrying (a container
    // without IPv6 loopback otherwise retries ::1 for minutes while Neo4j starts).
    test: ['CMD-SHELL', 'wget -q -t 1 -T 3 --spider http://localhost:7474 || exit 1'],
    intervalS: 3,
    timeoutS: 5,
    retries: 40,
    startPeriodS: 180,
  },
  readiness: 'docker-health',
  probe: 'neo4j',
  stopGracePeriodS: 30,
};
