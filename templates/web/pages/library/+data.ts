import type { PageContextServer } from 'vike/types';
import { searchExercises } from '../../server/api.js';
import { tokenOrLogin, withApi } from '../../server/pagedata.js';

const KEYS = ['q', 'muscle', 'region', 'equipment', 'category', 'level'] as const;

export async function data(pageContext: PageContextServer) {
  const s = pageContext.urlParsed.search;
  const filters = Object.fromEntries(KEYS.map((k) => [k, (s[k] ?? '').trim()])) as Record<(typeof KEYS)[number], string>;
  const token = tokenOrLogin(pageContext);
  const r = await withApi(() =>
    searchExercises(token, { ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)), limit: 60 }),
  );
  return { filters, results: r.ok ? r.value : [], apiDown: r.ok ? undefined : r.apiDown };
}
export type Data = Awaited<ReturnType<typeof data>>;
