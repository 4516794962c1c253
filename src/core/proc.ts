/**
 * Small Linux process facts that the supervisor, the backup locks and the runtimes need: whether a
 * pid or a process group is alive, a process's start time (to tell a recorded pid from a reused
 * one), the boot id (a pid recorded before a reboot is never ours), the members of a group, a
 * process's uid, argv and children. All from /proc and signal 0; nothing is spawned.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Whether `pid` is a live process: signal 0 reaches it and it is not a zombie (killed, not yet reaped). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (or it went away between the two looks): the signal said alive
  }
}

/** True while any process of group `pgid` exists (zombies included: see groupLive). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface ProcStat {
  /** One letter: R, S, D, Z (zombie), T, … */
  state: string;
  ppid: number;
  pgrp: number;
  /** Field 22 of /proc/<pid>/stat: start time in clock ticks after boot. */
  startTime: string;
}

/** /proc/<pid>/stat parsed, or undefined when the process is gone. */
export function procStat(pid: number): ProcStat | undefined {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (comm) is in parentheses and may itself hold spaces or ')': split after the last ')'.
  const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  if (rest.length < 20) return undefined;
  return { state: rest[0] ?? '', ppid: Number(rest[1]), pgrp: Number(rest[2]), startTime: rest[19] ?? '' };
}

/** The start time (field 22) of a live, non-zombie process; undefined when it is gone or a zombie. */
export function procStart(pid: number): string | undefined {
  const s = procStat(pid);
  return s && s.state !== 'Z' && s.state !== 'X' ? s.startTime : undefined;
}

let bootIdCache: string | undefined;
/** /proc/sys/kernel/random/boot_id (changes at every boot). */
export function bootId(): string {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootIdCache = '';
    }
  }
  return bootIdCache;
}

/** Live (non-zombie) pids whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  return allPids().filter((pid) => {
    const s = procStat(pid);
    return s !== undefined && s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X';
  });
}

/** Every pid in /proc (none without /proc). */
function allPids(): number[] {
  try {
    return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return [];
  }
}

/**
 * True while a live process of group `pgid` exists. kill(-pgid, 0) alone also counts zombies (a
 * killed wrapper not yet reaped by the helfy that started it), so a positive answer is checked
 * against /proc.
 */
export function groupLive(pgid: number): boolean {
  return groupAlive(pgid) && groupMembers(pgid).length > 0;
}

/**
 * The real uid of a process, from /proc/<pid>/status (undefined when it is gone or there is no
 * /proc). Not the owner of /proc/<pid>: a process that changed its uid is not dumpable, and then
 * its /proc entries belong to root.
 */
export function procUid(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Live pids (this process excluded) whose argument vector satisfies `match`; none without /proc. */
export function pidsWhere(match: (argv: string[]) => boolean): number[] {
  return allPids().filter((pid) => {
    if (pid === process.pid) return false;
    const argv = cmdline(pid);
    return argv.length > 0 && match(argv);
  });
}

/** The argument vector of a process (empty when it is gone or unreadable). */
export function cmdline(pid: number): string[] {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw ? raw.replace(/\0$/, '').split('\0') : [];
  } catch {
    return [];
  }
}

/** Direct children of `pid` (/proc/<pid>/task/<pid>/children, or a /proc scan without it). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return allPids().filter((p) => procStat(p)?.ppid === pid);
  }
}
