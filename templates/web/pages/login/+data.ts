import type { PageContextServer } from 'vike/types';
import { formOf } from '../../server/context.js';

export function data(pageContext: PageContextServer) {
  const q = pageContext.urlParsed.search;
  return {
    form: formOf(pageContext) ?? { values: { next: q.next ?? '' }, errors: {} },
    notice: q.expired !== undefined ? 'Your session has ended. Please log in again.' : q.loggedOut !== undefined ? 'You are logged out.' : undefined,
  };
}
export type Data = ReturnType<typeof data>;
