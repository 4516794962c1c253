/**
 * Process logs (`.helfy/logs/<name>.log`, rotated to `.log.1` … `.log.3` when a process (re)starts
 * with one over the threshold): opening one for the process without following a planted symlink,
 * rotation, the tail across one rotation, and following new lines.
 */
import { closeSync, constants as fsc, existsSync, fchownSync, fstatSync, openSync } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { HelfyError } from '../../../core/errors.js';
import type { LogLine } from '../types.js';
import { isErrno } from './files.js';
import { logFile, type SupervisorPaths } from './paths.js';

/** Logs larger than this are rotated when their process (re)starts. */
export const ROTATE_BYTES = 10 * 1024 * 1024;
/** Rotated logs kept: `<name>.log.1` … `.log.3`. */
export const ROTATE_KEEP = 3;

/** `text` split into lines: `\r\n` endings trimmed, no empty last line for a final newline. */
export function splitLines(text: string): string[] {
  if (!text) return [];
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The last `n` lines of `file` (read from the end in chunks; a missing file has none). */
export async function tailLines(file: string, n: number): Promise<string[]> {
  if (n <= 0) return [];
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = (await fh.stat()).size;
    const chunk = 64 * 1024;
    let pos = size;
    let text = '';
    let newlines = 0;
    while (pos > 0 && newlines <= n) {
      const len = Math.min(chunk, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      const s = buf.toString('latin1');
      for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) newlines++;
      text = s + text;
    }
    const lines = splitLines(Buffer.from(text, 'latin1').toString('utf8'));
    return lines.slice(-n);
  } finally {
    await fh.close();
  }
}

/** Every line of `file` (a missing file has none). */
export async function allLines(file: string): Promise<string[]> {
  try {
    return splitLines(await readFile(file, 'utf8'));
  } catch {
    return [];
  }
}

/** Rotates `file` when it is larger than `rotateBytes`: `.1` → `.2` … (the oldest, `.3`, dropped), the file → `.1`. */
export async function rotateLog(file: string, rotateBytes: number): Promise<void> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    return;
  }
  if (size <= rotateBytes) return;
  await rm(`${file}.${ROTATE_KEEP}`, { force: true });
  for (let i = ROTATE_KEEP - 1; i >= 1; i--) {
    if (existsSync(`${file}.${i}`)) await rename(`${file}.${i}`, `${file}.${i + 1}`);
  }
  await rename(file, `${file}.1`);
}

/** Opens the log for appending without following a symlink planted at its name; owned by `ids` when given (fchown of the fd). */
export function openLog(name: string, file: string, ids: { uid: number; gid: number } | undefined): number {
  let fd: number;
  try {
    fd = openSync(file, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT | fsc.O_NOFOLLOW | fsc.O_NONBLOCK, 0o640);
  } catch (e) {
    if (isErrno(e, 'ELOOP')) {
      throw new HelfyError('OPERATION_FAILED', `${name}: its log ${file} is a symbolic link; refusing to write through it`, {
        hint: `remove it (rm ${file}) and start again`,
      });
    }
    throw e;
  }
  try {
    if (!fstatSync(fd).isFile()) {
      throw new HelfyError('OPERATION_FAILED', `${name}: its log ${file} is not a regular file`, { hint: `remove it (rm ${file}) and start again` });
    }
    if (ids) fchownSync(fd, ids.uid, ids.gid);
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Supervisor.readLog (the name already checked): the last lines of its log, across one rotation. */
export async function readLog(p: SupervisorPaths, name: string, o: { tail?: number } = {}): Promise<LogLine[]> {
  const f = logFile(p, name);
  let lines: string[];
  if (o.tail === undefined) {
    lines = [...(await allLines(`${f}.1`)), ...(await allLines(f))];
  } else {
    lines = await tailLines(f, o.tail);
    if (lines.length < o.tail) lines = [...(await tailLines(`${f}.1`, o.tail - lines.length)), ...lines];
  }
  return lines.map((text) => ({ stream: 'stdout' as const, text }));
}

/** The size of `file`; -1 when it does not exist. */
export async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return -1;
  }
}

/** Waits `ms`, or less when `signal` aborts meanwhile. */
export function pollWait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((r) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      r();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Supervisor.followLog (the name already checked): the tail, then each new line every `pollMs` until `signal` aborts. */
export async function followLog(p: SupervisorPaths, name: string, o: { tail?: number }, onLine: (l: LogLine) => void, signal: AbortSignal, pollMs: number): Promise<void> {
  const f = logFile(p, name);
  // The size before the tail is read: a line written in between is shown twice rather than never.
  let pos = Math.max(0, await fileSize(f));
  if (o.tail === undefined || o.tail > 0) (await readLog(p, name, { tail: o.tail })).forEach(onLine);
  let partial = '';
  const emit = (text: string) => onLine({ stream: 'stdout', text });
  while (!signal.aborted) {
    const size = await fileSize(f);
    if (size >= 0 && size < pos) pos = 0; // truncated or replaced (a restart rotated it)
    if (size > pos) {
      const fh = await open(f, 'r');
      try {
        const len = size - pos;
        const buf = Buffer.alloc(len);
        const { bytesRead } = await fh.read(buf, 0, len, pos);
        pos += bytesRead;
        const text = partial + buf.subarray(0, bytesRead).toString('utf8');
        const parts = text.split('\n');
        partial = parts.pop() ?? '';
        for (const l of parts) emit(l.replace(/\r$/, ''));
      } finally {
        await fh.close();
      }
      continue;
    }
    await pollWait(pollMs, signal);
  }
  if (partial) emit(partial);
}
