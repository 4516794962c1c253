import { redirect } from 'vike/abort';
import type { PageContextServer } from 'vike/types';

// The home page is the dashboard when logged in, the log-in page otherwise.
export function guard(pageContext: PageContextServer): void {
  throw redirect(pageContext.viewer?.loggedIn ? '/dashboard' : '/login');
}
