/**
 * The native runtime's process supervisor: runs a ProcessSpec detached from helfy (its own
 * session and process group, output appended to .helfy/logs/<name>.log), so it survives helfy's
 * exit and a closed terminal, and answers later — from any helfy process — what runs, what ended
 * and how.
 *
 * Each process runs under a tiny /bin/sh wrapper (the group leader, whose pid is recorded):
 * it starts the command, waits for it, and writes `<name>.exit` ({code, signal}) when it ends, so a
 * job's exit code and a daemon's crash are known after the helfy that started them is gone. The
 * wrapper forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT to the command (it never leaves it orphaned);
 * `stop` signals every process of the group but the wrapper (so the command gets it once, and
 * grandchildren get it too), then SIGKILLs the whole group after the grace period. The state file `<name>.json` records
 * the leader's pid with its start time and the boot id: a pid that is alive but started at
 * another time, or was recorded before a reboot, is not ours (`exited`); nor is a state file
 * that records another workspace root (a copied `.helfy`): never reported running, never signalled.
 *
 * Each run has an id and its own exit record (`<name>.<runId>.exit`), so the wrapper of another
 * run of the same name never marks this one exited. start / stop / forget run under the workspace
 * lock (`withLock`, `.helfy/run/.lock`: holder pid + start time + what + since; stale → taken over
 * under a takeover guard; re-entrant in one async call chain), and start records the pid before
 * anything else can happen. A stop that cannot stop (EPERM, or a group alive 10 s after SIGKILL)
 * throws OPERATION_FAILED and records nothing: the process stays tracked.
 *
 * The parts live in ./supervisor/, one module each, every function taking what it needs (the
 * workspace's SupervisorPaths, a state file, a lock record) instead of capturing it:
 *  - paths.ts: the files of a workspace (`.helfy/{data,logs,run}`, state, exit records, lock), name check;
 *  - lock.ts: the workspace lock (acquire, stale/unreadable takeover, release, holder);
 *  - state.ts: state files and exit records, read and resolved into a ProcessState;
 *  - start.ts: the wrapper, the checks before a start, the spawn and the state file it records;
 *  - stop.ts: stop signal, SIGKILL after the grace period, refusals; forget;
 *  - logs.ts: opening, rotating, tailing and following logs;
 *  - tools.ts, files.ts: `env` / `setpriv` / `id` on the PATH, argument quoting, small file helpers;
 *  - index.ts: openSupervisor, which assembles them.
 */
export { openSupervisor, type SupervisorOptions } from './supervisor/index.js';
export { ROTATE_BYTES, ROTATE_KEEP } from './supervisor/logs.js';
