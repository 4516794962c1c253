/** Prune rules over a table of dates (pure: no files, no Docker). */
import { describe, expect, it } from 'vitest';
import { backupId, idTime, parseStores } from '../../src/backup/manifest.js';
import { compareFigures, compatibilityProblems, databaseLevelEntries, idempotentGlobals } from '../../src/backup/plan.js';
import { isoWeekKey, planPrune, type PruneCandidate } from '../../src/backup/prune.js';
import type { Manifest } from '../../src/backup/manifest.js';

const at = (s: string, verified = false): PruneCandidate => ({ id: backupId(new Date(s)), createdAt: new Date(s), verified });

// Three weeks of backups: several a day on some days, none on others.
const TABLE: PruneCandidate[] = [
  at('2026-11-09T03:00:00Z'), // Mon, W46
  at('2026-11-12T03:00:00Z', true), // Thu, W46 (verified)
  at('2026-11-16T03:00:00Z'), // Mon, W47
  at('2026-11-20T03:00:00Z'), // Fri, W47
  at('2026-11-23T01:00:00Z'), // Mon, W48
  at('2026-11-23T13:00:00Z'), // Mon, W48
  at('2026-11-25T03:00:00Z'), // Wed, W48
  at('2026-11-29T23:59:59Z'), // Sun, W48
  at('2026-11-30T00:00:00Z'), // Mon, W49
  at('2026-11-30T12:00:00Z'), // Mon, W49
];
const kept = (rules: Parameters<typeof planPrune>[1], table = TABLE) => planPrune(table, rules).filter((d) => d.keep).map((d) => d.id).sort();
const id = (s: string) => backupId(new Date(s));

describe('backup prune rules', () => {
  it('ISO weeks start on Monday (and 2026-01-01, a Thursday, is in week 1)', () => {
    expect(isoWeekKey(new Date('2026-11-29T23:59:59Z'))).toBe('2026-W48');
    expect(isoWeekKey(new Date('2026-11-30T00:00:00Z'))).toBe('2026-W49');
    expect(isoWeekKey(new Date('2026-01-01T00:00:00Z'))).toBe('2026-W01');
    expect(isoWeekKey(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
  });

  it('--keep-last 3: the three newest, plus the newest verified one', () => {
    expect(kept({ keepLast: 3 })).toEqual([id('2026-11-12T03:00:00Z'), id('2026-11-29T23:59:59Z'), id('2026-11-30T00:00:00Z'), id('2026-11-30T12:00:00Z')].sort());
  });

  it('--keep-daily 3: the newest of each of the 3 most recent days that have a backup', () => {
    expect(kept({ keepDaily: 3 })).toEqual([id('2026-11-12T03:00:00Z'), id('2026-11-25T03:00:00Z'), id('2026-11-29T23:59:59Z'), id('2026-11-30T12:00:00Z')].sort());
  });

  it('--keep-weekly 3: the newest of each of the 3 most recent ISO weeks', () => {
    expect(kept({ keepWeekly: 3 })).toEqual([id('2026-11-12T03:00:00Z'), id('2026-11-20T03:00:00Z'), id('2026-11-29T23:59:59Z'), id('2026-11-30T12:00:00Z')].sort());
  });

  it('the rules are a union, with the reasons named', () => {
    const d = planPrune(TABLE, { keepLast: 1, keepDaily: 2, keepWeekly: 4 });
    const byId = Object.fromEntries(d.map((x) => [x.id, x.reasons]));
    expect(byId[id('2026-11-30T12:00:00Z')]).toEqual(['last', 'daily 2026-11-30', 'weekly 2026-W49']);
    expect(byId[id('2026-11-29T23:59:59Z')]).toEqual(['daily 2026-11-29', 'weekly 2026-W48']);
    expect(byId[id('2026-11-20T03:00:00Z')]).toEqual(['weekly 2026-W47']);
    expect(byId[id('2026-11-12T03:00:00Z')]).toEqual(['weekly 2026-W46', 'newest verified']);
    expect(byId[id('2026-11-23T13:00:00Z')]).toEqual([]);
    expect(d.filter((x) => x.keep)).toHaveLength(4);
    expect(d.filter((x) => !x.keep)).toHaveLength(6);
  });

  it('never deletes the newest verified backup, even with --keep-last 0', () => {
    expect(kept({ keepLast: 0 })).toEqual([id('2026-11-12T03:00:00Z')]);
    expect(kept({ keepLast: 0 }, TABLE.map((c) => ({ ...c, verified: false })))).toEqual([]);
  });

  it('no rule at all is a usage error (a prune never silently deletes everything)', () => {
    expect(() => planPrune(TABLE, {})).toThrow(/at least one rule/);
  });
});

describe('backup ids, stores and restore checks', () => {
  it('ids sort by time and carry it', () => {
    const i = backupId(new Date('2026-12-01T10:37:12.345Z'), 'before-upgrade');
    expect(i).toBe('20261201T103712Z-before-upgrade');
    expect(idTime(i)?.toISOString()).toBe('2026-12-01T10:37:12.000Z');
    expect(() => backupId(new Date(), 'Bad Name')).toThrow(/--name/);
    expect(parseStores('neo4j')).toEqual(['neo4j']);
    expect(parseStores(undefined)).toEqual(['postgres', 'neo4j']);
    expect(() => parseStores('postgres,redis')).toThrow(/unknown store redis/);
  });

  const manifest = (o: Partial<Manifest>): Manifest => ({
    format: 1, id: 'x', project: 'p', helfyVersion: '0', createdAt: '', durationMs: 0, stores: ['postgres', 'neo4j'], consistent: true, writersStopped: [], writersDowntimeMs: 0,
    services: {}, files: [], figures: {}, warnings: [],
    postgres: { serverVersion: '16.4', serverVersionNum: 160004, pgDumpVersion: '', databases: { helfy_app: { extensions: { timescaledb: '2.17.2' } } }, migrationHead: null },
    temporal: { serverVersion: '1.31.0', schemaVersion: { main: '1.19', visibility: '1.14' }, historyShards: 4 },
    neo4j: { version: '5.26.30', edition: 'community', databases: ['system', 'neo4j'], migrationHead: 3 },
    ...o,
  });

  it('names every mismatch: PostgreSQL major, timescaledb, Temporal schema, Neo4j', () => {
    const target = { postgres: { serverVersion: '15.20', serverVersionNum: 150020, timescaledbAvailable: ['2.16.0'] }, temporal: { main: '1.18', visibility: '1.14' }, neo4j: { version: '5.26.0' } };
    expect(compatibilityProblems(manifest({}), target, ['postgres', 'neo4j'])).toEqual([
      'PostgreSQL major differs: the backup is from PostgreSQL 16.4 (major 16), this stack runs 15.20 (major 15)',
      'timescaledb 2.17.2 (used by helfy_app in the backup) is not installed on this server (available: 2.16.0)',
      "Temporal main schema 1.19 in the backup is newer than this stack's server knows (1.18)",
      "Neo4j 5.26.30 in the backup is newer than this stack's 5.26.0",
    ]);
    const fine = { postgres: { serverVersion: '16.6', serverVersionNum: 160006, timescaledbAvailable: ['2.16.0', '2.17.2'] }, temporal: { main: '1.19', visibility: '1.15' }, neo4j: { version: '5.26.30' } };
    expect(compatibilityProblems(manifest({}), fine, ['postgres', 'neo4j'])).toEqual([]);
    // --only neo4j does not care about PostgreSQL.
    expect(compatibilityProblems(manifest({}), { ...target, neo4j: { version: '5.26.30' } }, ['neo4j'])).toEqual([]);
  });

  it('compares figures per table, label, type and namespace', () => {
    const want = { postgres: { rows: { 'public.users': 3, 'public.workouts': 10 }, chunks: null }, neo4j: { labels: { Food: 5 }, relationships: { USES: 2 } }, temporal: { namespaces: ['helfy'], closedWorkflows: { helfy: 1 } } };
    const have = { postgres: { rows: { 'public.users': 3, 'public.extra': 0 }, chunks: null }, neo4j: { labels: { Food: 4 }, relationships: { USES: 2 } }, temporal: { namespaces: ['helfy'], closedWorkflows: { helfy: 0 } } };
    expect(compareFigures(want, have, ['postgres', 'neo4j'])).toEqual([
      { what: 'rows of public.extra', expected: 'absent', actual: 0 },
      { what: 'rows of public.workouts', expected: 10, actual: 'absent' },
      { what: 'closed workflows in namespace helfy', expected: 1, actual: 0 },
      { what: 'nodes labelled Food', expected: 5, actual: 4 },
    ]);
    expect(compareFigures(want, want, ['postgres', 'neo4j'])).toEqual([]);
  });

  it('picks the database-level TOC entries and makes CREATE ROLE idempotent', () => {
    const list = ['6; 2615 17754 SCHEMA - drizzle helfy_owner', '3507; 1262 16387 DATABASE - helfy_app helfy_owner', '3508; 0 0 ACL - DATABASE helfy_app helfy_owner', '3509; 0 0 ACL - SCHEMA public pg_database_owner'].join('\n');
    expect(databaseLevelEntries(list)).toBe('3507; 1262 16387 DATABASE - helfy_app helfy_owner\n3508; 0 0 ACL - DATABASE helfy_app helfy_owner');
    expect(idempotentGlobals('CREATE ROLE helfy_api;\nALTER ROLE helfy_api WITH LOGIN;')).toBe('DO $helfy$ BEGIN CREATE ROLE helfy_api; EXCEPTION WHEN duplicate_object THEN NULL; END $helfy$;\nALTER ROLE helfy_api WITH LOGIN;');
  });
});
