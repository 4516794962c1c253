import type { PageContextServer } from 'vike/types';
import { searchFoods } from '../../../server/api.js';
import { formOf } from '../../../server/context.js';
import { tokenOrLogin, withApi } from '../../../server/pagedata.js';

export async function data(pageContext: PageContextServer) {
  const token = tokenOrLogin(pageContext);
  const form = formOf(pageContext) ?? { values: {}, errors: {} };
  const q = pageContext.urlParsed.search.q ?? form.values.q ?? '';
  const r = await withApi(() => searchFoods(token, q || undefined, 100));
  return {
    q,
    form,
    foods: r.ok ? r.value.map((f) => ({ id: f.id, name: f.brand ? `${f.name} (${f.brand})` : f.name, kcal: f.energyKcal ?? undefined })) : [],
    apiDown: r.ok ? undefined : r.apiDown,
  };
}
export type Data = Awaited<ReturnType<typeof data>>;
