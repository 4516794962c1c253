import { useData } from 'vike-react/useData';
import { Field, FormMessage } from '../../components/Field.js';
import type { Data } from './+data.js';

export default function Page() {
  const { form, notice } = useData<Data>();
  const e = form.errors;
  return (
    <section className="card narrow">
      <h1>Log in</h1>
      {notice ? <p className="banner info">{notice}</p> : null}
      <FormMessage message={form.message} />
      <form method="post" action="/login" noValidate>
        <input type="hidden" name="next" value={form.values.next ?? ''} />
        <Field name="email" label="Email" error={e.email}>
          {(p) => <input {...p} type="email" autoComplete="email" required defaultValue={form.values.email ?? ''} />}
        </Field>
        <Field name="password" label="Password" error={e.password}>
          {(p) => <input {...p} type="password" autoComplete="current-password" required />}
        </Field>
        <button type="submit">Log in</button>
      </form>
      <p>
        New here? <a href="/signup">Create an account</a>
      </p>
    </section>
  );
}
