/** Compose v1/v2 detection and argument building (pure), and small parsers. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeCommandLine, composeDownArgs, composeUpArgs, detectCompose, parseComposeVersion, resetComposeDetection, type ComposeCommand } from '../../src/runtime/docker/compose.js';
import { errorOf } from '../helpers/errors.js';
import { demuxLogs } from '../../src/runtime/docker/containers.js';
import { encodeStringField1, protoFields } from '../../src/db/probes.js';
import { parseDuration, parseSince } from '../../src/stack/duration.js';

const v1: ComposeCommand = { flavor: 'v1', version: '1.29.2', argv: ['docker-compose'] };
const v2: ComposeCommand = { flavor: 'v2', version: '2.40.3', argv: ['docker', 'compose'] };
const oldV2: ComposeCommand = { flavor: 'v2', version: '2.2.3', argv: ['docker', 'compose'] };
const target = { file: '/x/compose/docker-compose.yml', project: 'demo' };

describe('compose version parsing', () => {
  it.each([
    ['1.29.2\n', '1.29.2'],
    ['v2.40.3', '2.40.3'],
    ['2.27.0-desktop.1', '2.27.0-desktop.1'],
    ['docker-compose version 1.29.2, build unknown', '1.29.2'],
    ['', undefined],
  ])('%j → %s', (out, want) => expect(parseComposeVersion(out)).toBe(want));
});

describe('compose detection says what each probe answered', () => {
  // A stand-in `docker` on PATH (a shell script that fails): the real engine's CLI is covered by
  // the e2e suites; this checks only the message when no compose answers.
  it('a failing plugin and a missing docker-compose: COMPOSE_MISSING naming both outcomes; the next call probes again', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'helfy-compose-'));
    try {
      writeFileSync(join(bin, 'docker'), '#!/bin/sh\necho "docker: \'compose\' is not a docker command." >&2\nexit 1\n', { mode: 0o755 });
      resetComposeDetection();
      const err = await errorOf(detectCompose({ PATH: bin }));
      expect(err).toMatchObject({ code: 'COMPOSE_MISSING' });
      expect(err.message).toContain("`docker compose`: exit 1: docker: 'compose' is not a docker command.");
      expect(err.message).toContain('`docker-compose`: not found');
      writeFileSync(join(bin, 'docker'), '#!/bin/sh\necho v2.40.3\n', { mode: 0o755 });
      expect(await detectCompose({ PATH: bin })).toMatchObject({ flavor: 'v2', version: '2.40.3' });
    } finally {
      resetComposeDetection();
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe('compose command lines', () => {
  it('v1 is its own binary, v2 a docker subcommand; global flags come first', () => {
    expect(composeCommandLine(v1, target, ['ps'])).toEqual(['docker-compose', ['-p', 'demo', '-f', '/x/compose/docker-compose.yml', 'ps']]);
    expect(composeCommandLine(v2, { ...target, profiles: ['ui'] }, ['ps'])).toEqual(['docker', ['compose', '-p', 'demo', '-f', '/x/compose/docker-compose.yml', '--profile', 'ui', 'ps']]);
  });

  it('up: --build for both; --pull only where the flavor has it (v2 >= 2.9)', () => {
    expect(composeUpArgs(v1, ['postgres'], { build: true, pull: 'never' })).toEqual(['up', '-d', '--build', 'postgres']);
    expect(composeUpArgs(v2, ['postgres', 'neo4j'], { pull: 'never' })).toEqual(['up', '-d', '--pull', 'never', 'postgres', 'neo4j']);
    expect(composeUpArgs(oldV2, ['api'], { pull: 'missing' })).toEqual(['up', '-d', 'api']);
  });

  it('down removes orphans and, only when asked, volumes', () => {
    expect(composeDownArgs(v1)).toEqual(['down', '--remove-orphans', '--timeout', '10']);
    expect(composeDownArgs(v2, { volumes: true })).toEqual(['down', '--remove-orphans', '--timeout', '10', '--volumes']);
  });
});

describe('docker log demultiplexing', () => {
  const frame = (stream: number, text: string) => {
    const b = Buffer.from(text);
    const h = Buffer.alloc(8);
    h[0] = stream;
    h.writeUInt32BE(b.length, 4);
    return Buffer.concat([h, b]);
  };
  it('splits frames into lines per stream, keeping partial lines and frames', () => {
    const partial = { stdout: '', stderr: '' };
    const buf = Buffer.concat([frame(1, 'a\nb'), frame(2, 'oops\n'), frame(1, 'c\n'), frame(1, 'tail').subarray(0, 6)]);
    const { lines, rest } = demuxLogs(buf, partial);
    expect(lines).toEqual([{ stream: 'stdout', text: 'a' }, { stream: 'stderr', text: 'oops' }, { stream: 'stdout', text: 'bc' }]);
    expect(rest.length).toBe(6);
  });
  it('passes raw (TTY) output through', () => {
    expect(demuxLogs(Buffer.from('hello\nworld\n')).lines.map((l) => l.text)).toEqual(['hello', 'world']);
  });
});

describe('gRPC health message encoding', () => {
  it('encodes HealthCheckRequest.service and decodes a SERVING answer', () => {
    const req = encodeStringField1('temporal.api.workflowservice.v1.WorkflowService');
    expect(req[0]).toBe(0x0a);
    expect(req[1]).toBe(47);
    expect(protoFields(Buffer.from([0x08, 0x01])).get(1)).toEqual({ wire: 0, value: 1 });
    const info = protoFields(Buffer.from([0x0a, 0x06, ...Buffer.from('1.32.1'), 0x12, 0x02, 0x08, 0x01]));
    expect((info.get(1)!.value as Buffer).toString()).toBe('1.32.1');
  });
});

describe('durations', () => {
  it('parses --timeout values', () => {
    expect(parseDuration('180s', '--timeout')).toBe(180_000);
    expect(parseDuration('3m', '--timeout')).toBe(180_000);
    expect(parseDuration('90', '--timeout')).toBe(90_000);
    expect(() => parseDuration('soon', '--timeout')).toThrow(/not a duration/);
  });
  it('parses --since as a duration ago or a date', () => {
    expect(parseSince('10m', 1_000_000_000)).toBe(1_000_000 - 600);
    expect(parseSince('2024-05-01T00:00:00Z')).toBe(Date.parse('2024-05-01T00:00:00Z') / 1000);
    expect(() => parseSince('yesterday-ish')).toThrow(/neither a duration nor a date/);
  });
});
