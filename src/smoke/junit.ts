/**
 * JUnit XML for the smoke checks (the format CI systems read as a test report): one <testsuite>
 * per group, one <testcase> per check with classname = group and time in seconds; a failed check
 * carries <failure message="cause"> with the service's last log lines as its text, a skipped one
 * <skipped message=...>. Written through a temp file + rename: never half a file.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CheckResult } from './scheduler.js';
import { writeFileAtomicSync } from '../core/atomic-write.js';

/** XML 1.0 forbids most control characters even escaped: they are dropped (ANSI colours in logs). */
function clean(s: string): string {
  return s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}

export function escapeXml(s: string): string {
  return clean(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

export function junitXml(results: readonly CheckResult[], o: { suite?: string; timestamp?: Date; durationMs?: number } = {}): string {
  const name = o.suite ?? 'helfy smoke';
  const groups = [...new Set(results.map((r) => r.group))];
  const count = (rs: readonly CheckResult[], s: CheckResult['status']) => rs.filter((r) => r.status === s).length;
  const total = o.durationMs ?? results.reduce((a, r) => a + r.durationMs, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(name)}" tests="${results.length}" failures="${count(results, 'failed')}" errors="0" skipped="${count(results, 'skipped')}" time="${secs(total)}">`,
  ];
  const stamp = (o.timestamp ?? new Date()).toISOString().slice(0, 19);
  for (const g of groups) {
    const rs = results.filter((r) => r.group === g);
    lines.push(
      `  <testsuite name="${escapeXml(g)}" tests="${rs.length}" failures="${count(rs, 'failed')}" errors="0" skipped="${count(rs, 'skipped')}" time="${secs(Math.max(0, ...rs.map((r) => r.durationMs)))}" timestamp="${stamp}">`,
    );
    for (const r of rs) {
      const open = `    <testcase classname="${escapeXml(r.group)}" name="${escapeXml(r.name)}" time="${secs(r.durationMs)}"`;
      if (r.status === 'passed') {
        lines.push(r.message ? `${open}>\n      <system-out>${escapeXml(r.message)}</system-out>\n    </testcase>` : `${open}/>`);
      } else if (r.status === 'skipped') {
        lines.push(`${open}>\n      <skipped message="${escapeXml(r.message ?? 'skipped')}"/>\n    </testcase>`);
      } else {
        const body = [r.message ?? 'failed', ...(r.logs?.length ? ['', `last log lines of ${r.service ?? 'the service'}:`, ...r.logs] : [])].join('\n');
        lines.push(`${open}>\n      <failure message="${escapeXml(r.message ?? 'failed')}" type="${escapeXml(r.service ? `${r.service}` : 'check')}">${escapeXml(body)}</failure>\n    </testcase>`);
      }
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

/** Writes the report atomically (temp file in the same folder, then rename). */
export function writeJunit(file: string, xml: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomicSync(file, xml);
}
