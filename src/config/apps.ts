/**
 * Where the Helfy apps' sources live. `helfy init` scaffolds the templates into the workspace
 * (`apps/api`, `apps/web`), where the developer owns and edits them; the stack builds from those
 * copies, and from the templates bundled with helfy when a workspace has none.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './paths.js';

export const APPS = ['api', 'web'] as const;
export type AppName = (typeof APPS)[number];

/** The folder of the workspace copy of an app (it may not exist). */
export function workspaceAppDir(root: string, app: AppName): string {
  return join(root, 'apps', app);
}

/** The template bundled with helfy. */
export function templateAppDir(app: AppName): string {
  return join(PACKAGE_ROOT, 'templates', app);
}

/** The sources an app is built and run from: the workspace copy when it exists, else the template. */
export function appSource(root: string, app: AppName): { dir: string; from: 'workspace' | 'template' } {
  const ws = workspaceAppDir(root, app);
  return existsSync(join(ws, 'package.json')) ? { dir: ws, from: 'workspace' } : { dir: templateAppDir(app), from: 'template' };
}
