/** Types of the service catalog: what helfy knows about each service of the stack. */
import type { HelfyConfig } from '../config/load.js';
import type { SettingEnv } from '../config/settings.js';

export type ServiceName = 'postgres' | 'neo4j' | 'temporal-schema' | 'temporal' | 'temporal-ui' | 'api' | 'web';

/** How a dependency must be satisfied before a dependent starts (compose `depends_on` conditions). */
export type DependencyCondition = 'healthy' | 'started' | 'completed';

/**
 * How helfy decides that a service is ready:
 *  - `docker-health`: the container's Docker healthcheck reports healthy;
 *  - `probe`: the container runs and helfy's own live probe from the host succeeds (used when the
 *    production image ships no tool able to check what "healthy" means, e.g. Temporal's gRPC health);
 *  - `completed`: a one-shot job that must exit 0.
 */
export type Readiness = 'docker-health' | 'probe' | 'completed';

/** Which live probe `helfy status` (and `probe` readiness) runs against the published port. */
export type ProbeKind = 'postgres' | 'neo4j' | 'temporal' | 'http';

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
  /** Read-only bind mounts of files shipped in compose/ (source relative to the compose file). */
  configMounts?: { source: `./${string}`; target: string }[];
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
