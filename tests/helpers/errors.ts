import type { HelfyError } from '../../src/core/errors.js';

/** The error a promise rejects with (as a HelfyError, for its code and hint); fails when it resolves. */
export async function errorOf(p: Promise<unknown>): Promise<HelfyError> {
  try {
    await p;
  } catch (e) {
    return e as HelfyError;
  }
  throw new Error('expected a rejection');
}
