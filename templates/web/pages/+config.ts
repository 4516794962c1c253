import type { Config } from 'vike/types';
import vikeReact from 'vike-react/config';

export default {
  extends: [vikeReact],
  title: 'Helfy',
  description: 'Your health, tracked: biometrics, workouts and meals.',
  // Only what the pages need in the browser: never the tokens (they stay in httpOnly cookies).
  passToClient: ['viewer'],
} satisfies Config;

declare global {
  namespace Vike {
    interface PageContext {
      /** Whether a session cookie came with the request (its validity is checked by each page's API calls). */
      viewer?: { loggedIn: boolean };
    }
  }
}
