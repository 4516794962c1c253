/** vitest globalSetup: each run starts with no recorded lock waits (./lock.ts appends to the file). */
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export default function setup(): void {
  rmSync(join(import.meta.dirname, '../../../test-artifacts/parallel-waits.jsonl'), { force: true });
}
