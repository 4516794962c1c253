/** Secret generation and the weak-secret check used by `init` and `doctor`. */
import { randomBytes } from 'node:crypto';
import { SETTINGS, type Setting } from './settings.js';

/** 24 random bytes → 32 URL-safe characters (192 bits). */
export function generateSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

export const SECRET_KEYS = (SETTINGS as readonly Setting[]).filter((s) => s.secret).map((s) => s.env);

const WEAK = new Set(['password', 'neo4j', 'postgres', 'changeme', 'secret', 'admin', 'root', 'test', 'helfy', 'temporal', 'letmein', '123456', 'qwerty']);

/** Why a secret is weak, or undefined when it is fine. */
export function weakness(value: string): string | undefined {
  if (value.length < 24) return `shorter than 24 characters (${value.length})`;
  if (WEAK.has(value.toLowerCase())) return 'a well-known default';
  if (new Set(value).size < 8) return 'too few distinct characters';
  return undefined;
}
