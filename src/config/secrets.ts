/** Secret generation and the weak-secret check used by `init` and `doctor`. */
import { randomBytes } from 'node:crypto';
import { SETTINGS, type Setting } from './settings.js';

/**
 * 24 random bytes → 32 URL-safe characters (192 bits), never starting with `-` or `_`: a value
 * passed as a command-line argument that starts with `-` is read as an option (the Neo4j image's
 * entrypoint runs `neo4j-admin dbms set-initial-password <password>`, and 1 secret in 32 made
 * Neo4j exit 64 "Missing required parameter: '<password>'" on its first start).
 */
export function generateSecret(bytes = 24): string {
  for (;;) {
    const v = randomBytes(bytes).toString('base64url');
    if (/^[A-Za-z0-9]/.test(v)) return v;
  }
}

export const SECRET_KEYS = (SETTINGS as readonly Setting[]).filter((s) => s.secret).map((s) => s.env);

const WEAK = new Set(['password', 'neo4j', 'postgres', 'changeme', 'secret', 'admin', 'root', 'test', 'helfy', 'temporal', 'letmein', '123456', 'qwerty']);

/** Why a secret is weak, or undefined when it is fine. */
export function weakness(value: string): string | undefined {
  if (value.length < 24) return `shorter than 24 characters (${value.length})`;
  if (WEAK.has(value.toLowerCase())) return 'a well-known default';
  if (new Set(value).size < 8) return 'too few distinct characters';
  if (value.startsWith('-')) return "starts with '-' (the Neo4j image's neo4j-admin reads it as an option)";
  return undefined;
}
