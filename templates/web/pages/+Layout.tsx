import type { ReactNode } from 'react';
import { usePageContext } from 'vike-react/usePageContext';
import './style.css';

export default function Layout({ children }: { children: ReactNode }) {
  const pageContext = usePageContext();
  const loggedIn = pageContext.viewer?.loggedIn ?? false;
  const path = pageContext.urlPathname;
  const link = (href: string, label: string) => (
    <a href={href} aria-current={path === href || (href !== '/' && path.startsWith(href + '/')) ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <div className="shell">
      <header className="top">
        <a className="brand" href={loggedIn ? '/dashboard' : '/'}>
          <span aria-hidden="true">♥</span> Helfy
        </a>
        <nav aria-label="Main">
          {loggedIn ? (
            <>
              {link('/dashboard', 'Dashboard')}
              {link('/log/biometric', 'Log a measurement')}
              {link('/log/workout', 'Log a workout')}
              {link('/log/meal', 'Log a meal')}
              {link('/library', 'Exercise library')}
              <form method="post" action="/logout" className="inline">
                <button type="submit" className="link">Log out</button>
              </form>
            </>
          ) : (
            <>
              {link('/login', 'Log in')}
              {link('/signup', 'Sign up')}
            </>
          )}
        </nav>
      </header>
      <main>{children}</main>
      <footer className="foot">Helfy · exercise data: free-exercise-db (public domain) · food data: USDA SR28</footer>
    </div>
  );
}
