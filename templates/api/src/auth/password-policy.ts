/**
 * The password rule of registration, on top of the schema's "at least 10 characters": the password
 * must not be easy to guess, as estimated by zxcvbn-ts (`@zxcvbn-ts/core` + `@zxcvbn-ts/language-common`,
 * MIT, https://github.com/zxcvbn-ts/zxcvbn — the maintained TypeScript port of Dropbox's zxcvbn; no
 * install scripts). It knows the ~30,000 most common passwords of leaked lists (language-common)
 * and recognises what a list cannot: keyboard rows, repeats ("          "), sequences
 * ("1234567890", "abcdefghij"), dates, l33t and reversed variants, and the user's own e-mail and
 * name. A password needs score ≥ 3 ("safely unguessable", ≥ 10^8 guesses).
 *
 * Why a library and only its common package: a shipped list would catch "1234567890" but not
 * "qwertyuiop1" or a repeated word. The English dictionaries (@zxcvbn-ts/language-en, 5 MB) would
 * cost up to 10× the CPU per check — on the event loop of an unauthenticated route — for little
 * beyond the password list; the messages below are ours, so no translation package is needed.
 *
 * Cost: nothing at start. The library is imported and its matcher built on the first registration
 * (~50 ms once); a check takes ~1–35 ms, on at most MAX_CHECKED characters (a longer password is
 * judged on its first 64, which zxcvbn's authors consider plenty).
 */
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { ApiError } from '../lib/errors.js';

export const MIN_SCORE = 3;
const MAX_CHECKED = 64;

/** zxcvbn's warning keys (untranslated: no translations are loaded) → why, in our words. */
const WHY: Record<string, string> = {
  topTen: 'it is one of the most common passwords',
  topHundred: 'it is one of the most common passwords',
  common: 'it is a commonly used password',
  similarToCommon: 'it is a small variation of a commonly used password',
  straightRow: 'it is a row of keys on the keyboard',
  keyPattern: 'it is a keyboard pattern',
  simpleRepeat: 'it repeats one character',
  extendedRepeat: 'it repeats a short pattern',
  sequences: 'it is a sequence like "abcd" or "1234"',
  recentYears: 'it is or ends in a recent year',
  dates: 'it is a date',
  wordByItself: 'it is a single word',
  namesByThemselves: 'it is a name',
  commonNames: 'it is a common name',
  userInputs: 'it contains your e-mail address or name',
};

let factory: Promise<ZxcvbnFactory> | undefined;

function estimator(): Promise<ZxcvbnFactory> {
  factory ??= (async () => {
    const [{ ZxcvbnFactory }, common] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common')]);
    // l33tMaxSubstitutions 10 (default 100): the l33t matcher's cost explodes on strings made of
    // substitutable characters ("p@ssw0rd" × 8: 370 ms → 25 ms); ten substitutions is plenty.
    return new ZxcvbnFactory({ dictionary: common.dictionary, graphs: common.adjacencyGraphs, maxLength: MAX_CHECKED, l33tMaxSubstitutions: 10 });
  })();
  factory.catch(() => (factory = undefined)); // a failed import is retried by the next call
  return factory;
}

/** The account's own words a password must not be built from: the e-mail, its parts, the name and its words. */
export function personalWords(user: { email?: string; displayName?: string }): string[] {
  const email = user.email?.toLowerCase() ?? '';
  const local = email.split('@')[0] ?? '';
  const name = user.displayName?.toLowerCase() ?? '';
  const localParts = local.split(/[._+-]+/);
  const nameParts = name.split(/\s+/);
  const words = [email, local, localParts.join(''), ...localParts, name, nameParts.join(''), ...nameParts];
  return [...new Set(words.filter((w) => w.length >= 3))];
}

/** Why `password` is too easy to guess (a sentence for the user), or undefined when it is fine. */
export async function passwordWeakness(password: string, user: { email?: string; displayName?: string } = {}): Promise<string | undefined> {
  const z = await estimator();
  const r = z.check(password, personalWords(user));
  if (r.score >= MIN_SCORE) return undefined;
  const why = (r.feedback.warning && WHY[r.feedback.warning]) || 'it would be guessed quickly';
  return `is too easy to guess: ${why}. Use a longer passphrase of several uncommon words`;
}

/** 400 VALIDATION naming `password` (the shape of every validation error) for a weak password. */
export async function assertStrongPassword(password: string, user: { email: string; displayName: string }): Promise<void> {
  const weakness = await passwordWeakness(password, user);
  if (weakness) throw new ApiError(400, 'VALIDATION', `password: ${weakness}`, {}, [{ field: 'password', message: weakness }]);
}
