/**
 * Writing one file so that a reader sees the old content or the new one, never a half-written
 * file: a temporary name in the same folder, then rename(2). The temporary file is removed when
 * the write fails (a full disk, a permission).
 */
import { rmSync, renameSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function tempBeside(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.tmp`);
}

export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = tempBeside(file);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: { mode?: number } = {}): Promise<void> {
  const tmp = tempBeside(file);
  try {
    await writeFile(tmp, data, opts.mode === undefined ? {} : { mode: opts.mode });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
