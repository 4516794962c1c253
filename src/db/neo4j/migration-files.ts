/**
 * Pure logic for Neo4j migration files: finding and ordering `V<number>__<desc>.cypher` files,
 * splitting them into statements (a `;` at the end of a line ends one), classifying each as
 * schema or data, and reading the constraints and indexes a set of files declares.
 * No driver here, so all of it is unit-testable.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HelfyError } from '../../core/errors.js';

export const MIGRATION_FILE_RE = /^V(\d+)__([A-Za-z0-9][A-Za-z0-9_.-]*)\.cypher$/;
/** Every constraint and index that the migration files create is named with this prefix. */
export const HELFY_SCHEMA_PREFIX = 'helfy_';

export type StatementKind = 'schema' | 'data';

export interface Statement {
  /** Statement text as sent to the server (no trailing `;`), comments inside kept. */
  text: string;
  /** 1-based line in the file where the statement starts. */
  line: number;
  kind: StatementKind;
}

export interface MigrationFile {
  version: number;
  description: string;
  /** File name, e.g. `V001__exercise_library.cypher`. */
  file: string;
  path: string;
  /** sha256 of the file's bytes, hex. */
  checksum: string;
  statements: Statement[];
}

/** Removes `//` comments (outside strings and backtick names) so keywords can be matched. */
export function stripComments(text: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      out += c;
      if (c === '\\' && quote !== '`' && i + 1 < text.length) { out += text[++i]; continue; }
      if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') { quote = c; out += c; continue; }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const chunk = text.slice(i, end < 0 ? text.length : end + 2);
      out += chunk.replace(/[^\n]/g, ' ');
      i = end < 0 ? text.length : end + 1;
      continue;
    }
    out += c;
  }
  return out;
}

const SCHEMA_RE = /^(CREATE|DROP)\s+((RANGE|TEXT|POINT|FULLTEXT|LOOKUP|VECTOR|BTREE)\s+)?(CONSTRAINT|INDEX)\b/i;

/** Schema statements (CREATE/DROP CONSTRAINT/INDEX) cannot share a transaction with data writes. */
export function classifyStatement(text: string): StatementKind {
  return SCHEMA_RE.test(stripComments(text).trim()) ? 'schema' : 'data';
}

/**
 * Splits a file into statements. A statement ends with `;` as the last non-blank character of a
 * line (a `;` inside a line, e.g. in a string, does not end it). Comment-only chunks are dropped.
 */
export function splitStatements(source: string): Statement[] {
  const lines = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: Statement[] = [];
  let buf: string[] = [];
  let start = 0;
  const flush = (): void => {
    // Drop leading lines that are blank or comments, so `line` points at the statement itself.
    let first = 0;
    while (first < buf.length && stripComments(buf[first]!).trim() === '') first++;
    const body = buf.slice(first).join('\n').trim();
    if (body && stripComments(body).trim()) out.push({ text: body, line: start + first + 1, kind: classifyStatement(body) });
    buf = [];
  };
  lines.forEach((raw, i) => {
    if (buf.length === 0) start = i;
    // stripComments keeps the characters before a `//` comment in place, so an index into
    // the stripped line is an index into the raw line.
    const code = stripComments(raw).trimEnd();
    if (code.endsWith(';')) {
      buf.push(raw.slice(0, code.length - 1));
      flush();
    } else {
      buf.push(raw);
    }
  });
  flush();
  return out;
}

export function checksumOf(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function parseMigrationFile(path: string, file: string, bytes: Buffer): MigrationFile {
  const m = MIGRATION_FILE_RE.exec(file);
  if (!m) throw new HelfyError('MIGRATION_ORDER', `${file}: not a migration file name`, { hint: 'Name migration files V<number>__<description>.cypher, e.g. V003__add_food_groups.cypher.' });
  const statements = splitStatements(bytes.toString('utf8'));
  const mf: MigrationFile = { version: Number(m[1]), description: m[2]!.replace(/_/g, ' '), file, path, checksum: checksumOf(bytes), statements };
  checkStatements(mf);
  return mf;
}

/**
 * Rules that keep a file runnable: every created constraint/index is named, and no schema
 * statement comes after a data statement (schema statements run first, each in its own
 * transaction, then all data statements in one transaction — so the file order must match).
 */
function checkStatements(mf: MigrationFile): void {
  let firstData: Statement | undefined;
  for (const s of mf.statements) {
    if (s.kind === 'data') { firstData ??= s; continue; }
    if (firstData) {
      throw new HelfyError('MIGRATION_FAILED', `${mf.file}:${s.line}: schema statement after the data statement at line ${firstData.line}`, {
        hint: 'Neo4j cannot mix schema changes and data writes in one transaction; helfy runs a file\'s schema statements first. Put the schema statements first, or move them to their own migration file.',
        data: { file: mf.file, line: s.line },
      });
    }
    const flat = stripComments(s.text).replace(/\s+/g, ' ').trim();
    const op = parseSchemaStatement(flat);
    if (/^CREATE\b/i.test(flat) && !(op?.op === 'create' && op.object.name)) {
      throw new HelfyError('MIGRATION_FAILED', `${mf.file}:${s.line}: constraint or index without a name (or not understood by helfy)`, {
        hint: 'Name every constraint and index, e.g. `CREATE CONSTRAINT helfy_food_id IF NOT EXISTS FOR (f:Food) REQUIRE f.id IS UNIQUE`.',
        data: { file: mf.file, line: s.line },
      });
    }
  }
}

/**
 * Reads every migration file in dir, sorted by version. Versions must be unique and contiguous
 * from 1; a `.cypher` file with a malformed name is an error (a typo would otherwise be skipped).
 */
export function loadMigrations(dir: string): MigrationFile[] {
  const abs = resolve(dir);
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch (e) {
    throw new HelfyError('FS_ERROR', `cannot read the Neo4j migrations folder ${abs}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      hint: 'Run from a helfy workspace, or pass the folder that holds the V<n>__<desc>.cypher files.',
      cause: e,
    });
  }
  const files: MigrationFile[] = [];
  const bad: string[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.cypher')) continue;
    if (!MIGRATION_FILE_RE.test(name)) { bad.push(name); continue; }
    const path = join(abs, name);
    files.push(parseMigrationFile(path, name, readFileSync(path)));
  }
  if (bad.length) {
    throw new HelfyError('MIGRATION_ORDER', `badly named migration file${bad.length > 1 ? 's' : ''} in ${abs}: ${bad.join(', ')}`, {
      hint: 'Name migration files V<number>__<description>.cypher (letters, digits, _ . -), e.g. V003__add_food_groups.cypher.',
      details: bad,
    });
  }
  files.sort((a, b) => a.version - b.version);
  checkVersions(files, abs);
  return files;
}

export function checkVersions(files: Pick<MigrationFile, 'version' | 'file'>[], dir = '.'): void {
  const byVersion = new Map<number, string[]>();
  for (const f of files) byVersion.set(f.version, [...(byVersion.get(f.version) ?? []), f.file]);
  const dups = [...byVersion.entries()].filter(([, v]) => v.length > 1);
  if (dups.length) {
    throw new HelfyError('MIGRATION_ORDER', `duplicate migration version${dups.length > 1 ? 's' : ''} in ${dir}: ${dups.map(([v, fs]) => `V${v} (${fs.join(', ')})`).join('; ')}`, {
      hint: 'Give each migration file its own version number.',
      details: dups.map(([v, fs]) => `V${v}: ${fs.join(', ')}`),
    });
  }
  const versions = [...byVersion.keys()].sort((a, b) => a - b);
  const missing: number[] = [];
  let expect = 1;
  for (const v of versions) {
    for (; expect < v && missing.length < 20; expect++) missing.push(expect);
    expect = v + 1;
  }
  if (missing.length) {
    throw new HelfyError('MIGRATION_ORDER', `gap in Neo4j migration versions in ${dir}: no file for version${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, {
      hint: 'Versions run 1, 2, 3, … without gaps; renumber the files that have not been applied anywhere yet.',
      data: { missingVersions: missing },
    });
  }
}

// ---- declared schema -----------------------------------------------------------------------

export type SchemaObjectKind = 'constraint' | 'index';
export type EntityType = 'NODE' | 'RELATIONSHIP';

/** A constraint or index in a form that compares equal between a file and SHOW output. */
export interface SchemaObject {
  kind: SchemaObjectKind;
  name: string;
  /** Constraints: UNIQUENESS | KEY | EXISTENCE | PROPERTY_TYPE; indexes: RANGE | TEXT | POINT | FULLTEXT | VECTOR | LOOKUP. */
  type: string;
  entityType: EntityType;
  labelsOrTypes: string[];
  properties: string[];
}

export type SchemaOp = { op: 'create'; object: SchemaObject } | { op: 'drop'; kind: SchemaObjectKind; name: string };

const NAME = '(`(?:[^`]|``)+`|[A-Za-z_][A-Za-z0-9_]*)';
const unquote = (s: string): string => (s.startsWith('`') ? s.slice(1, -1).replace(/``/g, '`') : s);

function parsePattern(pattern: string): { entityType: EntityType; labels: string[] } | undefined {
  const node = /^\(\s*[A-Za-z_][A-Za-z0-9_]*\s*:\s*(.+?)\s*\)$/.exec(pattern);
  if (node) return { entityType: 'NODE', labels: node[1]!.split('|').map((l) => unquote(l.trim())) };
  const rel = /^\(\s*\)\s*<?-\s*\[\s*[A-Za-z_][A-Za-z0-9_]*\s*:\s*(.+?)\s*\]\s*->?\s*\(\s*\)$/.exec(pattern);
  if (rel) return { entityType: 'RELATIONSHIP', labels: rel[1]!.split('|').map((l) => unquote(l.trim())) };
  return undefined;
}

function propertiesOf(expr: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`[A-Za-z_][A-Za-z0-9_]*\\s*\\.\\s*${NAME}`, 'g');
  for (const m of expr.matchAll(re)) out.push(unquote(m[1]!));
  return out;
}

/**
 * Parses a CREATE/DROP CONSTRAINT/INDEX statement (Neo4j 5 syntax; comments already stripped).
 * Returns undefined for statements it does not understand and a create op with an empty name
 * for unnamed ones.
 */
export function parseSchemaStatement(text: string): SchemaOp | undefined {
  const flat = stripComments(text).replace(/\s+/g, ' ').trim().replace(/;$/, '');
  const drop = new RegExp(`^DROP (CONSTRAINT|INDEX) ${NAME}( IF EXISTS)?$`, 'i').exec(flat);
  if (drop) return { op: 'drop', kind: drop[1]!.toLowerCase() as SchemaObjectKind, name: unquote(drop[2]!) };

  const pat = '(\\(.*?\\)(?:\\s*<?-\\s*\\[.*?\\]\\s*->?\\s*\\(\\s*\\))?)';
  const con = new RegExp(`^CREATE CONSTRAINT(?: (?!IF\\b|FOR\\b)${NAME})?(?: IF NOT EXISTS)? FOR ${pat} REQUIRE (.+?) IS (?:(?:NODE|RELATIONSHIP|REL) )?(UNIQUE|KEY|NOT NULL|::.+|TYPED .+)(?: OPTIONS .*)?$`, 'i').exec(flat);
  if (con) {
    const p = parsePattern(con[2]!);
    if (!p) return undefined;
    const req = con[4]!.toUpperCase();
    const type = req === 'UNIQUE' ? 'UNIQUENESS' : req === 'KEY' ? 'KEY' : req === 'NOT NULL' ? 'EXISTENCE' : 'PROPERTY_TYPE';
    return { op: 'create', object: { kind: 'constraint', name: con[1] ? unquote(con[1]) : '', type, entityType: p.entityType, labelsOrTypes: p.labels, properties: propertiesOf(con[3]!) } };
  }

  const idx = new RegExp(`^CREATE (?:(RANGE|TEXT|POINT|FULLTEXT|VECTOR|LOOKUP|BTREE) )?INDEX(?: (?!IF\\b|FOR\\b)${NAME})?(?: IF NOT EXISTS)? FOR ${pat} ON (?:EACH )?(.+?)(?: OPTIONS .*)?$`, 'i').exec(flat);
  if (idx) {
    const type = (idx[1] ?? 'RANGE').toUpperCase();
    if (type === 'LOOKUP') {
      const entityType: EntityType = /^\(\s*\)\s*</.test(idx[3]!) || idx[3]!.includes('[') ? 'RELATIONSHIP' : 'NODE';
      return { op: 'create', object: { kind: 'index', name: idx[2] ? unquote(idx[2]) : '', type, entityType, labelsOrTypes: [], properties: [] } };
    }
    const p = parsePattern(idx[3]!);
    if (!p) return undefined;
    return { op: 'create', object: { kind: 'index', name: idx[2] ? unquote(idx[2]) : '', type: type === 'BTREE' ? 'RANGE' : type, entityType: p.entityType, labelsOrTypes: p.labels, properties: propertiesOf(idx[4]!) } };
  }
  return undefined;
}

/** The constraints and indexes that the given files leave behind, applying CREATE and DROP in order. */
export function declaredSchema(files: MigrationFile[]): Map<string, SchemaObject & { file: string; line: number }> {
  const out = new Map<string, SchemaObject & { file: string; line: number }>();
  for (const f of files) {
    for (const s of f.statements) {
      if (s.kind !== 'schema') continue;
      const op = parseSchemaStatement(s.text);
      if (!op) continue;
      if (op.op === 'drop') out.delete(op.name);
      else if (op.object.name) out.set(op.object.name, { ...op.object, file: f.file, line: s.line });
    }
  }
  return out;
}

/** Canonical constraint type from SHOW CONSTRAINTS (`UNIQUENESS`, `NODE_PROPERTY_UNIQUENESS`, `NODE_KEY`, …). */
export function canonicalConstraintType(t: string): string {
  const u = t.toUpperCase();
  if (u.includes('UNIQUENESS')) return 'UNIQUENESS';
  if (u.includes('KEY')) return 'KEY';
  if (u.includes('EXISTENCE')) return 'EXISTENCE';
  if (u.includes('TYPE')) return 'PROPERTY_TYPE';
  return u;
}

export type DriftKind = 'missing' | 'different' | 'unexpected' | 'failed';

export interface Drift {
  kind: DriftKind;
  objectKind: SchemaObjectKind;
  name: string;
  expected?: SchemaObject;
  actual?: SchemaObject;
  /** Where the expected definition comes from. */
  file?: string;
  line?: number;
  /** One line for humans. */
  message: string;
}

export function describeObject(o: SchemaObject): string {
  const target = o.entityType === 'NODE' ? `(:${o.labelsOrTypes.join('|')})` : `()-[:${o.labelsOrTypes.join('|')}]-()`;
  return `${o.type} ${o.kind} on ${target}${o.properties.length ? ` (${o.properties.join(', ')})` : ''}`;
}

function sameDefinition(a: SchemaObject, b: SchemaObject): boolean {
  const eq = (x: string[], y: string[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.kind === b.kind && a.type === b.type && a.entityType === b.entityType
    && eq([...a.labelsOrTypes].sort(), [...b.labelsOrTypes].sort()) && eq(a.properties, b.properties);
}

/**
 * Compares declared objects with the database's. `actual` holds constraints and the indexes that
 * no constraint owns; `failedIndexes` names indexes whose state is FAILED. Undeclared objects
 * are reported only when they carry the helfy prefix (others belong to someone else).
 */
export function diffSchema(
  declared: Map<string, SchemaObject & { file?: string; line?: number }>,
  actual: SchemaObject[],
  opts: { failedIndexes?: Set<string>; ignore?: Set<string>; prefix?: string } = {},
): Drift[] {
  const prefix = opts.prefix ?? HELFY_SCHEMA_PREFIX;
  const drift: Drift[] = [];
  const byName = new Map(actual.map((a) => [a.name, a]));
  for (const [name, exp] of declared) {
    const expected: SchemaObject = { kind: exp.kind, name, type: exp.type, entityType: exp.entityType, labelsOrTypes: exp.labelsOrTypes, properties: exp.properties };
    const act = byName.get(name);
    const where = exp.file ? ` (declared in ${exp.file}${exp.line ? `:${exp.line}` : ''})` : '';
    if (!act) {
      drift.push({ kind: 'missing', objectKind: exp.kind, name, expected, file: exp.file, line: exp.line, message: `${exp.kind} ${name} is missing: expected ${describeObject(expected)}${where}` });
    } else if (!sameDefinition(expected, act)) {
      drift.push({ kind: 'different', objectKind: exp.kind, name, expected, actual: act, file: exp.file, line: exp.line, message: `${exp.kind} ${name} differs: expected ${describeObject(expected)}, found ${describeObject(act)}${where}` });
    } else if (opts.failedIndexes?.has(name)) {
      drift.push({ kind: 'failed', objectKind: exp.kind, name, expected, actual: act, file: exp.file, line: exp.line, message: `${exp.kind} ${name} is in state FAILED${where}` });
    }
  }
  for (const act of actual) {
    if (declared.has(act.name) || opts.ignore?.has(act.name) || !act.name.startsWith(prefix)) continue;
    drift.push({ kind: 'unexpected', objectKind: act.kind, name: act.name, actual: act, message: `${act.kind} ${act.name} is not declared by any applied migration: ${describeObject(act)}` });
  }
  return drift;
}
