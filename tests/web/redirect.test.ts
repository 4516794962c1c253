/**
 * The `next` check of the web app's log-in (templates/web/server/redirect.ts): only a path on the
 * app's own origin, in every form a browser normalises. What a browser would make of each refused
 * value is the reason it is refused; the end-to-end check is in ssr.test.ts ("log-in returns...").
 */
import { describe, expect, it } from 'vitest';
import { safeNext } from '../../templates/web/server/redirect.js';

const ORIGIN = 'http://app.test:3001';

describe('safeNext: where log-in may send the browser', () => {
  it.each([
    ['/library', '/library'],
    ['/dashboard?saved=workout', '/dashboard?saved=workout'],
    ['/library?q=squat&muscle=quadriceps#results', '/library?q=squat&muscle=quadriceps#results'],
    ['/library/Barbell%20Squat', '/library/Barbell%20Squat'],
    ['/log/workout', '/log/workout'],
    ['/javascript:alert(1)', '/javascript:alert(1)'], // a path named so, on this site
    ['/a/b/../c', '/a/b/../c'],
  ])('keeps the same-origin path %j', (next, want) => {
    expect(safeNext(next)).toBe(want);
    expect(new URL(safeNext(next), ORIGIN).origin).toBe(ORIGIN);
  });

  it.each([
    // nothing
    [undefined],
    [null],
    [''],
    // another host: protocol-relative, and what browsers turn into protocol-relative
    ['//evil.example/'],
    ['/\\evil.example/'],
    ['\\/evil.example/'],
    ['\\\\evil.example/'],
    ['/\\/evil.example/'],
    ['/library\\..\\..\\evil'], // a backslash anywhere
    // tabs, newlines, spaces and control characters (browsers strip or ignore them)
    ['/\t/evil.example/'],
    ['/\n/evil.example/'],
    ['/\r\n/evil.example/'],
    ['\t//evil.example/'],
    [' //evil.example/'],
    ['/ /evil.example/'],
    ['/\u0000/evil.example/'],
    ['/\u001f/evil.example/'],
    ['/\u007f/evil.example/'],
    ['/\u00a0/evil.example/'],
    ['/\u2028/evil.example/'],
    // dot segments that resolve to a `//` path
    ['/..//evil.example/'],
    ['/.//evil.example/'],
    ['/%2e%2e//evil.example/'],
    // percent-encoded slashes, backslashes and controls (a decoding hop would make them real)
    ['%2f%2fevil.example/'],
    ['%2F%2Fevil.example/'],
    ['/%2f%2fevil.example/'],
    ['/%2fevil.example/'],
    ['/%5cevil.example/'],
    ['%5c%5cevil.example/'],
    ['/%5Cevil.example/'],
    ['/%09/evil.example/'],
    ['/%0a/evil.example/'],
    ['/%00'],
    ['/%E0%A4%A'], // malformed escape
    // schemes and absolute URLs
    ['javascript:alert(1)'],
    ['JaVaScRiPt:alert(1)'],
    ['java\tscript:alert(1)'],
    ['data:text/html,<script>alert(1)</script>'],
    ['http://evil.example/'],
    ['https://evil.example/login'],
    ['https:evil.example'],
    ['http:/evil.example'],
    ['HTTP://evil.example'],
    [`${ORIGIN}/library`], // even this origin: only a path
    ['evil.example'],
    ['library'],
    ['?next=//evil.example'],
    ['#top'],
  ])('refuses %j: the default page instead', (next) => {
    expect(safeNext(next as string | undefined)).toBe('/dashboard');
    expect(safeNext(next as string | undefined, '/elsewhere')).toBe('/elsewhere');
  });

  it('refuses an overlong value (over 2048 characters)', () => {
    expect(safeNext('/' + 'a'.repeat(2047))).toBe('/' + 'a'.repeat(2047));
    expect(safeNext('/' + 'a'.repeat(2048))).toBe('/dashboard');
  });

  it('whatever it returns stays on the app origin when a browser resolves it', () => {
    const tries = ['/\\evil.example/', '/\t/evil.example', '//evil.example', '/ok', '/%2f%2fevil', 'https://evil.example', '/..//evil.example'];
    for (const next of tries) {
      const out = safeNext(next);
      expect(new URL(out, ORIGIN).origin, next).toBe(ORIGIN);
      expect(new URL(out, ORIGIN).pathname.startsWith('//'), next).toBe(false);
    }
  });
});
