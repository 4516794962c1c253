// Reads the JUnit XML report of a vitest run (written by .ci/run's `npm test`) and prints, on
// stderr and stdout so that a CI log's tail shows them:
//   - the ten slowest test files with their durations (a regression shows in the next CI log);
//   - the failed tests, one line each with the first line of the failure;
//   - as the very last line, the plain count `N passed, N failed` (`, N skipped` when any were),
//     the closing line CI reads for any language.
// Usage: node scripts/test-summary.mjs test-artifacts/vitest-junit.xml [--timings tests/timings.json]
//   --timings F: also write each file's duration in seconds to F, the estimates the test
//   sequencer orders the files by (tests/support/parallel/sequencer.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';

const file = process.argv[2];
const timingsAt = process.argv.indexOf('--timings');
const timingsFile = timingsAt > 0 ? process.argv[timingsAt + 1] : undefined;
let doc;
try {
  doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.log(`::: no readable JUnit report at ${file} (${e.message.split('\n')[0]}): the run ended before the tests reported`);
  process.exit(1);
}
const list = (x) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const suites = list(doc.testsuites?.testsuite);
let passed = 0;
let skipped = 0;
const failed = [];
for (const suite of suites) {
  for (const tc of list(suite.testcase)) {
    const f = list(tc.failure)[0] ?? list(tc.error)[0];
    if (f !== undefined) {
      const text = typeof f === 'string' ? f : (f.message ?? f['#text'] ?? '');
      // The message squeezed onto one line (a JSON error document spans many).
      const why = String(text).replace(/\s+/g, ' ').trim();
      failed.push(`  ✗ ${suite.name} › ${tc.name}\n      ${why.length > 500 ? `${why.slice(0, 500)}…` : why}`);
    } else if (tc.skipped !== undefined) skipped++;
    else passed++;
  }
}

// Waits for a group lock (tests/support/parallel/lock.ts) count in a file's JUnit time.
const waits = new Map();
try {
  for (const line of readFileSync(join(dirname(file), 'parallel-waits.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const w = JSON.parse(line);
    waits.set(w.file, (waits.get(w.file) ?? 0) + w.waitedMs / 1000);
  }
} catch {
  // no file waited
}
if (timingsFile) {
  const t = Object.fromEntries(suites.map((s) => [s.name, Math.max(0, Math.round((Number(s.time) || 0) - (waits.get(s.name) ?? 0)))]).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  writeFileSync(timingsFile, `${JSON.stringify(t, null, 2)}\n`);
}

const fmt = (s) => (s >= 60 ? `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s` : `${s.toFixed(1)} s`);
const slowest = suites.map((s) => ({ name: s.name, time: Number(s.time) || 0 })).sort((a, b) => b.time - a.time).slice(0, 10);
const width = Math.max(...slowest.map((s) => s.name.length), 0);
console.log('::: the ten slowest test files:');
for (const s of slowest) console.log(`  ${s.name.padEnd(width)}  ${fmt(s.time).padStart(10)}`);
if (waits.size) console.log(`::: ${waits.size} file(s) waited ${fmt([...waits.values()].reduce((a, b) => a + b, 0))} in all for a group lock (tests/support/parallel)`);
if (failed.length) console.log(`::: ${failed.length} failed test(s):\n${failed.join('\n')}`);
console.log(`${passed} passed, ${failed.length} failed${skipped ? `, ${skipped} skipped` : ''}`);
