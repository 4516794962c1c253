// Real servers for the test suite (no mocks). Each startX() installs what it
// needs via infra/services/<svc>/install.sh (cached under
// ${HELFY_CACHE_DIR:-~/.cache/helfy}), starts the server on free 127.0.0.1
// ports in a temp dir, waits until it really answers, and returns connection
// info plus an async stop() that kills it and removes the temp dir.
//
// Safety net: every server is spawned via `setpriv --pdeathsig KILL` and is
// also SIGKILLed from a process 'exit'/SIGINT/SIGTERM handler, so none outlives
// the test process.
export { startPostgres, type PostgresServer, type StartPostgresOptions } from './postgres.js';
export { startNeo4j, type Neo4jServer, type StartNeo4jOptions } from './neo4j.js';
export { startTemporal, type TemporalServer, type StartTemporalOptions } from './temporal.js';
export {
  freePort,
  freePorts,
  freePortsInRange,
  isPortOpen,
  installSafetyNet,
  killAllServers,
  runningServerCount,
  runInstall,
  REPO_ROOT,
  INFRA_DIR,
} from './util.js';
