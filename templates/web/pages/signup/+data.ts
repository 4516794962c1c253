import type { PageContextServer } from 'vike/types';
import { formOf } from '../../server/context.js';

export function data(pageContext: PageContextServer) {
  return { form: formOf(pageContext) ?? { values: {}, errors: {} } };
}
export type Data = ReturnType<typeof data>;
