import type { PageContextServer } from 'vike/types';
import { sessionOf } from '../server/context.js';

export function onCreatePageContext(pageContext: PageContextServer): void {
  pageContext.viewer = { loggedIn: sessionOf(pageContext) !== null };
}
