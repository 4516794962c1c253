/**
 * Waiting for health: one poll loop for the whole stack (one container listing per tick, live
 * probes only where a service's readiness needs them), with listeners for the per-service task
 * list. Ends when every service is ready, one fails, the deadline passes or the signal fires.
 */
import { service } from './catalog.js';
import { LABEL_CONFIG_HASH } from './compose-file.js';
import { isFatal, isReady, serviceHealth, type ContainerSnapshot, type ProbeOutcome, type ServiceHealth } from './health.js';
import type { StackRuntime } from './runtime.js';
import type { ServiceName } from './types.js';

export type WaitOutcome =
  | { kind: 'ready' }
  | { kind: 'failed'; service: ServiceName; health: ServiceHealth; container?: ContainerSnapshot }
  | { kind: 'timeout'; service: ServiceName; health: ServiceHealth; container?: ContainerSnapshot }
  | { kind: 'compose-failed'; output: string[]; exitCode: number }
  | { kind: 'build-failed'; services: ServiceName[]; output: string[]; exitCode: number }
  | { kind: 'hook-failed'; error: unknown }
  | { kind: 'interrupted' };

export interface TrackedService {
  name: ServiceName;
  health: ServiceHealth;
  /** When the current state was first seen (ms since epoch). */
  since: number;
  /** When it first became ready. */
  readyAt?: number;
}

export interface WaitOptions {
  /** Services to wait for, in dependency order. */
  services: ServiceName[];
  runtime: StackRuntime;
  /** ms since epoch. */
  deadline: number;
  /**
   * Expected dev.helfy.config-hash label per service: a container with another value is from an
   * older configuration and about to be replaced by compose, so it does not count as ready.
   */
  expectedHashes?: Partial<Record<ServiceName, string>>;
  signal: AbortSignal;
  pollMs?: number;
  probeTimeoutMs?: number;
  now?: () => number;
}

export class HealthWaiter {
  readonly services: Map<ServiceName, TrackedService>;
  private readonly listeners = new Set<(s: TrackedService) => void>();
  private readonly probes = new Map<ServiceName, ProbeOutcome>();
  private readonly containers = new Map<ServiceName, ContainerSnapshot>();
  /** Shown for services without a container yet (e.g. "waiting for the database bootstrap"). */
  pendingNote: string | undefined;
  /** Per service, before `pendingNote` (e.g. "building image helfy-local/api:…"). */
  readonly pendingNotes = new Map<ServiceName, string>();
  /** Set when compose failed; missing services then fail instead of waiting for the deadline. */
  private composeFailure: { output: string[]; exitCode: number } | undefined;
  private composeFailureSeenAt: number | undefined;
  /** While compose runs, containers may still be replaced: the stack is not ready before it returns. */
  private composeRunning = false;
  /** Services compose has been asked to start; the others only show the pending note. */
  private readonly started = new Set<ServiceName>();
  private readonly t0: number;
  private readonly now: () => number;
  /** Time added to the deadline (image builds do not count against `--timeout`). */
  private extraMs = 0;
  /** While set (an image build runs), the wait does not time out. */
  holdDeadline = false;
  /** Set by abortWith: a step run during the wait failed (e.g. registering the namespace). */
  private hookError: { error: unknown } | undefined;

  constructor(private readonly o: WaitOptions) {
    this.now = o.now ?? Date.now;
    const t = this.now();
    this.t0 = t;
    this.services = new Map(o.services.map((n) => [n, { name: n, health: { state: 'missing', detail: 'not started yet' }, since: t }]));
  }

  /** Ends the wait with this error at the next tick. */
  abortWith(error: unknown): void {
    this.hookError ??= { error };
  }

  get deadline(): number {
    return this.o.deadline + this.extraMs;
  }

  extendDeadline(ms: number): void {
    this.extraMs += ms;
  }

  onChange(fn: (s: TrackedService) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Compose is about to start these services (until then they are only "pending"). */
  markStarted(names: readonly ServiceName[]): void {
    for (const n of names) this.started.add(n);
  }

  setComposeRunning(running: boolean): void {
    this.composeRunning = running;
  }

  markComposeFailed(output: string[], exitCode: number): void {
    this.composeFailure = { output, exitCode };
  }

  container(name: ServiceName): ContainerSnapshot | undefined {
    return this.containers.get(name);
  }

  private set(name: ServiceName, h: ServiceHealth): void {
    const cur = this.services.get(name)!;
    if (cur.health.state === h.state && cur.health.detail === h.detail) return;
    const t = this.now();
    const next: TrackedService = { name, health: h, since: cur.health.state === h.state ? cur.since : t, readyAt: cur.readyAt ?? (isReady(h.state) ? t : undefined) };
    this.services.set(name, next);
    for (const l of this.listeners) l(next);
  }

  /** One poll: list containers, probe what needs probing, update states. */
  async tick(): Promise<void> {
    let list: ContainerSnapshot[];
    try {
      list = await this.o.runtime.containers();
    } catch {
      return; // transient engine trouble: try again next tick
    }
    this.containers.clear();
    for (const c of list) if (this.services.has(c.service as ServiceName)) this.containers.set(c.service as ServiceName, c);
    await Promise.all(
      this.o.services.map(async (name) => {
        const def = service(name);
        const c = this.containers.get(name);
        let probe = this.probes.get(name);
        if (def.readiness === 'probe' && c?.state === 'running' && c.health !== 'starting' && c.health !== 'unhealthy' && !probe?.ok) {
          const r = await this.o.runtime.probe(def, this.o.probeTimeoutMs ?? 2000);
          probe = r ? { ok: r.ok, detail: r.detail } : undefined;
          if (probe) this.probes.set(name, probe);
        }
        if (c?.state !== 'running') this.probes.delete(name);
        const expected = this.o.expectedHashes?.[name];
        let h = serviceHealth(def.readiness, c, probe);
        const note = this.pendingNotes.get(name) ?? this.pendingNote;
        if (!this.started.has(name)) h = { state: 'missing', detail: note ?? 'not started yet' };
        else if (c && expected && c.labels[LABEL_CONFIG_HASH] !== expected) h = { state: 'starting', detail: 'to be replaced (configuration changed)' };
        else if (this.composeRunning && c && (c.state === 'exited' || c.state === 'dead') && (c.finishedAt ?? 0) < this.t0) {
          // Stopped before this `up` began (e.g. `docker compose stop`): compose is (re)starting it.
          h = { state: 'starting', detail: 'stopped earlier; being started' };
        }
        if (h.state === 'missing' && note) h = { state: 'missing', detail: note };
        this.set(name, h);
      }),
    );
  }

  /** The service to blame when the stack is not ready: the first not ready whose dependencies are. */
  blame(): ServiceName {
    const order = this.o.services;
    for (const n of order) {
      const s = this.services.get(n)!;
      if (isReady(s.health.state)) continue;
      const deps = Object.keys(service(n).dependsOn).filter((d) => this.services.has(d as ServiceName)) as ServiceName[];
      if (deps.every((d) => isReady(this.services.get(d)!.health.state))) return n;
    }
    return order.find((n) => !isReady(this.services.get(n)!.health.state)) ?? order[0]!;
  }

  private outcome(): WaitOutcome | undefined {
    if (this.hookError) return { kind: 'hook-failed', error: this.hookError.error };
    const all = [...this.services.values()];
    if (all.every((s) => isReady(s.health.state)) && !this.composeRunning) return { kind: 'ready' };
    const fatal = this.o.services.find((n) => isFatal(this.services.get(n)!.health.state));
    if (fatal) return { kind: 'failed', service: fatal, health: this.services.get(fatal)!.health, container: this.containers.get(fatal) };
    if (this.composeFailure) {
      // Give the listing one more tick to show the container that made compose fail.
      this.composeFailureSeenAt ??= this.now();
      if (this.now() - this.composeFailureSeenAt > 1500) return { kind: 'compose-failed', ...this.composeFailure };
    }
    return undefined;
  }

  /** Polls until an outcome; `waitUntil` (optional) ends the wait early once it returns true. */
  async run(waitUntil?: () => boolean): Promise<WaitOutcome> {
    const poll = this.o.pollMs ?? 500;
    for (;;) {
      if (this.o.signal.aborted) return { kind: 'interrupted' };
      await this.tick();
      if (this.o.signal.aborted) return { kind: 'interrupted' };
      const out = this.outcome();
      if (out) return out;
      if (waitUntil?.()) return { kind: 'ready' };
      if (!this.holdDeadline && this.now() >= this.deadline) {
        const n = this.blame();
        return { kind: 'timeout', service: n, health: this.services.get(n)!.health, container: this.containers.get(n) };
      }
      await sleep(this.holdDeadline ? poll : Math.min(poll, Math.max(0, this.deadline - this.now())), this.o.signal);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
