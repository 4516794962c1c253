/** The `security` checks of `helfy smoke`: published ports bind where configured, no .env secret in any log. */
import { readDotenvFile, type HelfyConfig } from '../config/load.js';
import { SETTINGS } from '../config/settings.js';
import type { ContainerSnapshot } from '../stack/health.js';
import type { StackRuntime } from '../stack/runtime.js';
import type { CheckDef } from './scheduler.js';

/** A secret's key and value; the value is never printed. */
export interface SecretValue {
  key: string;
  value: string;
}

/** Every published port binds to `bindAddress` (anything goes when it is 0.0.0.0 or ::); else an Error naming the others. */
export function portsVerdict(list: readonly Pick<ContainerSnapshot, 'service' | 'ports'>[], bindAddress: string): string {
  const all = bindAddress === '0.0.0.0' || bindAddress === '::';
  const wrong = list.flatMap((c) => c.ports.filter((p) => !all && p.host !== bindAddress).map((p) => `${c.service} ${p.host || '*'}:${p.hostPort}->${p.containerPort}`));
  if (wrong.length) throw new Error(`published beyond ${bindAddress}: ${wrong.join(', ')}`);
  const n = list.reduce((a, c) => a + c.ports.length, 0);
  return `${n} published port(s), all on ${bindAddress}`;
}

/** The .env values of the settings marked secret, those long enough (8+ characters) to look for. */
export function secretsToFind(dotenv: ReadonlyMap<string, { value: string }>): SecretValue[] {
  const secretKeys = new Set((SETTINGS as readonly { env: string; secret?: boolean }[]).filter((s) => s.secret).map((s) => s.env));
  return [...dotenv].filter(([k, v]) => secretKeys.has(k) && v.value.length >= 8).map(([k, v]) => ({ key: k, value: v.value }));
}

/** No secret in any service's log lines; else an Error naming `<key> in <service>`, sorted, never the values. */
export function secretsVerdict(secrets: readonly SecretValue[], logs: readonly { service: string; lines: readonly { text: string }[] }[]): string {
  const found = new Set<string>();
  for (const c of logs) for (const s of secrets) if (c.lines.some((l) => l.text.includes(s.value))) found.add(`${s.key} in ${c.service}`);
  // Only the key names: the values are never printed.
  if (found.size) throw new Error(`secret value(s) found in logs: ${[...found].sort().join(', ')}`);
  return `${secrets.length} secret(s) checked against the logs of ${logs.length} container(s)`;
}

export function portsCheck(bindAddress: string, rt: Pick<StackRuntime, 'containers'>, timeoutMs: number): CheckDef {
  return {
    id: 'security.ports', group: 'security', name: `every published port binds to ${bindAddress} only`, timeoutMs,
    run: async () => portsVerdict(await rt.containers(), bindAddress),
  };
}

export function secretsCheck(root: string, rt: Pick<StackRuntime, 'containers' | 'logs'>, timeoutMs: number): CheckDef {
  return {
    id: 'security.secrets', group: 'security', name: 'no secret from .env appears in any service log', timeoutMs,
    async run() {
      const secrets = secretsToFind(readDotenvFile(root));
      const list = await rt.containers();
      const logs = await Promise.all(list.map(async (c) => ({ service: c.service, lines: await rt.logs(c.id, {}) })));
      return secretsVerdict(secrets, logs);
    },
  };
}

/** The security group, in report order. */
export function securityChecks(cfg: Pick<HelfyConfig, 'bindAddress' | 'root'>, rt: Pick<StackRuntime, 'containers' | 'logs'>, timeoutMs: number): CheckDef[] {
  return [portsCheck(cfg.bindAddress, rt, timeoutMs), secretsCheck(cfg.root, rt, timeoutMs)];
}
