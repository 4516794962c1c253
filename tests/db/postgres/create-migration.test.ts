/**
 * `helfy migrate create <name>`: createPostgresMigration runs the real drizzle-kit generate, here
 * in a temp copy of the project (config, schema, migrations; node_modules linked) so the repo's
 * migrations folder is never touched.
 */
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresMigration, readMigrationFiles } from '../../../src/db/postgres/migrate.js';
import { tempDir } from './fixtures.js';

const ROOT = resolve(import.meta.dirname, '../../..');
let project: { dir: string; cleanup: () => void };

beforeAll(() => {
  project = tempDir('kit');
  const p = project.dir;
  cpSync(join(ROOT, 'drizzle.config.ts'), join(p, 'drizzle.config.ts'));
  mkdirSync(join(p, 'templates/api/src/db'), { recursive: true });
  cpSync(join(ROOT, 'templates/api/src/db/schema.ts'), join(p, 'templates/api/src/db/schema.ts'));
  cpSync(join(ROOT, 'migrations/postgres'), join(p, 'migrations/postgres'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(p, 'node_modules'), 'dir');
});

afterAll(() => project?.cleanup());

describe('createPostgresMigration (drizzle-kit generate)', () => {
  it('finds no changes between the schema and the committed migrations', async () => {
    const r = await createPostgresMigration({ projectDir: project.dir, name: 'nothing' });
    expect(r.created).toEqual([]);
    expect(r.output).toMatch(/No schema changes/);
  }, 60_000);

  it('creates a custom migration with the normalised name, listed in the journal', async () => {
    const r = await createPostgresMigration({ projectDir: project.dir, name: 'Add goals', custom: true });
    const n = readMigrationFiles(join(ROOT, 'migrations/postgres')).length;
    const tag = `${String(n).padStart(4, '0')}_add_goals`;
    expect(r.created).toEqual([join(project.dir, 'migrations/postgres', `${tag}.sql`)]);
    expect(readMigrationFiles(join(project.dir, 'migrations/postgres')).at(-1)?.tag).toBe(tag);
    expect(readFileSync(r.created[0]!, 'utf8')).toMatch(/Custom SQL migration/);
  }, 60_000);
});
