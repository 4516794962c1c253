/** Types of the service catalog: what helfy knows about each service of the stack. */
import type { HelfyConfig } from '../config/load.js';
import type { SettingEnv } from '../config/settings.js';

export type ServiceName = 'postgres' | 'neo4j' | 'temporal-schema' | 'temporal' | 'temporal-ui' | 'api' | 'worker' | 'web';

/**
 * How a dependency must be satisfied before a dependent starts (compose `depends_on` conditions):
 *  - `healthy`, `started`, `completed`: compose's service_healthy / _started / _completed_successfully;
 *  - `serving`: the dependent needs it answering at run time, but compose cannot wait for that
 *    (Temporal has no Docker healthcheck: its image ships no gRPC client) or should not (the API
 *    can start while Neo4j's JVM boots). Compose only orders the start (service_started); the
 *    dependent connects with retry, and its readiness (the API's /health/ready, the worker's
 *    /health) is only reached once the dependency serves — which is what `helfy up` waits for.
 */
export type DependencyCondition = 'healthy' | 'started' | 'completed' | 'serving';

/**
 * How helfy decides that a service is ready:
 *  - `docker-health`: the container's Docker healthcheck reports healthy;
 *  - `probe`: the container runs and helfy's own live probe from the host succeeds (used when the
 *    production image ships no tool able to check what "healthy" means, e.g. Temporal's gRPC health);
 *  - `completed`: a one-shot job that must exit 0.
 */
export type Readiness = 'docker-health' | 'probe' | 'completed';

/**
 * Which live probe `helfy status` (and `probe` readiness) runs against the published port:
 * `http` GETs `/` (any 2xx/3xx), `health` GETs `/health` (`{status: "ok", service, version}`),
 * `ready` GETs `/health/ready` (200 only when every dependency answers; 503 names what is down).
 */
export type ProbeKind = 'postgres' | 'neo4j' | 'temporal' | 'http' | 'health' | 'ready';

export interface PublishedPortSpec {
  /** Key in HelfyConfig['ports'] and the setting that holds the host port. */
  config: keyof HelfyConfig['ports'];
  setting: SettingEnv;
  container: number;
  /** What is spoken there, for the URL table. */
  scheme: 'postgres' | 'http' | 'bolt' | 'grpc';
  /** Short label for the URL table (e.g. "Browser", "Bolt"). */
  label: string;
}

export interface VolumeSpec {
  /** Volume name inside the compose project (compose prefixes it with the project name). */
  name: string;
  target: string;
  description: string;
}

export interface HealthcheckSpec {
  test: string[];
  intervalS: number;
  timeoutS: number;
  retries: number;
  startPeriodS: number;
}

export interface ServiceDef {
  name: ServiceName;
  summary: string;
  /** `daemon` runs until stopped; `job` runs once and exits. */
  kind: 'daemon' | 'job';
  /** The setting naming the image (for built services: the base image build argument). */
  imageSetting: SettingEnv;
  /** For services built from templates/: the folder (relative to the repo root). */
  build?: { context: string; tagVar: string };
  /**
   * For services that run the image another service builds (the worker runs the api image with
   * its own entrypoint): that service. `up` builds it before starting either of them.
   */
  imageFrom?: ServiceName;
  /** Compose profile: the service starts only when asked for (e.g. `helfy up temporal-ui`). */
  profile?: string;
  /**
   * Start stage of `helfy up`: 1 = data stores (started first, then the database bootstrap runs),
   * 2 = everything that needs the bootstrap (roles, databases) to have happened.
   */
  stage: 1 | 2;
  dependsOn: Partial<Record<ServiceName, DependencyCondition>>;
  ports: PublishedPortSpec[];
  volumes: VolumeSpec[];
  /**
   * Read-only bind mounts of configuration folders shipped in compose/ (`source`, relative to the
   * compose file). helfy copies the folder into the workspace (`.helfy/<source>`) and sets `dirVar`
   * to that copy, so the engine never needs access to helfy's install folder (Docker Desktop for
   * Mac shares only a few host folders by default); plain compose falls back to `source`.
   */
  configMounts?: { source: `./${string}`; target: string; dirVar: `HELFY_${string}_DIR` }[];
  /** Environment of the container (compose interpolation syntax allowed). */
  environment: Record<string, string>;
  entrypoint?: string[];
  command?: string[];
  healthcheck?: HealthcheckSpec;
  readiness: Readiness;
  probe?: ProbeKind;
  /** Seconds compose waits after SIGTERM before SIGKILL. */
  stopGracePeriodS?: number;
  restart?: 'no' | 'unless-stopped' | 'on-failure';
}
