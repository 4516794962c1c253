import type { PageContextServer } from 'vike/types';
import { METRICS } from '../../../components/metrics.js';
import { formOf } from '../../../server/context.js';
import { tokenOrLogin } from '../../../server/pagedata.js';

export function data(pageContext: PageContextServer) {
  tokenOrLogin(pageContext);
  const q = pageContext.urlParsed.search;
  return { form: formOf(pageContext) ?? { values: { metric: q.metric && METRICS[q.metric] ? q.metric : 'weight' }, errors: {} } };
}
export type Data = ReturnType<typeof data>;
