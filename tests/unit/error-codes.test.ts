/**
 * The specific error codes that replaced OPERATION_FAILED where one code covered unlike failures:
 * the code says what kind of failure it is, the exit code stays the documented 1.
 */
import { describe, expect, it } from 'vitest';
import { MANIFEST_FORMAT, parseManifest } from '../../src/backup/manifest.js';
import { ExitCode, HelfyError } from '../../src/core/errors.js';
import { DiskFullError } from '../../src/runtime/tool-run.js';

function thrown(f: () => unknown): HelfyError {
  try {
    f();
  } catch (e) {
    if (e instanceof HelfyError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('error codes', () => {
  it('a manifest that is not JSON, or not a manifest, is BACKUP_DAMAGED (exit 1)', () => {
    const a = thrown(() => parseManifest('{nope', 'b1'));
    expect([a.code, a.exitCode]).toEqual(['BACKUP_DAMAGED', ExitCode.Failed]);
    expect(a.message).toMatch(/^b1: manifest.json is not valid JSON/);
    const b = thrown(() => parseManifest('{"format":1}', 'b2'));
    expect([b.code, b.message]).toEqual(['BACKUP_DAMAGED', 'b2: manifest.json is not a helfy backup manifest']);
  });

  it('a manifest of a newer format is BACKUP_INCOMPATIBLE (exit 1)', () => {
    const e = thrown(() => parseManifest('{"format":99,"id":"x","files":[]}', 'b3'));
    expect([e.code, e.exitCode, e.message]).toEqual(['BACKUP_INCOMPATIBLE', ExitCode.Failed, `b3: manifest format 99 is newer than this helfy understands (${MANIFEST_FORMAT})`]);
  });

  it('a full disk while streaming a dump is DISK_FULL (exit 1), naming the file', () => {
    const e = new DiskFullError('/b/x.dump', 42);
    expect([e.code, e.exitCode, e.data]).toEqual(['DISK_FULL', ExitCode.Failed, { reason: 'ENOSPC', file: '/b/x.dump' }]);
    expect(e.message).toBe('disk full while writing /b/x.dump (42 bytes written): no space left on device');
  });
});
