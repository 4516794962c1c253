/**
 * Stopping a process: the stop signal to the group (all but the wrapper while it lives), SIGKILL
 * to the whole group after the grace period, and a refusal (nothing recorded, still tracked) when
 * it may not be signalled or will not die. Forgetting one that is not running.
 */
import { rm } from 'node:fs/promises';
import { writeFileAtomic } from '../../../core/atomic-write.js';
import { HelfyError } from '../../../core/errors.js';
import { groupLive, groupMembers, procStat } from '../../../core/proc.js';
import { isErrno, sleep } from './files.js';
import { exitFile, stateFile, type SupervisorPaths } from './paths.js';
import { groupOurs, leaderAlive, readExit, readState, removeExits, type StateFile } from './state.js';

/** How long a SIGKILLed group may take to disappear before stop gives up. */
export const KILL_WAIT_MS = 10_000;

/** The group's live members with their /proc state letter, for a message ("4711 (D)"). */
export const describeGroup = (pgid: number) => groupMembers(pgid).map((p) => `${p} (${procStat(p)?.state ?? '?'})`).join(', ');

/** The refusal of a stop of `s`: nothing is recorded, the state stays (running, or its live group), so it is not forgotten. */
export function stopRefusal(name: string, s: StateFile, why: string, hint: string): HelfyError {
  return new HelfyError('OPERATION_FAILED', `could not stop ${name} (pid ${s.pid}): ${why}`, {
    hint,
    data: { name, pid: s.pid, members: groupMembers(s.pid) },
  });
}

/** Supervisor.stop under the workspace lock (the name already checked); false when nothing of it ran. */
export async function stopLocked(p: SupervisorPaths, name: string, o: { graceS?: number }): Promise<boolean> {
  const s = await readState(stateFile(p, name));
  if (!s || !groupOurs(p, s)) return false;
  const graceMs = (o.graceS ?? s.graceS) * 1000;
  const denied: number[] = [];
  const signal = (target: number, sig: NodeJS.Signals) => {
    try {
      process.kill(target, sig);
    } catch (e) {
      if (isErrno(e, 'EPERM')) denied.push(Math.abs(target)); // ESRCH: gone meanwhile
    }
  };
  const notAllowed = () => {
    throw stopRefusal(
      name,
      s,
      `not allowed to signal ${[...new Set(denied)].join(', ')} (it runs as ${s.user ?? 'another user'}, helfy as uid ${process.getuid?.() ?? '?'})`,
      `run helfy as the user that started it${s.user ? ' or as root' : ''}`,
    );
  };
  // The stop signal goes to every process of the group except the wrapper: the wrapper would
  // forward it to the command, which would then get it twice (a second SIGINT/SIGTERM is
  // "force quit" to some programs). Without a live wrapper, the group as a whole.
  if (leaderAlive(p, s)) {
    for (const m of groupMembers(s.pid)) if (m !== s.pid) signal(m, s.stopSignal || 'SIGTERM');
  } else {
    signal(-s.pid, s.stopSignal || 'SIGTERM');
  }
  if (denied.length) notAllowed();
  const deadline = Date.now() + graceMs;
  while (groupLive(s.pid) && Date.now() < deadline) await sleep(50);
  if (groupLive(s.pid)) {
    signal(-s.pid, 'SIGKILL');
    if (denied.length) notAllowed();
    const hard = Date.now() + KILL_WAIT_MS;
    while (groupLive(s.pid) && Date.now() < hard) await sleep(20);
    if (groupLive(s.pid)) {
      throw stopRefusal(
        name,
        s,
        `still alive ${KILL_WAIT_MS / 1000} s after SIGKILL: ${describeGroup(s.pid)} (D = waiting on the kernel, e.g. a hung disk or NFS)`,
        `find out what it waits on (cat /proc/${s.pid}/stack, ps -o pid,stat,wchan -g ${s.pid}), then run this again`,
      );
    }
    // The wrapper died with its group and could not say how: the supervisor knows (the group is gone).
    if (!(await readExit(p, s))) {
      await writeFileAtomic(exitFile(p, name, s.runId), `${JSON.stringify({ code: null, signal: 'SIGKILL', at: Date.now() })}\n`);
    }
  }
  return true;
}

/** Supervisor.forget under the workspace lock (the name already checked): refused while anything of it runs. */
export async function forgetLocked(p: SupervisorPaths, name: string): Promise<void> {
  const s = await readState(stateFile(p, name));
  if (s && ((leaderAlive(p, s) && !(await readExit(p, s))) || groupOurs(p, s))) {
    throw new HelfyError('OPERATION_FAILED', `${name} is still running (pid ${s.pid}); stop it before forgetting it`);
  }
  await rm(stateFile(p, name), { force: true });
  await removeExits(p, name);
}
