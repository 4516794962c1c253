/**
 * Run-time configuration from the environment (compose sets these), validated once at start.
 * A bad or missing variable is reported by name only: a secret's value is never printed.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const SECRET_KEYS = new Set(['DATABASE_URL', 'NEO4J_PASSWORD', 'JWT_SECRET', 'PROXY_SECRET']);

/**
 * TRUST_PROXY as parsed: the addresses / CIDRs, and — when PROXY_SECRET is set — that secret as a
 * non-enumerable `secret` (not shown when the list is printed), which clientAddress() then asks
 * the proxy to prove (src/auth/client-address.ts).
 */
export type TrustProxy = string[] & { readonly secret?: string };

const port = z.coerce.number().int().min(1).max(65535);
const duration = z.coerce.number().int().positive();

const baseSchema = z.object({
  HELFY_SERVICE: z.enum(['api', 'worker']).default('api'),
  PORT: port.default(3000),
  HEALTH_PORT: port.default(3100),
  /** Bind address of the HTTP servers (compose: all interfaces inside the container). */
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .min(1)
    .refine((s) => /^postgres(ql)?:\/\//.test(s), 'must be a postgres:// URL'),
  TEMPORAL_ADDRESS: z
    .string()
    .min(1)
    .refine((s) => /^[^\s/:]+:\d+$/.test(s), 'must be host:port'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('helfy'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('helfy'),
  /** CORS origin of the web app; empty = no cross-origin access. */
  WEB_ORIGIN: z
    .string()
    .default('')
    .refine((s) => s === '' || /^https?:\/\/[^/]+$/.test(s), 'must be an origin like http://127.0.0.1:3001'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** Timeout of every database / driver / Temporal call, in ms. */
  DEPENDENCY_TIMEOUT_MS: duration.default(3000),
  /** Access token lifetime (s) and refresh token lifetime (s). */
  ACCESS_TOKEN_TTL_S: duration.default(900),
  REFRESH_TOKEN_TTL_S: duration.default(30 * 24 * 3600),
  /**
   * Refresh grace (s): the token rotated this recently, presented again while its successor is
   * still the live one, gets that successor again instead of revoking the family (two tabs that
   * refresh at once). 0 = off: every second use is a reuse.
   */
  REFRESH_REUSE_GRACE_S: z.coerce.number().int().min(0).max(300).default(20),
  /** Failed log-ins allowed per account / per client address within the window before 429. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: duration.default(5),
  LOGIN_MAX_FAILURES_PER_ADDRESS: duration.default(20),
  LOGIN_WINDOW_S: duration.default(15 * 60),
  /**
   * Proxies whose X-Forwarded-For is believed, as a comma-separated list of addresses or CIDRs
   * (e.g. the web container's network). Empty / `false` = ignore XFF. `true` = any peer (only when
   * the API port is not reachable by clients directly: XFF is trivially spoofed).
   */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((s, ctx): TrustProxy => {
      const v = s.trim();
      if (v === '' || v === 'false' || v === '0') return [];
      if (v === 'true' || v === '1') return ['0.0.0.0/0', '::/0'];
      const items = v.split(',').map((x) => x.trim()).filter(Boolean);
      for (const item of items) {
        const [addr, bits] = item.split('/');
        const fam = isIP(addr ?? '');
        const max = fam === 6 ? 128 : 32;
        if (!fam || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) {
          ctx.addIssue({ code: 'custom', message: `"${item}" is not an address or CIDR` });
          return z.NEVER;
        }
      }
      return items;
    }),
  /**
   * A secret the trusted proxy (the web server) sends in X-Proxy-Secret. When set, a TRUST_PROXY
   * peer's X-Forwarded-For is believed only on requests that carry it: needed where the proxy's
   * address is one every local program shares (the native runtime: 127.0.0.1). Never logged.
   */
  PROXY_SECRET: z.string().min(24, 'must be at least 24 characters').optional(),
  PG_POOL_MAX: duration.default(10),
  /**
   * Cron (UTC) of the Schedule that summarizes each user's local yesterday once it has been over for
   * two hours: hourly, so every zone's midnight is followed within the hour.
   */
  DAILY_SUMMARY_CRON: z.string().min(1).default('30 * * * *'),
  SHUTDOWN_TIMEOUT_MS: duration.default(8000),
});

/** The API needs these too; the worker does not (it touches neither Neo4j nor tokens). */
const apiOnly = z.object({
  NEO4J_URL: z
    .string()
    .min(1)
    .refine((s) => /^(bolt|neo4j)(\+s|\+ssc)?:\/\//.test(s), 'must be a bolt:// or neo4j:// URL'),
  NEO4J_USER: z.string().min(1).default('neo4j'),
  NEO4J_PASSWORD: z.string().min(1),
  JWT_SECRET: z.string().min(16, 'must be at least 16 characters'),
});
const apiSchema = baseSchema.extend(apiOnly.shape);
const workerSchema = baseSchema.extend(apiOnly.partial().shape);

export type Config = z.infer<typeof apiSchema>;
export type WorkerConfig = z.infer<typeof workerSchema>;

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming the first bad variable (never its value). */
export function loadConfig(env?: NodeJS.ProcessEnv): Config;
export function loadConfig(env: NodeJS.ProcessEnv, service: 'worker'): WorkerConfig;
export function loadConfig(env: NodeJS.ProcessEnv = process.env, service: 'api' | 'worker' = 'api'): Config | WorkerConfig {
  const schema = service === 'api' ? apiSchema : workerSchema;
  // Empty strings count as unset, so `FOO=` in an env file falls back to the default.
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') cleaned[key] = v;
  }
  const r = schema.safeParse(cleaned);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const missing = cleaned[name] === undefined;
    const why = missing ? 'is missing' : SECRET_KEYS.has(name) ? `is invalid (${issue.message})` : `is invalid: ${issue.message}`;
    throw new ConfigError(name, `${name} ${why}`);
  }
  if (r.data.PROXY_SECRET) Object.defineProperty(r.data.TRUST_PROXY, 'secret', { value: r.data.PROXY_SECRET, enumerable: false });
  return r.data;
}
