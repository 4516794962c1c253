import { usePageContext } from 'vike-react/usePageContext';

export default function Page() {
  const { is404, abortReason } = usePageContext();
  if (is404) {
    return (
      <section className="card narrow">
        <h1>Page not found</h1>
        <p>{typeof abortReason === 'string' ? abortReason : 'There is no page at this address.'}</p>
        <p>
          <a href="/dashboard">Go to your dashboard</a> or <a href="/library">browse the exercise library</a>.
        </p>
      </section>
    );
  }
  return (
    <section className="card narrow">
      <h1>Something went wrong</h1>
      <p>{typeof abortReason === 'string' ? abortReason : 'The page could not be shown. Try again in a moment.'}</p>
    </section>
  );
}
