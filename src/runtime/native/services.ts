/**
 * The native runtime's service definitions: each catalog service (temporal-ui aside) as a
 * ProcessSpec the supervisor runs, what must be written before it starts (`prepare`), its ready
 * check from the host and the host ports it binds. The Docker definitions (src/stack/services)
 * stay the contract: same databases, roles, passwords, env of the apps, schema script; the
 * command lines and config files are built by the pure builders exported here, which the test
 * suite's real servers (tests/support/services) use too, so both run the servers ONE way.
 *
 *   const svc = await nativeService('postgres', nctx);   // reads only (fine while it runs)
 *   await svc.prepare();                                 // initdb / config files / ports
 *   await supervisor.start(svc.spec);
 *   await svc.health(2000);
 */
import type { NativeServiceName } from './types.js';
import { appService } from './services/apps.js';
import type { NativeContext, NativeService } from './services/common.js';
import { neo4jService } from './services/neo4j.js';
import { postgresService } from './services/postgres.js';
import { temporalSchemaService, temporalService } from './services/temporal.js';

export type { NativeContext, NativeLocator, NativeService } from './services/common.js';
export { appBuildMissing, ensureAppBuilt, nativeAppEnvironment, BUILD_STAMP } from './services/apps.js';
export { initdbArgs, postgresServerArgs, postgresDataDir, PG_HBA, timescalePackage, type InitdbOptions, type PostgresServerOptions } from './services/postgres.js';
export { neo4jConf, neo4jConfSettings, neo4jInitialAuthIni, neo4jJvmArgs, NEO4J_DIRS, NEO4J_JVM_FLAGS, type Neo4jConfOptions, type Neo4jJvmOptions } from './services/neo4j.js';
export { schemaScript, temporalConfigYaml, temporalServerArgs, TEMPORAL_INTERNAL_PORTS, type TemporalConfigOptions, type TemporalInternalPorts } from './services/temporal.js';

/** The spec, preparation, health check and ports of one native service. */
export async function nativeService(name: NativeServiceName, nctx: NativeContext): Promise<NativeService> {
  switch (name) {
    case 'postgres':
      return postgresService(nctx);
    case 'neo4j':
      return neo4jService(nctx);
    case 'temporal-schema':
      return temporalSchemaService(nctx);
    case 'temporal':
      return temporalService(nctx);
    case 'api':
    case 'worker':
    case 'web':
      return appService(name, nctx);
  }
}
