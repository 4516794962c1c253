/**
 * Which native processes of a workspace run — cheap when there are none: the supervisor is only
 * imported when `.helfy/run` holds state files. `auto` (src/stack/open.ts) and `doctor` use it to
 * pick native while this workspace's native stack runs, even when a Docker engine answers.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Names of the running native processes of the workspace at `root` (same pid, start time, boot and workspace), sorted. */
export async function runningNative(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(join(root, '.helfy', 'run')).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
  } catch {
    return [];
  }
  if (!names.length) return [];
  const { openSupervisor } = await import('./supervisor.js');
  return (await openSupervisor(root).list()).filter((s) => s.state === 'running').map((s) => s.name).sort();
}
