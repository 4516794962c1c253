import { render } from 'vike/abort';
import type { PageContextServer } from 'vike/types';
import { alternatives, ApiResponseError, exerciseDetail } from '../../../server/api.js';
import { tokenOrLogin, withApi } from '../../../server/pagedata.js';

export async function data(pageContext: PageContextServer) {
  const id = pageContext.routeParams.id!;
  const token = tokenOrLogin(pageContext);
  const haveRaw = pageContext.urlParsed.searchAll.have ?? [];
  const have = haveRaw.flatMap((h) => h.split(',')).map((h) => h.trim()).filter(Boolean);
  try {
    const r = await withApi(() => Promise.all([exerciseDetail(token, id), alternatives(token, id, have)]));
    if (!r.ok) return { apiDown: r.apiDown, id, have } as const;
    const [ex, alts] = r.value;
    return {
      apiDown: undefined,
      id,
      have,
      exercise: {
        id: ex.id,
        name: ex.name,
        level: ex.level,
        category: ex.category,
        force: ex.force,
        mechanic: ex.mechanic,
        equipment: ex.equipment,
        instructions: ex.instructions,
        primary: ex.primaryMuscles,
        secondary: ex.secondaryMuscles,
      },
      alternatives: alts.map((a) => ({ id: a.id, name: a.name, equipment: a.equipment, shared: a.sharedMuscles })),
    } as const;
  } catch (e) {
    if (e instanceof ApiResponseError && e.status === 404) throw render(404, `There is no exercise “${id}” in the library.`);
    throw e;
  }
}
export type Data = Awaited<ReturnType<typeof data>>;
