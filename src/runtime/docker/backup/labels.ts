/**
 * The labels by which the Docker backup runtime finds its containers and volumes again: the
 * project's compose services, the one-offs of a backup / restore / verify (`dev.helfy.backup=<tag>`
 * plus the project), and verify's own containers and volumes (plus their owner `<host>:<pid>`).
 */
import { hostname } from 'node:os';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const ONEOFF_LABEL = 'dev.helfy.backup';
/** `<host>:<pid>` of the helfy process that made a verify container / volume. */
export const OWNER_LABEL = 'dev.helfy.backup.owner';

/** `com.docker.compose.project-backup=<project>`: what helfy's own backup containers carry. */
export function backupProjectLabel(project: string): string {
  return `${PROJECT_LABEL}-backup=${project}`;
}

/** `docker run` labels of a dump/load one-off (tag `adhoc` without one). */
export function oneOffLabels(project: string, tag: string | undefined): string[] {
  return ['--label', `${ONEOFF_LABEL}=${tag ?? 'adhoc'}`, '--label', backupProjectLabel(project)];
}

/** verify's own containers and volumes: found again by project (removeOneOffs, the sweep) and owner. */
export function verifyLabels(project: string, tag: string, owner = `${hostname()}:${process.pid}`): string[] {
  return ['--label', `${ONEOFF_LABEL}=${tag}`, '--label', backupProjectLabel(project), '--label', `${OWNER_LABEL}=${owner}`];
}

/** The engine's filter for the one-offs of `tag` (every one-off of the project without one). */
export function oneOffFilters(project: string, tag?: string): { label: string[] } {
  return { label: [tag ? `${ONEOFF_LABEL}=${tag}` : ONEOFF_LABEL, backupProjectLabel(project)] };
}

/** The engine's label filter for verify's containers and volumes of the project (those with an owner). */
export function verifyLeftoverLabels(project: string): string[] {
  return [backupProjectLabel(project), OWNER_LABEL];
}

/** The owner label of a container / volume ('' without one). */
export function ownerOf(labels: Record<string, string> | undefined): string {
  return labels?.[OWNER_LABEL] ?? '';
}

/** Whether `argv` is a `docker run` client of a one-off of this project and tag (by its labels). */
export function oneOffClientMatcher(project: string, tag: string): (argv: string[]) => boolean {
  const projectArg = backupProjectLabel(project);
  const tagArg = `${ONEOFF_LABEL}=${tag}`;
  return (argv) => argv.includes('run') && argv.includes(projectArg) && argv.includes(tagArg);
}
