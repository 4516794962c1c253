/**
 * The native supervisor with real processes: detached daemons and jobs that outlive the process
 * that started them, exit records, stale/reused pids, group stop with SIGKILL escalation, the
 * `postgres` user when running as root, exact environments, log rotation, tail and follow.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HelfyError } from '../../src/core/errors.js';
import { cmdline, groupLive, groupMembers, pidAlive, procStart, procStat } from '../../src/core/proc.js';
import { openSupervisor } from '../../src/runtime/native/supervisor.js';
import type { ProcessSpec, ProcessState, Supervisor } from '../../src/runtime/native/types.js';

const REPO = resolve(__dirname, '../..');
const SH = '/bin/sh';
const NODE = process.execPath;
const BASE_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

let root: string;
let sup: Supervisor;

function spec(name: string, kind: ProcessSpec['kind'], command: string, args: string[], extra: Partial<ProcessSpec> = {}): ProcessSpec {
  return { name, kind, command, args, env: BASE_ENV, cwd: root, graceS: 5, labels: {}, ...extra };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exited = (name: string) => until(`${name} to exit`, async () => {
  const s = await sup.get(name);
  return s?.state === 'exited' ? s : undefined;
});

const logHas = (name: string, text: string) =>
  until(`"${text}" in ${name}.log`, async () => (await sup.readLog(name)).some((l) => l.text === text));

/** The child of the wrapper (the service process itself). */
/**
 * The wrapper's child (the service process itself), once it has exec'd `command`: before that it
 * is still the shell's fork (or setpriv / env on their way), which neither runs as the target
 * user nor has its signal dispositions reset yet.
 */
function serviceChild(wrapperPid: number, command = '/usr/bin/sleep'): Promise<number> {
  return until(`the service child ${command}`, () =>
    groupMembers(wrapperPid).find((p) => procStat(p)?.ppid === wrapperPid && cmdline(p)[0] === command));
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'helfy-sup-'));
  sup = openSupervisor(root, { rotateBytes: 4096, pollMs: 50 });
});

afterAll(async () => {
  for (const s of await sup.list()) await sup.stop(s.name, { graceS: 1 });
  rmSync(root, { recursive: true, force: true });
});

describe('start / list / stop', () => {
  it('runs a daemon detached in its own process group, with its state file and dirs', async () => {
    const st = await sup.start(spec('sleeper', 'daemon', '/usr/bin/sleep', ['300'], { labels: { 'dev.helfy.config-hash': 'abc' } }));
    expect(st).toMatchObject({ name: 'sleeper', kind: 'daemon', state: 'running', labels: { 'dev.helfy.config-hash': 'abc' } });
    expect(st.logFile).toBe(join(root, '.helfy/logs/sleeper.log'));
    expect(sup.dirs).toEqual({ data: join(root, '.helfy/data'), logs: join(root, '.helfy/logs'), run: join(root, '.helfy/run') });
    // The recorded pid leads its own group (and session), not ours.
    expect(procStat(st.pid)?.pgrp).toBe(st.pid);
    expect(procStat(process.pid)?.pgrp).not.toBe(st.pid);
    const file = JSON.parse(readFileSync(join(root, '.helfy/run/sleeper.json'), 'utf8'));
    expect(file).toMatchObject({ name: 'sleeper', pid: st.pid, procStart: procStart(st.pid), commandLine: '/usr/bin/sleep 300', stopSignal: 'SIGTERM' });
    expect(file.bootId).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    const listed = await sup.list();
    expect(listed.map((s) => [s.name, s.state])).toContainEqual(['sleeper', 'running']);
  });

  it('refuses to start a name that is running', async () => {
    const err = await sup.start(spec('sleeper', 'daemon', '/usr/bin/sleep', ['300'])).catch((e) => e);
    expect(err).toBeInstanceOf(HelfyError);
    expect(err.code).toBe('OPERATION_FAILED');
    expect(err.message).toMatch(/sleeper is already running \(pid \d+\)/);
    expect(err.hint).toMatch(/stop it first/);
  });

  it('stop: SIGTERM to the group ends it; the exit record says SIGTERM; stopping again returns false', async () => {
    const before = (await sup.get('sleeper'))!;
    const child = await serviceChild(before.pid);
    expect(await sup.stop('sleeper')).toBe(true);
    expect(groupLive(before.pid)).toBe(false);
    expect(procStart(child)).toBeUndefined();
    const after = (await sup.get('sleeper'))!;
    expect(after.state).toBe('exited');
    expect(after.exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(await sup.stop('sleeper')).toBe(false);
    expect(await sup.stop('never-started')).toBe(false);
  });

  it('forget removes the records; a stopped name can start again', async () => {
    await sup.forget('sleeper');
    expect(await sup.get('sleeper')).toBeUndefined();
    const st = await sup.start(spec('sleeper', 'daemon', '/usr/bin/sleep', ['300']));
    expect(st.state).toBe('running');
    const err = await sup.forget('sleeper').catch((e) => e);
    expect(err).toBeInstanceOf(HelfyError);
    expect(await sup.stop('sleeper', { graceS: 2 })).toBe(true);
    await sup.forget('sleeper');
    expect((await sup.list()).map((s) => s.name)).not.toContain('sleeper');
  });

  it("a job's exit code and output are recorded", async () => {
    await sup.start(spec('job3', 'job', SH, ['-c', 'echo hello from job; exit 3']));
    const s = await exited('job3');
    expect(s.kind).toBe('job');
    expect(s.exit).toMatchObject({ code: 3, signal: null });
    expect(Math.abs(s.exit!.at - Date.now())).toBeLessThan(60_000);
    expect((await sup.readLog('job3')).map((l) => l.text)).toEqual(['hello from job']);
  });

  it('a missing command or working folder is refused before anything starts', async () => {
    const a = await sup.start(spec('nope', 'job', '/no/such/binary', [])).catch((e) => e);
    expect(a).toBeInstanceOf(HelfyError);
    expect(a.code).toBe('TOOL_MISSING');
    expect(a.message).toContain('/no/such/binary');
    const b = await sup.start(spec('nope', 'job', SH, ['-c', 'true'], { cwd: join(root, 'missing') })).catch((e) => e);
    expect(b.message).toContain('does not exist');
    expect(await sup.get('nope')).toBeUndefined();
  });

  it('stop escalates to SIGKILL after graceS for a process that ignores SIGTERM', async () => {
    const script = "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('ready'); setInterval(() => {}, 1000);";
    const st = await sup.start(spec('stubborn', 'daemon', NODE, ['-e', script], { graceS: 1 }));
    await logHas('stubborn', 'ready');
    const t0 = Date.now();
    expect(await sup.stop('stubborn')).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(groupLive(st.pid)).toBe(false);
    const s = (await sup.get('stubborn'))!;
    expect(s.state).toBe('exited');
    expect(s.exit).toMatchObject({ code: null, signal: 'SIGKILL' });
    // It did receive the stop signal first, once.
    expect((await sup.readLog('stubborn')).map((l) => l.text).filter((t) => t === 'ignoring SIGTERM')).toHaveLength(1);
  });

  it('the command gets the stop signal exactly once (not once from stop and again from the wrapper)', async () => {
    const script = "let n = 0; process.on('SIGTERM', () => { console.log('term ' + (++n)); setTimeout(() => process.exit(0), 500); }); console.log('ready'); setInterval(() => {}, 1000);";
    await sup.start(spec('once', 'daemon', NODE, ['-e', script], { graceS: 10 }));
    await logHas('once', 'ready');
    expect(await sup.stop('once')).toBe(true);
    expect((await sup.get('once'))!.exit).toMatchObject({ code: 0, signal: null });
    expect((await sup.readLog('once')).map((l) => l.text)).toEqual(['ready', 'term 1']);
  });

  it('stop uses the spec stopSignal (SIGINT reaches the command although it runs in the background)', async () => {
    const script = "process.on('SIGINT', () => { console.log('got SIGINT'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000);";
    await sup.start(spec('intme', 'daemon', NODE, ['-e', script], { stopSignal: 'SIGINT', graceS: 10 }));
    await logHas('intme', 'ready');
    expect(await sup.stop('intme')).toBe(true);
    const s = (await sup.get('intme'))!;
    expect(s.exit).toMatchObject({ code: 0, signal: null });
    expect((await sup.readLog('intme')).map((l) => l.text)).toContain('got SIGINT');
    // A plain program that installs no handler still dies of SIGINT (not ignored).
    // Right after start (no wait): start returns once the command has been exec'd, so the
    // shell fork's ignored SIGINT is already reset.
    await sup.start(spec('intsleep', 'daemon', '/usr/bin/sleep', ['300'], { stopSignal: 'SIGINT', graceS: 10 }));
    const t0 = Date.now();
    expect(await sup.stop('intsleep')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect((await sup.get('intsleep'))!.exit).toMatchObject({ code: null, signal: 'SIGINT' });
  });

  it('stop ends the whole group: a grandchild dies with its parent', async () => {
    const st = await sup.start(spec('family', 'daemon', SH, ['-c', '/usr/bin/sleep 300 & /usr/bin/sleep 301 & echo spawned; wait']));
    await logHas('family', 'spawned');
    // Until both background children have exec'd sleep (a forked sh not yet exec'd counts as a member too).
    const isSleep = (p: number) => cmdline(p)[0] === '/usr/bin/sleep';
    const members = await until('wrapper, sh and two sleeps', () => {
      const m = groupMembers(st.pid);
      return m.length >= 4 && m.filter(isSleep).length === 2 ? m : undefined;
    });
    const sleeps = members.filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('/usr/bin/sleep'));
    expect(sleeps).toHaveLength(2);
    expect(await sup.stop('family')).toBe(true);
    for (const p of members) expect(procStart(p)).toBeUndefined();
    expect(groupMembers(st.pid)).toEqual([]);
  });

  it('a wrapper signalled alone forwards SIGTERM to the command (no orphan)', async () => {
    const st = await sup.start(spec('fwd', 'daemon', '/usr/bin/sleep', ['300']));
    const child = await serviceChild(st.pid);
    process.kill(st.pid, 'SIGTERM');
    const s = await exited('fwd');
    expect(s.exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    await until('the command to be gone', () => procStart(child) === undefined);
  });
});

describe('stale records', () => {
  it('kill -9 of the service process: exited, with the wrapper record (SIGKILL)', async () => {
    const st = await sup.start(spec('crash', 'daemon', '/usr/bin/sleep', ['300']));
    const child = await serviceChild(st.pid);
    process.kill(child, 'SIGKILL');
    const s = await exited('crash');
    expect(s.exit).toMatchObject({ code: null, signal: 'SIGKILL' });
  });

  it('kill -9 of the whole group (wrapper too): exited without a record', async () => {
    const st = await sup.start(spec('massacre', 'daemon', '/usr/bin/sleep', ['300']));
    await serviceChild(st.pid);
    process.kill(-st.pid, 'SIGKILL');
    const s = await exited('massacre');
    expect(s.exit).toBeUndefined();
    expect(await sup.stop('massacre')).toBe(false);
  });

  it('leftovers of a run whose wrapper died (children still alive) are stopped, and start cleans them up', async () => {
    const st = await sup.start(spec('leftover', 'daemon', SH, ['-c', '/usr/bin/sleep 300 & echo spawned; exec /usr/bin/sleep 301']));
    await logHas('leftover', 'spawned');
    const kids = await until('sh and both sleeps', () => {
      const m = groupMembers(st.pid).filter((p) => p !== st.pid);
      return m.length === 2 && m.every((p) => cmdline(p)[0] === '/usr/bin/sleep') ? m : undefined;
    });
    process.kill(st.pid, 'SIGKILL'); // the wrapper alone
    await exited('leftover');
    expect(kids.every((p) => procStart(p) !== undefined)).toBe(true);
    // A new start of the same name first ends what the old run left (it would hold ports).
    const again = await sup.start(spec('leftover', 'daemon', '/usr/bin/sleep', ['302']));
    for (const p of kids) expect(procStart(p)).toBeUndefined();
    expect(again.state).toBe('running');
    expect(await sup.stop('leftover')).toBe(true);
    // And stop alone reaches leftovers too (no wrapper to go through).
    const third = await sup.start(spec('leftover', 'daemon', SH, ['-c', '/usr/bin/sleep 303 & echo spawned; wait']));
    await until('the grandchild', () => groupMembers(third.pid).some((p) => cmdline(p)[1] === '303'));
    process.kill(third.pid, 'SIGKILL');
    await exited('leftover');
    expect(groupLive(third.pid)).toBe(true);
    expect(await sup.stop('leftover')).toBe(true);
    expect(groupLive(third.pid)).toBe(false);
  });

  it('a live pid that is another process (other start time, or recorded before a reboot) is exited', async () => {
    const run = join(root, '.helfy/run');
    const mine = { kind: 'daemon', pid: process.pid, startedAt: Date.now() - 1000, labels: {}, commandLine: 'x', cwd: root, stopSignal: 'SIGTERM', graceS: 1 };
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(join(run, 'reused.json'), JSON.stringify({ ...mine, name: 'reused', procStart: '1', bootId: boot, logFile: join(root, '.helfy/logs/reused.log') }));
    writeFileSync(join(run, 'rebooted.json'), JSON.stringify({ ...mine, name: 'rebooted', procStart: procStart(process.pid), bootId: 'another-boot', logFile: join(root, '.helfy/logs/rebooted.log') }));
    // The control: the same pid with the right start time and boot is running.
    writeFileSync(join(run, 'control.json'), JSON.stringify({ ...mine, name: 'control', procStart: procStart(process.pid), bootId: boot, logFile: join(root, '.helfy/logs/control.log') }));
    const byName = new Map((await sup.list()).map((s) => [s.name, s]));
    expect(byName.get('reused')?.state).toBe('exited');
    expect(byName.get('rebooted')?.state).toBe('exited');
    expect(byName.get('control')?.state).toBe('running');
    // Never signal a process that is not ours.
    expect(await sup.stop('reused')).toBe(false);
    expect(await sup.stop('rebooted')).toBe(false);
    await sup.start(spec('reused', 'daemon', '/usr/bin/sleep', ['300'])).then((s) => expect(s.state).toBe('running'));
    await sup.stop('reused', { graceS: 2 });
    for (const n of ['reused', 'rebooted']) await sup.forget(n);
    rmSync(join(run, 'control.json'));
    expect(pidAlive(process.pid)).toBe(true);
  });
});

describe('detached from the starter', () => {
  function runStarter(code: string): { status: number | null; stdout: string; stderr: string; pid: number } {
    const file = join(root, `starter-${Date.now()}.mts`);
    writeFileSync(file, code);
    const r = spawnSync(NODE, ['--import', 'tsx', file], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid ?? -1 };
  }
  const sup_ = JSON.stringify(join(REPO, 'src/runtime/native/supervisor.ts'));

  it('a daemon survives the process that started it, and the test sees it running', async () => {
    const r = runStarter(`
      import { openSupervisor } from ${sup_};
      const s = await openSupervisor(${JSON.stringify(root)}).start({ name: 'orphan', kind: 'daemon', command: '/usr/bin/sleep', args: ['300'],
        env: { PATH: '/usr/bin:/bin' }, cwd: ${JSON.stringify(root)}, graceS: 2, labels: { by: 'starter' } });
      console.log(JSON.stringify(s));
    `);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const started = JSON.parse(r.stdout) as ProcessState;
    expect(pidAlive(r.pid)).toBe(false);
    expect(pidAlive(started.pid)).toBe(true);
    expect(procStat(started.pid)?.ppid).not.toBe(r.pid);
    const seen = await sup.get('orphan');
    expect(seen).toMatchObject({ state: 'running', pid: started.pid, labels: { by: 'starter' } });
    expect(await sup.stop('orphan')).toBe(true);
    expect((await sup.get('orphan'))!.state).toBe('exited');
  });

  it("a job's exit code is recorded after the starter is gone", async () => {
    const r = runStarter(`
      import { openSupervisor } from ${sup_};
      await openSupervisor(${JSON.stringify(root)}).start({ name: 'latejob', kind: 'job', command: '/bin/sh',
        args: ['-c', 'sleep 3; echo finished late; exit 7'], env: { PATH: '/usr/bin:/bin' }, cwd: ${JSON.stringify(root)}, graceS: 2, labels: {} });
    `);
    expect(r.status).toBe(0);
    expect((await sup.get('latejob'))?.state).toBe('running');
    const s = await exited('latejob');
    expect(s.exit).toMatchObject({ code: 7, signal: null });
    expect((await sup.readLog('latejob')).map((l) => l.text)).toEqual(['finished late']);
  });
});

describe('environment and user', () => {
  /**
   * Without the one variable Node itself adds: child_process always passes NODE_V8_COVERAGE on
   * when the parent has it, whatever `env` says (documented; it is how `npm test` collects the
   * coverage of child processes), so under coverage the child also sees it.
   */
  const nodeAdded = (lines: string[]) => lines.filter((l) => !(process.env.NODE_V8_COVERAGE && l === `NODE_V8_COVERAGE=${process.env.NODE_V8_COVERAGE}`));

  it('the process gets exactly spec.env (not helfy’s environment)', async () => {
    process.env.HELFY_SUPERVISOR_LEAK = 'leak';
    try {
      const env = { PATH: '/usr/bin:/bin', SECRET_PASSWORD: 's3cr=t with spaces', EMPTY: '' };
      await sup.start(spec('envjob', 'job', '/usr/bin/env', [], { env }));
      expect((await exited('envjob')).exit?.code).toBe(0);
      const lines = nodeAdded((await sup.readLog('envjob')).map((l) => l.text)).sort();
      expect(lines).toEqual(['EMPTY=', 'PATH=/usr/bin:/bin', 'SECRET_PASSWORD=s3cr=t with spaces']);
      // Secrets are passed through the environment, never on a command line or in the state file.
      expect(readFileSync(join(root, '.helfy/run/envjob.json'), 'utf8')).not.toContain('s3cr=t');
    } finally {
      delete process.env.HELFY_SUPERVISOR_LEAK;
    }
  });

  it('PWD is passed when the spec has it', async () => {
    await sup.start(spec('pwdjob', 'job', '/usr/bin/env', [], { env: { PWD: root } }));
    await exited('pwdjob');
    expect(nodeAdded((await sup.readLog('pwdjob')).map((l) => l.text))).toEqual([`PWD=${root}`]);
  });

  const root_ = typeof process.getuid === 'function' && process.getuid() === 0;
  it(root_ ? 'as root, `user: postgres` runs the process as postgres, and the log is theirs' : 'as a regular user, `user` is ignored (runs as us)', async () => {
    const dir = join(root, 'userwork');
    mkdirSync(dir, { recursive: true });
    await sup.start(spec('whoami', 'job', '/usr/bin/id', ['-un'], { user: 'postgres', cwd: '/tmp' }));
    await exited('whoami');
    const me = spawnSync('/usr/bin/id', ['-un'], { encoding: 'utf8' }).stdout.trim();
    const expected = root_ ? 'postgres' : me;
    expect((await sup.readLog('whoami')).map((l) => l.text)).toEqual([expected]);
    const pgUid = Number(spawnSync('/usr/bin/id', ['-u', expected], { encoding: 'utf8' }).stdout.trim());
    expect(statSync(join(root, '.helfy/logs/whoami.log')).uid).toBe(pgUid);
    if (root_) {
      // A daemon too: its process (not the wrapper) runs as postgres.
      const st = await sup.start(spec('pgsleep', 'daemon', '/usr/bin/sleep', ['300'], { user: 'postgres', cwd: '/tmp' }));
      const child = await serviceChild(st.pid);
      const uid = readFileSync(`/proc/${child}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1];
      expect(Number(uid)).toBe(pgUid);
      expect(await sup.stop('pgsleep')).toBe(true);
      expect((await sup.get('pgsleep'))!.exit).toMatchObject({ signal: 'SIGTERM' });
    }
  });

  it('runs a real PostgreSQL: initdb as a job, the server as a daemon (as postgres when root), SIGINT stop is a clean shutdown', async () => {
    const bin = ['/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'].find((d) => existsSync(join(d, 'postgres')));
    expect(bin, 'a Debian PostgreSQL server (the test services use it too)').toBeDefined();
    chmodSync(root, 0o711);
    const data = join(root, '.helfy/data/pgtest');
    mkdirSync(sup.dirs.data, { recursive: true });
    mkdirSync(data, { mode: 0o700 });
    const user = root_ ? 'postgres' : undefined;
    if (user) {
      const uid = Number(spawnSync('/usr/bin/id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
      const gid = Number(spawnSync('/usr/bin/id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
      chownSync(data, uid, gid);
    }
    const env = { PATH: `${bin}:/usr/bin:/bin`, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
    await sup.start(spec('pginit', 'job', join(bin!, 'initdb'), ['-D', data, '-U', 'helfy', '--auth=trust', '-E', 'UTF8'], { env, user, cwd: data }));
    const init = await until('initdb', async () => {
      const s = await sup.get('pginit');
      return s?.state === 'exited' ? s : undefined;
    }, 60_000);
    expect(init.exit, (await sup.readLog('pginit')).map((l) => l.text).join('\n')).toMatchObject({ code: 0 });
    await sup.start(spec('pgtest', 'daemon', join(bin!, 'postgres'), ['-D', data, '-c', "listen_addresses=", '-c', `unix_socket_directories=${data}`], { env, user, cwd: data, stopSignal: 'SIGINT', graceS: 30 }));
    await until('PostgreSQL ready', async () => (await sup.readLog('pgtest')).some((l) => l.text.includes('ready to accept connections')), 60_000);
    expect((await sup.get('pgtest'))!.state).toBe('running');
    expect(await sup.stop('pgtest')).toBe(true);
    const s = (await sup.get('pgtest'))!;
    expect(s.exit).toMatchObject({ code: 0, signal: null });
    const log = (await sup.readLog('pgtest')).map((l) => l.text);
    expect(log.some((t) => t.includes('fast shutdown request'))).toBe(true);
    expect(log.some((t) => t.includes('database system is shut down'))).toBe(true);
  });

  it('an unknown user is a clear error when running as root', async () => {
    if (!root_) {
      expect(root_).toBe(false);
      return;
    }
    const err = await sup.start(spec('nouser', 'job', '/usr/bin/true', [], { user: 'no-such-user-helfy' })).catch((e) => e);
    expect(err).toBeInstanceOf(HelfyError);
    expect(err.message).toContain('no-such-user-helfy');
  });
});

describe('logs', () => {
  const line = (i: number) => `line ${String(i).padStart(5, '0')} ${'x'.repeat(80)}`;

  it('rotates a log over the threshold at start, keeps 3, and reads the tail across one rotation', async () => {
    const logs = join(root, '.helfy/logs');
    // 100 lines ≈ 9.4 KB > 4096 B: each run rotates the previous one away.
    const script = (from: number) => `i=${from}; while [ $i -lt ${from + 100} ]; do printf 'line %05d ${'x'.repeat(80)}\\n' $i; i=$((i+1)); done`;
    for (let run = 0; run < 5; run++) {
      await sup.start(spec('chatty', 'job', SH, ['-c', script(run * 100)]));
      expect((await exited('chatty')).exit?.code).toBe(0);
    }
    // Runs 0..4 wrote logs; the current holds run 4, .1 run 3, .2 run 2, .3 run 1; run 0 was dropped.
    const first = (f: string) => readFileSync(join(logs, f), 'utf8').split('\n')[0];
    expect(first('chatty.log')).toBe(line(400));
    expect(first('chatty.log.1')).toBe(line(300));
    expect(first('chatty.log.2')).toBe(line(200));
    expect(first('chatty.log.3')).toBe(line(100));
    expect(() => statSync(join(logs, 'chatty.log.4'))).toThrow();
    const tail = (await sup.readLog('chatty', { tail: 150 })).map((l) => l.text);
    expect(tail).toHaveLength(150);
    expect(tail[0]).toBe(line(350));
    expect(tail[149]).toBe(line(499));
    expect((await sup.readLog('chatty', { tail: 3 })).map((l) => l.text)).toEqual([line(497), line(498), line(499)]);
    // No tail: the current log and one rotation.
    expect((await sup.readLog('chatty')).map((l) => l.text)).toHaveLength(200);
    expect(await sup.readLog('no-log-here', { tail: 10 })).toEqual([]);
  });

  it('a log under the threshold is appended to, not rotated', async () => {
    await sup.start(spec('small', 'job', SH, ['-c', 'echo one']));
    await exited('small');
    await sup.start(spec('small', 'job', SH, ['-c', 'echo two']));
    await exited('small');
    expect((await sup.readLog('small')).map((l) => l.text)).toEqual(['one', 'two']);
    expect(() => statSync(join(root, '.helfy/logs/small.log.1'))).toThrow();
  });

  it('followLog shows the tail, then new lines as they are written, and stops on abort', async () => {
    const script = "let i = 0; console.log('start'); const t = setInterval(() => { console.log('tick ' + (++i)); if (i === 5) process.stdout.write('partial-'); if (i >= 6) { clearInterval(t); } }, 150);";
    await sup.start(spec('ticker', 'daemon', NODE, ['-e', script]));
    await logHas('ticker', 'start');
    const seen: string[] = [];
    const ac = new AbortController();
    const following = sup.followLog('ticker', { tail: 1 }, (l) => {
      expect(l.stream).toBe('stdout');
      seen.push(l.text);
    }, ac.signal);
    await until('tick 6 in the follow', () => seen.includes('partial-tick 6'));
    ac.abort();
    await following;
    expect(seen[0]).toBe('start');
    expect(seen.slice(seen.indexOf('tick 1'))).toEqual(['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5', 'partial-tick 6']);
    const n = seen.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.length).toBe(n);
    await sup.stop('ticker', { graceS: 2 });
  });

  it('followLog with tail 0 shows only lines written after it began', async () => {
    const seen: string[] = [];
    const ac = new AbortController();
    await sup.start(spec('oldlines', 'job', SH, ['-c', 'echo old']));
    await exited('oldlines');
    const following = sup.followLog('oldlines', { tail: 0 }, (l) => seen.push(l.text), ac.signal);
    await new Promise((r) => setTimeout(r, 200));
    await sup.start(spec('oldlines', 'job', SH, ['-c', 'echo new']));
    await until('the new line', () => seen.includes('new'));
    ac.abort();
    await following;
    expect(seen).toEqual(['new']);
  });
});

/** A helfy-like child process (tsx) whose stdout lines are collected as they come. */
function child(code: string, o: { user?: string } = {}) {
  const file = join(root, `child-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.mts`);
  writeFileSync(file, code);
  chmodSync(file, 0o644);
  const argv = [NODE, '--import', 'tsx', file];
  const cmd = o.user ? ['/usr/bin/setpriv', `--reuid=${o.user}`, `--regid=${o.user}`, '--clear-groups', ...argv] : argv; // numeric ids
  const p = spawn(cmd[0]!, cmd.slice(1), { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: '/tmp' } });
  const lines: string[] = [];
  let stderr = '';
  let buf = '';
  p.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((r) => p.on('close', (c) => r(c)));
  return { pid: p.pid!, lines, done, stderr: () => stderr, json: () => lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) };
}

const SUP_SRC = JSON.stringify(join(REPO, 'src/runtime/native/supervisor.ts'));
/** A child that waits for `go`, then holds the lock for `holdMs` (or reports the error), as JSON lines. */
const lockChild = (go: string, what: string, waitMs: number, holdMs: number) => `
  import { existsSync } from 'node:fs';
  import { openSupervisor } from ${SUP_SRC};
  console.log('ready');
  while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 2));
  const s = openSupervisor(${JSON.stringify(root)});
  try {
    await s.withLock(${JSON.stringify(what)}, async () => {
      console.log(JSON.stringify({ got: process.pid, at: Date.now() }));
      await new Promise((r) => setTimeout(r, ${holdMs}));
      console.log(JSON.stringify({ released: process.pid, at: Date.now() }));
    }, { waitMs: ${waitMs} });
  } catch (e) {
    console.log(JSON.stringify({ err: e.message, code: e.code, hint: e.hint, data: e.data }));
  }
`;

async function race(n: number, waitMs: number, holdMs: number) {
  const go = join(root, `go-${Date.now()}`);
  const kids = Array.from({ length: n }, (_, i) => child(lockChild(go, `racer ${i}`, waitMs, holdMs)));
  await until('the racers to be ready', () => kids.every((k) => k.lines.includes('ready')), 60_000);
  writeFileSync(go, '');
  for (const k of kids) expect(await k.done, k.stderr()).toBe(0);
  return kids.map((k, i) => ({ pid: k.pid, what: `racer ${i}`, events: k.json() }));
}

describe('the workspace lock (withLock)', () => {
  const lockPath = () => join(root, '.helfy/run/.lock');

  it('two processes at once: one holds it, the other (waitMs 0) gets an error naming the holder', async () => {
    const [a, b] = await race(2, 0, 1500);
    const winners = [a!, b!].filter((k) => k.events.some((e) => e.got));
    const losers = [a!, b!].filter((k) => k.events.some((e) => e.err));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const w = winners[0]!;
    const err = losers[0]!.events.find((e) => e.err)!;
    expect(err.code).toBe('OPERATION_FAILED');
    expect(err.err).toMatch(new RegExp(`^another helfy \\(pid ${w.pid}: ${w.what}, since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\) is working on this workspace$`));
    expect(err.hint).toContain(`kill ${w.pid}`);
    expect(err.data).toMatchObject({ pid: w.pid, what: w.what });
    expect(existsSync(lockPath())).toBe(false);
  });

  it('with waitMs the second one waits and gets it after the first released it (never both at once)', async () => {
    const kids = await race(2, 20_000, 700);
    const spans = kids.map((k) => ({ got: k.events.find((e) => e.got)?.at as number, released: k.events.find((e) => e.released)?.at as number }));
    expect(spans.every((s) => s.got > 0 && s.released >= s.got)).toBe(true);
    spans.sort((x, y) => x.got - y.got);
    expect(spans[1]!.got).toBeGreaterThanOrEqual(spans[0]!.released);
    expect(existsSync(lockPath())).toBe(false);
  });

  it('lockHolder names another live holder, never this process, and nothing once it released', async () => {
    const go = join(root, `go-${Date.now()}`);
    const k = child(lockChild(go, 'holding for lockHolder', 0, 2500));
    await until('the child to be ready', () => k.lines.includes('ready'), 60_000);
    expect(await sup.lockHolder()).toBeUndefined();
    writeFileSync(go, '');
    await until('the child to hold the lock', () => k.json().some((e) => e.got), 30_000);
    expect(await sup.lockHolder()).toMatchObject({ pid: k.pid, what: 'holding for lockHolder' });
    expect(await k.done, k.stderr()).toBe(0);
    expect(await sup.lockHolder()).toBeUndefined();
    expect(await sup.withLock('mine', () => sup.lockHolder())).toBeUndefined();
  });

  it('a stale lock (dead holder, or a reused pid) is taken over; the lock names the new holder while held', async () => {
    mkdirSync(join(root, '.helfy/run'), { recursive: true });
    const dead = spawnSync('/bin/true').pid!;
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    for (const stale of [
      { pid: dead, procStart: '12345', bootId: boot },
      { pid: process.pid, procStart: '1', bootId: boot }, // our pid, another start time: reused
      { pid: process.pid, procStart: procStart(process.pid), bootId: 'before-a-reboot' },
    ]) {
      writeFileSync(lockPath(), JSON.stringify({ ...stale, what: 'up', at: Date.now() - 60_000, token: 'old' }));
      expect(await sup.lockHolder()).toBeUndefined();
      const seen = await sup.withLock('migrating', async () => JSON.parse(readFileSync(lockPath(), 'utf8')));
      expect(seen).toMatchObject({ pid: process.pid, procStart: procStart(process.pid), what: 'migrating' });
      expect(seen.token).not.toBe('old');
      expect(existsSync(lockPath())).toBe(false);
    }
    // An unreadable lock file is not a holder either.
    writeFileSync(lockPath(), 'garbage');
    expect(await sup.withLock('after garbage', async () => 7)).toBe(7);
  });

  it('three processes racing for one stale lock: exactly one takes it over', async () => {
    mkdirSync(join(root, '.helfy/run'), { recursive: true });
    const dead = spawnSync('/bin/true').pid!;
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(lockPath(), JSON.stringify({ pid: dead, procStart: '12345', bootId: boot, what: 'up', at: Date.now(), token: 'stale' }));
    const kids = await race(3, 0, 2500);
    const winners = kids.filter((k) => k.events.some((e) => e.got));
    expect(winners).toHaveLength(1);
    for (const l of kids.filter((k) => k !== winners[0])) {
      expect(l.events.find((e) => e.err)?.err).toContain(`pid ${winners[0]!.pid}: ${winners[0]!.what}`);
    }
    expect(existsSync(lockPath())).toBe(false);
    expect(existsSync(join(root, '.helfy/run/.lock.takeover'))).toBe(false);
  });

  it('re-entrant in one call chain; a concurrent call of the same process waits or is refused; released when fn throws', async () => {
    const order: string[] = [];
    const outer = sup.withLock('outer', async () => {
      // Nested (also through start/stop, which take the lock themselves): runs at once.
      const inner = await sup.withLock('inner', async () => 'inner ran');
      const st = await sup.start(spec('nested', 'daemon', '/usr/bin/sleep', ['300']));
      expect(await sup.stop('nested', { graceS: 2 })).toBe(true);
      expect(st.state).toBe('running');
      await sleep(600);
      order.push('outer done');
      return inner;
    });
    await sleep(100);
    // A call of another call chain (not inside the outer fn) is another user of the workspace.
    const refused = await sup.withLock('sibling', async () => 1).catch((e) => e);
    expect(refused).toBeInstanceOf(HelfyError);
    expect(refused.message).toMatch(/^this helfy \(pid \d+\) is already working on this workspace: outer, since /);
    const waiter = sup.withLock('waiter', async () => order.push('waiter'), { waitMs: 10_000 });
    expect(await outer).toBe('inner ran');
    await waiter;
    expect(order).toEqual(['outer done', 'waiter']);
    const boom = await sup.withLock('failing', async () => {
      throw new Error('boom');
    }).catch((e) => e);
    expect(boom.message).toBe('boom');
    expect(existsSync(lockPath())).toBe(false);
    await sup.forget('nested');
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('review fixes: races, copied workspaces, stops that fail, planted symlinks', () => {
  it('two processes starting one name at once: one starts it, the other is refused naming that pid; one process runs', async () => {
    const go = join(root, `go-start-${Date.now()}`);
    const marker = `30${Math.floor(Math.random() * 9000 + 1000)}`;
    const code = `
      import { existsSync } from 'node:fs';
      import { openSupervisor } from ${SUP_SRC};
      console.log('ready');
      while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 2));
      try {
        const s = await openSupervisor(${JSON.stringify(root)}).start({ name: 'twin', kind: 'daemon', command: '/usr/bin/sleep', args: [${JSON.stringify(marker)}],
          env: { PATH: '/usr/bin:/bin' }, cwd: ${JSON.stringify(root)}, graceS: 2, labels: {} });
        console.log(JSON.stringify({ started: s.pid }));
      } catch (e) { console.log(JSON.stringify({ err: e.message, code: e.code })); }
    `;
    const kids = [child(code), child(code)];
    await until('both starters ready', () => kids.every((k) => k.lines.includes('ready')), 60_000);
    writeFileSync(go, '');
    for (const k of kids) expect(await k.done, k.stderr()).toBe(0);
    const ev = kids.flatMap((k) => k.json());
    const started = ev.filter((e) => e.started);
    expect(started).toHaveLength(1);
    expect(ev.find((e) => e.err)).toMatchObject({ code: 'OPERATION_FAILED', err: `twin is already running (pid ${started[0].started})` });
    const sleeps = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && cmdline(Number(p)).join(' ') === `/usr/bin/sleep ${marker}`);
    expect(sleeps).toHaveLength(1);
    expect(await sup.get('twin')).toMatchObject({ state: 'running', pid: started[0].started });
  });

  it("another run's exit record (an orphan's wrapper) never marks the tracked run exited", async () => {
    const run = join(root, '.helfy/run');
    const file = JSON.parse(readFileSync(join(run, 'twin.json'), 'utf8'));
    expect(file.runId).toMatch(/^[0-9a-f]{12}$/);
    // What the wrapper of another run of `twin` writes when it ends, and the old shared name.
    writeFileSync(join(run, 'twin.0123456789ab.exit'), '{"code":null,"signal":"SIGTERM"}\n');
    writeFileSync(join(run, 'twin.exit'), '{"code":0,"signal":null}\n');
    expect((await sup.get('twin'))!.state).toBe('running');
    expect(await sup.stop('twin')).toBe(true);
    expect((await sup.get('twin'))!.exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(existsSync(join(run, `twin.${file.runId}.exit`))).toBe(true);
    await sup.forget('twin');
    expect(readdirSync(run).filter((f) => f.startsWith('twin.'))).toEqual([]);
  });

  it('a state file copied into another workspace is not ours there: exited, never signalled; the original keeps it', async () => {
    const st = await sup.start(spec('copyme', 'daemon', '/usr/bin/sleep', ['300']));
    const ws3 = mkdtempSync(join(tmpdir(), 'helfy-sup-copy-'));
    try {
      mkdirSync(join(ws3, '.helfy/run'), { recursive: true });
      for (const f of readdirSync(join(root, '.helfy/run')).filter((f) => f.startsWith('copyme.'))) {
        writeFileSync(join(ws3, '.helfy/run', f), readFileSync(join(root, '.helfy/run', f)));
      }
      const sup3 = openSupervisor(ws3);
      const seen = (await sup3.get('copyme'))!;
      expect(seen.state).toBe('exited');
      expect(seen.exit).toBeUndefined();
      expect((await sup3.list()).find((s) => s.name === 'copyme')?.state).toBe('exited');
      expect(await sup3.stop('copyme', { graceS: 1 })).toBe(false);
      await sup3.forget('copyme');
      expect(procStart(st.pid)).toBeDefined();
      expect((await sup.get('copyme'))!.state).toBe('running');
      // The same workspace through a symlink is the same workspace (the root is a realpath).
      const link = join(ws3, 'alias');
      symlinkSync(root, link);
      expect((await openSupervisor(link).get('copyme'))!.state).toBe('running');
    } finally {
      rmSync(ws3, { recursive: true, force: true });
    }
    expect(JSON.parse(readFileSync(join(root, '.helfy/run/copyme.json'), 'utf8')).root).toBe(realpathSync(root));
    expect(await sup.stop('copyme')).toBe(true);
    await sup.forget('copyme');
  });

  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  it(asRoot ? 'stop that is not allowed (nobody stopping a root process): OPERATION_FAILED naming the pid, nothing recorded, still tracked' : 'stop of a process not ours to signal fails (needs root to set up: checked as root)', async () => {
    expect(asRoot, 'this test runs as root here (the supervisor tests need a second user)').toBe(true);
    const st = await sup.start(spec('rootproc', 'daemon', '/usr/bin/sleep', ['300']));
    chmodSync(root, 0o755);
    chmodSync(join(root, '.helfy/run'), 0o777); // nobody may take the lock, not signal root's process
    const k = child(`
      import { openSupervisor } from ${SUP_SRC};
      try { console.log(JSON.stringify({ stopped: await openSupervisor(${JSON.stringify(root)}).stop('rootproc', { graceS: 1 }) })); }
      catch (e) { console.log(JSON.stringify({ err: e.message, code: e.code, hint: e.hint })); }
      try { await openSupervisor(${JSON.stringify(root)}).forget('rootproc'); console.log(JSON.stringify({ forgotten: true })); }
      catch (e) { console.log(JSON.stringify({ forgetErr: e.message })); }
    `, { user: '65534' }); // nobody:nogroup
    expect(await k.done, k.stderr()).toBe(0);
    chmodSync(join(root, '.helfy/run'), 0o755);
    const [stopped, forgot] = k.json();
    expect(stopped.code).toBe('OPERATION_FAILED');
    expect(stopped.err).toMatch(new RegExp(`^could not stop rootproc \\(pid ${st.pid}\\): not allowed to signal \\d+`));
    expect(stopped.hint).toMatch(/run helfy as the user that started it/);
    expect(forgot.forgetErr).toContain(`rootproc is still running (pid ${st.pid})`);
    expect(procStart(st.pid)).toBeDefined();
    const now = (await sup.get('rootproc'))!;
    expect(now.state).toBe('running');
    expect(now.exit).toBeUndefined();
    expect(readdirSync(join(root, '.helfy/run')).filter((f) => f.startsWith('rootproc.') && f.endsWith('.exit'))).toEqual([]);
    expect(await sup.stop('rootproc')).toBe(true);
    await sup.forget('rootproc');
  });

  it('a state file whose pid is no process-group id (0, 1, negative) is never trusted, never signalled', async () => {
    const run = join(root, '.helfy/run');
    mkdirSync(run, { recursive: true });
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    for (const pid of [1, 0, -1]) {
      writeFileSync(join(run, 'initproc.json'), JSON.stringify({ name: 'initproc', kind: 'daemon', pid, procStart: procStart(1), bootId: boot, root: realpathSync(root), labels: {}, stopSignal: 'SIGTERM', graceS: 1, logFile: '' }));
      expect(await sup.get('initproc')).toBeUndefined();
      expect((await sup.list()).map((s) => s.name)).not.toContain('initproc');
      expect(await sup.stop('initproc')).toBe(false);
    }
    expect(procStart(1)).toBeDefined();
    rmSync(join(run, 'initproc.json'));
  });

  it('a symlink planted at the log path is refused: nothing written or chowned through it', async () => {
    const victim = join(root, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    chmodSync(victim, 0o600);
    const before = statSync(victim);
    mkdirSync(join(root, '.helfy/logs'), { recursive: true });
    const log = join(root, '.helfy/logs/planted.log');
    symlinkSync(victim, log);
    const err = await sup.start(spec('planted', 'job', '/usr/bin/id', ['-un'], { user: 'postgres', cwd: '/tmp' })).catch((e) => e);
    expect(err).toBeInstanceOf(HelfyError);
    expect(err.code).toBe('OPERATION_FAILED');
    expect(err.message).toBe(`planted: its log ${log} is a symbolic link; refusing to write through it`);
    expect(err.hint).toContain(`rm ${log}`);
    const after = statSync(victim);
    expect([after.uid, after.gid, after.mode, readFileSync(victim, 'utf8')]).toEqual([before.uid, before.gid, before.mode, 'precious\n']);
    expect(await sup.get('planted')).toBeUndefined();
    rmSync(log);
  });
});
