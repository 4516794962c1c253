import { describe, expect, it } from 'vitest';
import { HelfyError } from '../../src/core/errors.js';
import { asUserError } from '../../src/db/orchestrate.js';

describe('server errors that escape a store become user errors', () => {
  it('maps a PostgreSQL error with its SQLSTATE', () => {
    const e = asUserError(Object.assign(new Error('permission denied for table __drizzle_migrations'), { code: '42501', severity: 'ERROR' })) as HelfyError;
    expect(e).toBeInstanceOf(HelfyError);
    expect(e.code).toBe('OPERATION_FAILED');
    expect(e.message).toBe('PostgreSQL: permission denied for table __drizzle_migrations (SQLSTATE 42501)');
    expect(e.hint).toContain('helfy db bootstrap');
  });
  it('maps a Neo4j error and a dropped connection', () => {
    expect((asUserError(Object.assign(new Error('boom'), { code: 'Neo.DatabaseError.General.UnknownError' })) as HelfyError).message).toBe('Neo4j: boom (Neo.DatabaseError.General.UnknownError)');
    expect((asUserError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })) as HelfyError).exitCode).toBe(3);
  });
  it('leaves HelfyErrors and real bugs alone', () => {
    const h = new HelfyError('USAGE', 'x');
    expect(asUserError(h)).toBe(h);
    const bug = new TypeError('undefined is not a function');
    expect(asUserError(bug)).toBe(bug);
  });
});
