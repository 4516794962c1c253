/**
 * drizzle-kit's migration files on disk: the journal and the SQL files it lists, read exactly as
 * drizzle-orm reads them (same hashes). No driver here: the export (src/export) embeds the files
 * without loading pg.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HelfyError } from '../../core/errors.js';

/** A line that makes a file run outside a transaction. */
export const NO_TRANSACTION_MARKER = /^[ \t]*--[ \t]*helfy:no-transaction[ \t]*$/m;

export interface JournalEntry {
  idx: number;
  version: string;
  when: number;
  tag: string;
  breakpoints: boolean;
}

export interface MigrationFile {
  idx: number;
  tag: string;
  when: number;
  path: string;
  /** null when the journal names a file that does not exist. */
  content: string | null;
  hash: string | null;
  noTransaction: boolean;
}

/** Reads drizzle-kit's journal and the files it lists (in journal order). */
export function readMigrationFiles(dir: string): MigrationFile[] {
  const journalPath = join(dir, 'meta', '_journal.json');
  let journal: { entries?: JournalEntry[] };
  try {
    journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries?: JournalEntry[] };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new HelfyError('FS_ERROR', code === 'ENOENT' ? `no migration journal at ${journalPath}` : `cannot read ${journalPath}: ${(e as Error).message}`, {
      hint: code === 'ENOENT' ? 'Create the first migration with `helfy migrate create <name>` (drizzle-kit generate).' : 'The journal is written by drizzle-kit; restore it from git.',
      cause: e,
    });
  }
  if (!Array.isArray(journal.entries)) {
    throw new HelfyError('FS_ERROR', `${journalPath}: no "entries" array`, { hint: 'The journal is written by drizzle-kit; restore it from git.' });
  }
  return journal.entries.map((e, i) => {
    const path = join(dir, `${e.tag}.sql`);
    const content = existsSync(path) ? readFileSync(path).toString() : null;
    return {
      idx: typeof e.idx === 'number' ? e.idx : i,
      tag: e.tag,
      when: Number(e.when),
      path,
      content,
      // Exactly drizzle-orm's readMigrationFiles: sha256 over the file read as a string.
      hash: content === null ? null : sha256(content),
      noTransaction: content !== null && NO_TRANSACTION_MARKER.test(content),
    };
  });
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
