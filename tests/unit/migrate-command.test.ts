import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextNeo4jFile } from '../../src/commands/migrate.js';
import { helfy, tempDir } from '../helpers/cli.js';

describe('helfy migrate (no server needed)', () => {
  it('names the next Neo4j file after the highest version', () => {
    expect(nextNeo4jFile(['V001__a.cypher', 'V010__b.cypher', 'README.md'], 'Routine index!')).toBe('V011__routine_index.cypher');
    expect(nextNeo4jFile([], 'first')).toBe('V001__first.cypher');
    expect(() => nextNeo4jFile([], '***')).toThrow(/invalid migration name/);
  });

  it('create --neo4j writes the next file into HELFY_MIGRATIONS_DIR', async () => {
    const ws = tempDir();
    await helfy(['init', '--yes'], { cwd: ws });
    const r = await helfy(['migrate', 'create', 'routine tags', '--neo4j', '--json'], { cwd: ws, env: { HELFY_MIGRATIONS_DIR: 'db' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toEqual({ store: 'neo4j', created: [join(ws, 'db', 'neo4j', 'V001__routine_tags.cypher')] });
    expect(readdirSync(join(ws, 'db', 'neo4j'))).toEqual(['V001__routine_tags.cypher']);
    expect(readFileSync(r.json.created[0], 'utf8')).toMatch(/^\/\/ routine tags/);
  });

  it('--target needs --store, and a Neo4j target must be a number (exit 2)', async () => {
    const ws = tempDir();
    await helfy(['init', '--yes'], { cwd: ws });
    const a = await helfy(['migrate', 'up', '--target', '0001'], { cwd: ws });
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--target needs one store');
    const b = await helfy(['migrate', 'up', '--store', 'neo4j', '--target', 'abc'], { cwd: ws });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('is not a Neo4j version number');
    const c = await helfy(['migrate', 'up', '--store', 'mongo'], { cwd: ws });
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/argument 'mongo' is invalid|Allowed choices/);
  });

  it('without a reachable PostgreSQL: one line, a hint, exit 3', async () => {
    const ws = tempDir();
    await helfy(['init', '--yes', '--postgres-port', '1'], { cwd: ws });
    const r = await helfy(['migrate', 'status', '--store', 'postgres'], { cwd: ws });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: cannot connect to PostgreSQL helfy_owner@127\.0\.0\.1:1\/helfy_app/m);
    expect(r.stderr).toContain('hint:');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
