// Prints the failed tests of a JUnit XML report (vitest's, written by .ci/run's `npm test`), one
// line each with the first line of its failure, so a CI log's tail says what failed.
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';

const file = process.argv[2];
const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(file, 'utf8'));
const list = (x) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const failed = [];
for (const suite of list(doc.testsuites?.testsuite)) {
  for (const tc of list(suite.testcase)) {
    const f = list(tc.failure)[0] ?? list(tc.error)[0];
    if (f === undefined) continue;
    const text = typeof f === 'string' ? f : (f.message ?? f['#text'] ?? '');
    // The message squeezed onto one line (a JSON error document spans many).
    const why = String(text).replace(/\s+/g, ' ').trim();
    failed.push(`  ✗ ${suite.name} › ${tc.name}\n      ${why.length > 500 ? `${why.slice(0, 500)}…` : why}`);
  }
}
console.error(failed.length ? `::: ${failed.length} failed test(s):\n${failed.join('\n')}` : '::: no failed test in the JUnit report (the failure was outside the tests: see above)');
