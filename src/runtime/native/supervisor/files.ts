/**
 * Small file helpers of the supervisor: JSON that may be missing or broken, errno checks, a file
 * created exclusively (complete when its name appears), and the pid check every record passes.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';

/** The parsed JSON of `file`; undefined when it is missing or not JSON. */
export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function isErrno(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === code;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates `file` holding `data` only when no file of that name exists, and complete at the moment
 * its name appears: the content goes to a temp file first, then link(2) gives it the name. link
 * fails with EEXIST exactly like open(O_CREAT|O_EXCL), but a reader never sees a half-written lock.
 * False when the name is taken.
 */
export async function createExclusive(file: string, data: string): Promise<boolean> {
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { flag: 'wx', mode: 0o644 });
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** A state file's pid is a real process-group id: 0, 1 and negatives would signal everything. */
export function validPid(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isInteger(pid) && pid > 1;
}
