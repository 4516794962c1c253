// Pure logic of the Neo4j migration runner: no server needed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HelfyError } from '../../../src/core/errors.js';
import {
  checksumOf, classifyStatement, declaredSchema, diffSchema, loadMigrations, parseSchemaStatement, splitStatements,
  type SchemaObject,
} from '../../../src/db/neo4j/migration-files.js';

const REPO_MIGRATIONS = resolve(import.meta.dirname, '../../../migrations/neo4j');

const dirs: string[] = [];
function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'helfy-n4-files-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function catchErr(fn: () => unknown): HelfyError {
  try { fn(); } catch (e) { if (e instanceof HelfyError) return e; throw e; }
  throw new Error('expected a HelfyError');
}

describe('splitStatements', () => {
  it('splits on ; at line end, keeps start lines, drops comment-only chunks', () => {
    const src = [
      '// header comment',          // 1
      '',                            // 2
      'CREATE CONSTRAINT a IF NOT EXISTS', // 3
      '  FOR (n:A) REQUIRE n.id IS UNIQUE;', // 4
      "MERGE (x:A {id: 'a;b'})",    // 5  (; inside a string, not at line end)
      "SET x.note = 'semi; colon';  // trailing comment", // 6
      '// only a comment at the end;', // 7
    ].join('\n');
    const st = splitStatements(src);
    expect(st.map((s) => [s.line, s.kind])).toEqual([[3, 'schema'], [5, 'data']]);
    expect(st[0]!.text).toBe('CREATE CONSTRAINT a IF NOT EXISTS\n  FOR (n:A) REQUIRE n.id IS UNIQUE');
    expect(st[1]!.text).toBe("MERGE (x:A {id: 'a;b'})\nSET x.note = 'semi; colon'");
  });

  it('handles CRLF and a last statement without ;', () => {
    const st = splitStatements('CREATE (a:X);\r\n\r\nCREATE (b:X)\r\n');
    expect(st.map((s) => [s.line, s.text])).toEqual([[1, 'CREATE (a:X)'], [3, 'CREATE (b:X)']]);
  });
});

describe('classifyStatement', () => {
  it.each([
    ['CREATE CONSTRAINT x FOR (n:A) REQUIRE n.id IS UNIQUE', 'schema'],
    ['create fulltext index f for (n:A) on each [n.name]', 'schema'],
    ['// comment\nDROP INDEX foo IF EXISTS', 'schema'],
    ['CREATE RANGE INDEX r FOR (n:A) ON (n.x)', 'schema'],
    ['CREATE (:Index {name: 1})', 'data'],
    ['MATCH (n) SET n.constraint = 1', 'data'],
    ['CALL db.awaitIndexes()', 'data'],
  ])('%s → %s', (text, kind) => {
    expect(classifyStatement(text)).toBe(kind);
  });
});

describe('parseSchemaStatement', () => {
  it('reads constraints, indexes (range, fulltext, relationship) and drops', () => {
    expect(parseSchemaStatement('CREATE CONSTRAINT helfy_x IF NOT EXISTS FOR (e:Exercise) REQUIRE e.id IS UNIQUE')).toEqual({
      op: 'create', object: { kind: 'constraint', name: 'helfy_x', type: 'UNIQUENESS', entityType: 'NODE', labelsOrTypes: ['Exercise'], properties: ['id'] },
    });
    expect(parseSchemaStatement('CREATE CONSTRAINT `my c` FOR (e:Exercise) REQUIRE (e.a, e.b) IS NODE UNIQUE')).toMatchObject({
      object: { name: 'my c', properties: ['a', 'b'], type: 'UNIQUENESS' },
    });
    expect(parseSchemaStatement("CREATE FULLTEXT INDEX ft IF NOT EXISTS FOR (f:Food|Dish) ON EACH [f.name, f.brand] OPTIONS { indexConfig: { `fulltext.analyzer`: 'english' } }")).toEqual({
      op: 'create', object: { kind: 'index', name: 'ft', type: 'FULLTEXT', entityType: 'NODE', labelsOrTypes: ['Food', 'Dish'], properties: ['name', 'brand'] },
    });
    expect(parseSchemaStatement('CREATE INDEX r FOR ()-[t:TARGETS]-() ON (t.role)')).toMatchObject({
      object: { type: 'RANGE', entityType: 'RELATIONSHIP', labelsOrTypes: ['TARGETS'], properties: ['role'] },
    });
    expect(parseSchemaStatement('DROP CONSTRAINT helfy_x IF EXISTS')).toEqual({ op: 'drop', kind: 'constraint', name: 'helfy_x' });
    expect(parseSchemaStatement('CREATE CONSTRAINT IF NOT EXISTS FOR (e:E) REQUIRE e.id IS UNIQUE')).toMatchObject({ object: { name: '' } });
  });
});

describe('loadMigrations', () => {
  it('reads the repository migrations: named, uniqueness-only, schema-only', () => {
    const files = loadMigrations(REPO_MIGRATIONS);
    expect(files.map((f) => f.version)).toEqual(files.map((_, i) => i + 1));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const declared = declaredSchema(files);
    const constraints = [...declared.values()].filter((o) => o.kind === 'constraint');
    expect(constraints.map((c) => `${c.labelsOrTypes[0]}.${c.properties[0]}`).sort()).toEqual(
      ['BodyRegion.name', 'Category.name', 'Equipment.name', 'Exercise.id', 'Food.id', 'FoodGroup.code', 'Muscle.name', 'Portion.id', 'Routine.id'],
    );
    expect(constraints.every((c) => c.type === 'UNIQUENESS')).toBe(true);
    const fulltext = [...declared.values()].filter((o) => o.type === 'FULLTEXT').map((o) => o.labelsOrTypes[0]).sort();
    expect(fulltext).toEqual(['Exercise', 'Food']);
    for (const o of declared.values()) expect(o.name.startsWith('helfy_')).toBe(true);
  });

  it('checksums the file bytes and orders by numeric version', () => {
    const dir = tempDir({ 'V10__ten.cypher': 'CREATE (:T {v: 10});\n', 'V2__two.cypher': 'CREATE (:T);\n', 'V1__one.cypher': 'CREATE (:T);\n', ...Object.fromEntries([3, 4, 5, 6, 7, 8, 9].map((v) => [`V${v}__n.cypher`, 'CREATE (:T);\n'])), 'README.md': 'ignored' });
    const files = loadMigrations(dir);
    expect(files.map((f) => f.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(files[9]!.checksum).toBe(checksumOf('CREATE (:T {v: 10});\n'));
    expect(files[9]!.description).toBe('ten');
  });

  it('refuses a gap, naming the missing version', () => {
    const e = catchErr(() => loadMigrations(tempDir({ 'V1__a.cypher': 'RETURN 1;', 'V3__c.cypher': 'RETURN 1;' })));
    expect(e.code).toBe('MIGRATION_ORDER');
    expect(e.message).toMatch(/gap .* version 2\b/);
  });

  it('refuses duplicate versions, naming both files', () => {
    const e = catchErr(() => loadMigrations(tempDir({ 'V1__a.cypher': 'RETURN 1;', 'V001__b.cypher': 'RETURN 1;' })));
    expect(e.code).toBe('MIGRATION_ORDER');
    expect(e.message).toContain('V001__b.cypher');
    expect(e.message).toContain('V1__a.cypher');
  });

  it('refuses a badly named .cypher file instead of skipping it', () => {
    const e = catchErr(() => loadMigrations(tempDir({ 'V1__a.cypher': 'RETURN 1;', 'V2_b.cypher': 'RETURN 1;' })));
    expect(e.code).toBe('MIGRATION_ORDER');
    expect(e.message).toContain('V2_b.cypher');
  });

  it('refuses an unnamed constraint and a schema statement after data, with file:line', () => {
    const unnamed = catchErr(() => loadMigrations(tempDir({ 'V1__a.cypher': '// x\n\nCREATE CONSTRAINT IF NOT EXISTS FOR (n:A) REQUIRE n.id IS UNIQUE;\n' })));
    expect(unnamed.code).toBe('MIGRATION_FAILED');
    expect(unnamed.message).toContain('V1__a.cypher:3');
    const order = catchErr(() => loadMigrations(tempDir({ 'V1__a.cypher': 'CREATE (:A);\nCREATE INDEX i IF NOT EXISTS FOR (n:A) ON (n.x);\n' })));
    expect(order.message).toContain('V1__a.cypher:2');
  });

  it('a missing folder is an FS_ERROR', () => {
    expect(catchErr(() => loadMigrations('/nonexistent/helfy/migrations')).code).toBe('FS_ERROR');
  });
});

describe('diffSchema', () => {
  const c = (name: string, label: string, prop: string): SchemaObject => ({ kind: 'constraint', name, type: 'UNIQUENESS', entityType: 'NODE', labelsOrTypes: [label], properties: [prop] });
  it('reports missing, different, failed and undeclared helfy_* objects only', () => {
    const declared = new Map([['helfy_a', c('helfy_a', 'A', 'id')], ['helfy_b', c('helfy_b', 'B', 'id')], ['helfy_c', c('helfy_c', 'C', 'id')]]);
    const actual = [c('helfy_a', 'A', 'name'), c('helfy_c', 'C', 'id'), c('helfy_z', 'Z', 'id'), c('someone_else', 'Q', 'id')];
    const drift = diffSchema(declared, actual, { failedIndexes: new Set(['helfy_c']) });
    expect(drift.map((d) => [d.kind, d.name])).toEqual([['different', 'helfy_a'], ['missing', 'helfy_b'], ['failed', 'helfy_c'], ['unexpected', 'helfy_z']]);
    expect(drift[0]!.message).toContain('expected UNIQUENESS constraint on (:A) (id), found UNIQUENESS constraint on (:A) (name)');
  });
});
