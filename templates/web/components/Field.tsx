/** A labelled form field with its error next to it (linked with aria-describedby). */
import type { ReactNode } from 'react';

interface Props {
  name: string;
  label: string;
  error?: string | undefined;
  hint?: string;
  children: (p: { id: string; name: string; 'aria-invalid'?: true; 'aria-describedby'?: string }) => ReactNode;
}

export function Field({ name, label, error, hint, children }: Props) {
  const id = `f-${name}`;
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children({ id, name, ...(error ? { 'aria-invalid': true as const } : {}), ...(describedBy ? { 'aria-describedby': describedBy } : {}) })}
      {hint ? (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function FormMessage({ message }: { message?: string | undefined }) {
  return message ? (
    <p className="banner error" role="alert">
      {message}
    </p>
  ) : null;
}

export function ApiDown({ message }: { message?: string | undefined }) {
  return message ? (
    <div className="banner warn" role="alert">
      <strong>The Helfy API is not reachable right now.</strong> {message} Your data is safe; reload the page in a moment.
    </div>
  ) : null;
}
