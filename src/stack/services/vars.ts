/** Compose interpolation helpers shared by the service modules. */
import { SETTINGS, type Setting, type SettingEnv } from '../../config/settings.js';

/** `${KEY:-default}` with the default from the settings table (so the file works without helfy too). */
export function v(key: SettingEnv): string {
  const s = (SETTINGS as readonly Setting[]).find((x) => x.env === key);
  if (!s) throw new Error(`unknown setting ${key}`);
  return s.default !== undefined ? `\${${key}:-${s.default}}` : `\${${key}}`;
}

/** `${KEY:?message}`: a secret that must be set (compose refuses to start without it). */
export function secret(key: SettingEnv): string {
  return `\${${key}:?${key} is not set: run helfy init, or pass --env-file <workspace>/.env}`;
}

export const PROJECT = v('HELFY_PROJECT_NAME');
export const BIND = v('HELFY_BIND_ADDRESS');

/** The databases and role of Temporal, created by the PostgreSQL bootstrap. */
export const TEMPORAL_DB = 'helfy_temporal';
export const TEMPORAL_VISIBILITY_DB = 'helfy_temporal_visibility';
export const TEMPORAL_ROLE = 'helfy_temporal';
