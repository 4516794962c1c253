import { useData } from 'vike-react/useData';
import { Field, FormMessage } from '../../components/Field.js';
import type { Data } from './+data.js';

export default function Page() {
  const { form } = useData<Data>();
  const e = form.errors;
  return (
    <section className="card narrow">
      <h1>Create your account</h1>
      <FormMessage message={form.message} />
      <form method="post" action="/signup" noValidate>
        <Field name="displayName" label="Your name" error={e.displayName}>
          {(p) => <input {...p} type="text" autoComplete="name" required defaultValue={form.values.displayName ?? ''} />}
        </Field>
        <Field name="email" label="Email" error={e.email}>
          {(p) => <input {...p} type="email" autoComplete="email" required defaultValue={form.values.email ?? ''} />}
        </Field>
        <Field name="password" label="Password" error={e.password} hint="At least 10 characters.">
          {(p) => <input {...p} type="password" autoComplete="new-password" required minLength={10} />}
        </Field>
        <button type="submit">Sign up</button>
      </form>
      <p>
        Already have an account? <a href="/login">Log in</a>
      </p>
    </section>
  );
}
