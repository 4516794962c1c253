/** The JUnit writer, read back with a real XML parser (fast-xml-parser), not a regex. */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { junitXml, writeJunit } from '../../src/smoke/junit.js';
import type { CheckResult } from '../../src/smoke/scheduler.js';
import { tempDir } from '../helpers/cli.js';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['testsuite', 'testcase'].includes(name) });

const results: CheckResult[] = [
  { id: 'health.api', group: 'health', name: 'api is healthy', status: 'passed', durationMs: 40, message: 'healthy' },
  { id: 'health.worker', group: 'health', name: 'worker is healthy', status: 'failed', durationMs: 1250, service: 'worker', message: 'worker: failed — exited with code 137', logs: ['worker running', 'error: <boom> & "quoted" \u001b[31mred\u001b[0m \u0007bell'] },
  { id: 'neo4j.library', group: 'neo4j', name: 'the library is loaded', status: 'skipped', durationMs: 3, message: 'the stack was not seeded' },
  { id: 'api.login', group: 'api', name: "the user's log-in <works>", status: 'passed', durationMs: 2500 },
];

const dir = tempDir('helfy-junit-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('junitXml', () => {
  const xml = junitXml(results, { durationMs: 2600, timestamp: new Date('2026-12-01T10:00:00Z') });
  const doc = parser.parse(xml);

  it('is well-formed XML (control characters and ANSI colours from logs removed)', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toMatch(/[\u0000-\u0008\u001b]/);
  });

  it('totals on <testsuites>, one <testsuite> per group in first-seen order with its own counts', () => {
    expect(doc.testsuites).toMatchObject({ '@name': 'helfy smoke', '@tests': '4', '@failures': '1', '@skipped': '1', '@errors': '0', '@time': '2.600' });
    const suites = doc.testsuites.testsuite;
    expect(suites.map((s: any) => [s['@name'], s['@tests'], s['@failures'], s['@skipped']])).toEqual([
      ['health', '2', '1', '0'], ['neo4j', '1', '0', '1'], ['api', '1', '0', '0'],
    ]);
    expect(suites[0]['@timestamp']).toBe('2026-12-01T10:00:00');
  });

  it('every check is a testcase with classname = group and time in seconds', () => {
    const cases = doc.testsuites.testsuite.flatMap((s: any) => s.testcase);
    expect(cases.map((c: any) => [c['@classname'], c['@name'], c['@time']])).toEqual([
      ['health', 'api is healthy', '0.040'], ['health', 'worker is healthy', '1.250'], ['neo4j', 'the library is loaded', '0.003'], ['api', "the user's log-in <works>", '2.500'],
    ]);
  });

  it('a failure carries the cause as its message and the service log lines as its text; a skip its reason', () => {
    const [, worker] = doc.testsuites.testsuite[0].testcase;
    expect(worker.failure['@message']).toBe('worker: failed — exited with code 137');
    expect(worker.failure['@type']).toBe('worker');
    expect(worker.failure['#text']).toBe('worker: failed — exited with code 137\n\nlast log lines of worker:\nworker running\nerror: <boom> & "quoted" red bell');
    expect(doc.testsuites.testsuite[1].testcase[0].skipped['@message']).toBe('the stack was not seeded');
    expect(doc.testsuites.testsuite[0].testcase[0]['system-out']).toBe('healthy');
  });

  it('writeJunit replaces the file atomically and leaves no temp file', () => {
    const file = join(dir, 'reports', 'junit.xml');
    writeJunit(file, xml);
    writeJunit(file, junitXml(results.slice(0, 1)));
    expect(parser.parse(readFileSync(file, 'utf8')).testsuites['@tests']).toBe('1');
    expect(readdirSync(join(dir, 'reports'))).toEqual(['junit.xml']);
    expect(existsSync(`${file}.${process.pid}.tmp`)).toBe(false);
  });
});
