/**
 * The ports of `helfy deploy`: what the deployment domain (src/deploy) needs from a Swarm engine
 * and from kubectl, with its own types. The adapters live in src/runtime (docker/swarm.ts,
 * process/kubectl.ts); the domain never starts a process or talks to Docker itself, so its
 * planning and waiting are tested with fakes.
 */

/** What a finished CLI run left: exit code and its output lines (stdout and stderr together). */
export interface CliRun {
  exitCode: number;
  output: string[];
}

export interface SwarmInfo {
  /** The engine's swarm state: inactive, pending, active, error, locked. */
  state: string;
  /** Whether this engine is a manager (only a manager deploys stacks). */
  manager: boolean;
  engineVersion: string;
  /** The engine's address as the CLI sees it (a socket path or host:port). */
  target: string;
}

export interface SwarmTask {
  id: string;
  /** running, complete, failed, rejected, shutdown, starting, preparing, pending, ... */
  state: string;
  desiredState: string;
  /** Why a task failed (Swarm's own message: "task: non-zero exit (1)", "No such image: ..."). */
  error?: string;
  exitCode?: number;
  containerId?: string;
  /** When the task last changed state (ms since the epoch). */
  updatedAt: number;
}

export interface SwarmService {
  /** The service's name without the stack prefix (`api`, `postgres-bootstrap`). */
  name: string;
  /** The full Swarm name (`<stack>_<name>`). */
  fullName: string;
  mode: 'replicated' | 'replicated-job' | 'global' | 'global-job';
  /** Replicas wanted (jobs: completions wanted). */
  desired: number;
  tasks: SwarmTask[];
}

/** Health of a task's container: its healthcheck's verdict, or `none` when the image has none. */
export type ContainerHealth = 'healthy' | 'unhealthy' | 'starting' | 'none' | 'gone';

/** What `docker stack rm` leaves to wait for, by kind (names). */
export interface StackLeftovers {
  services: string[];
  networks: string[];
  configs: string[];
  secrets: string[];
  /** Containers of the stack's tasks still present (removed asynchronously after the services). */
  containers: string[];
  volumes: string[];
}

export interface SwarmPort {
  info(): Promise<SwarmInfo>;
  /** Builds the app images as `helfy up` does (compose build); returns each app's image reference. */
  buildApps(onLine: (l: string) => void, signal?: AbortSignal): Promise<{ images: Record<string, string>; run: CliRun; durationMs: number }>;
  /** `docker tag`. */
  tag(source: string, target: string): Promise<void>;
  /** `docker stack deploy` of a stack file, never pulling (the images are local). */
  deploy(file: string, stack: string, onLine: (l: string) => void, signal?: AbortSignal): Promise<CliRun>;
  /** The services of a stack and their tasks. */
  services(stack: string): Promise<SwarmService[]>;
  health(containerId: string): Promise<ContainerHealth>;
  /** The last `tail` lines of a service's output (`docker service logs --tail`). */
  logs(fullName: string, tail: number): Promise<string[]>;
  /** `docker stack rm`. */
  remove(stack: string, onLine: (l: string) => void): Promise<CliRun>;
  /** What of a stack is still there (volumes: those labelled with the stack's namespace). */
  leftovers(stack: string): Promise<StackLeftovers>;
  /** Removes the stack's leftover task containers (the engine keeps a finished job's container). */
  removeContainers(names: string[]): Promise<void>;
  removeNetworks(names: string[]): Promise<void>;
  removeVolumes(names: string[]): Promise<string[]>;
}

export interface KubectlPort {
  /** Where kubectl is (a PATH lookup), or undefined. */
  locate(): Promise<string | undefined>;
  /** Runs kubectl with `args` to its end (or `timeoutMs`); never throws for a non-zero exit. */
  run(args: string[], opts: { timeoutMs: number; onLine?: (l: string) => void; signal?: AbortSignal }): Promise<CliRun & { timedOut: boolean }>;
}
