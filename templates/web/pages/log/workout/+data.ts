import type { PageContextServer } from 'vike/types';
import { searchExercises } from '../../../server/api.js';
import { formOf } from '../../../server/context.js';
import { tokenOrLogin, withApi } from '../../../server/pagedata.js';

export async function data(pageContext: PageContextServer) {
  const token = tokenOrLogin(pageContext);
  const form = formOf(pageContext) ?? { values: {}, errors: {} };
  const q = pageContext.urlParsed.search.q ?? form.values.q ?? '';
  const r = await withApi(() => searchExercises(token, { q: q || undefined, limit: 100 }));
  return {
    q,
    form,
    exercises: r.ok ? r.value.map((e) => ({ id: e.id, name: e.name })) : [],
    apiDown: r.ok ? undefined : r.apiDown,
  };
}
export type Data = Awaited<ReturnType<typeof data>>;
