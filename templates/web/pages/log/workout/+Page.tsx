import { useData } from 'vike-react/useData';
import { ApiDown, Field, FormMessage } from '../../../components/Field.js';
import { TzOffset } from '../../../components/LocalTime.js';
import { RowFormActions, useRows } from '../../../components/RowForm.js';
import type { Data } from './+data.js';

export default function Page() {
  const { form, exercises, q, apiDown } = useData<Data>();
  const v = form.values;
  const e = form.errors;
  // With JavaScript "Add a set" adds a row here; without, it posts and the server adds one.
  const [rows, setRows] = useRows(v.rows);
  const options = [...exercises];
  for (let i = 0; i < rows; i++) {
    const id = v[`exercise_${i}`];
    if (id && !options.some((o) => o.id === id)) options.push({ id, name: id.replace(/_/g, ' ') });
  }
  return (
    <section className="card">
      <h1>Log a workout</h1>
      <ApiDown message={apiDown} />
      <form method="get" action="/log/workout" className="search-row" role="search">
        <label htmlFor="q">Find exercises</label>
        <input id="q" name="q" type="search" defaultValue={q} placeholder="e.g. squat, curl, plank" />
        <button type="submit" className="secondary">
          Search
        </button>
      </form>
      <p className="muted">{exercises.length ? `${exercises.length} exercises to choose from${q ? ` matching “${q}”` : ''}.` : 'No exercises found: search for another name.'}</p>
      <FormMessage message={form.message} />
      <form method="post" action={`/log/workout${q ? `?q=${encodeURIComponent(q)}` : ''}`} noValidate>
        <input type="hidden" name="rows" value={rows} />
        <input type="hidden" name="q" value={q} />
        <div className="row2">
          <Field name="name" label="Name (optional)" error={e.name}>
            {(p) => <input {...p} type="text" placeholder="Leg day" defaultValue={v.name ?? ''} />}
          </Field>
          <Field name="time" label="When" error={e.time} hint="Leave empty for now.">
            {(p) => <input {...p} type="datetime-local" defaultValue={v.time ?? ''} />}
          </Field>
        </div>
        <TzOffset />
        <table className="sets">
          <caption>Sets</caption>
          <thead>
            <tr>
              <th scope="col" className="num">#</th>
              <th scope="col">Exercise</th>
              <th scope="col" className="qty">Reps</th>
              <th scope="col" className="qty">Weight (kg)</th>
            </tr>
          </thead>
          <tbody>
            {Array.from({ length: rows }, (_, i) => (
              <tr key={i}>
                <td className="num">
                  <span className="num-word">Set </span>
                  {i + 1}
                </td>
                <td className="wide">
                  <Field name={`exercise_${i}`} label={`Exercise of set ${i + 1}`} error={e[`exercise_${i}`]}>
                    {(p) => (
                      <select {...p} defaultValue={v[`exercise_${i}`] ?? ''}>
                        <option value="">— choose —</option>
                        {options.map((o) => (
                          <option key={o.id} value={o.id}>
                            {o.name}
                          </option>
                        ))}
                      </select>
                    )}
                  </Field>
                </td>
                <td>
                  <Field name={`reps_${i}`} label={`Reps of set ${i + 1}`} error={e[`reps_${i}`]}>
                    {(p) => <input {...p} type="number" min={1} step={1} inputMode="numeric" defaultValue={v[`reps_${i}`] ?? ''} />}
                  </Field>
                </td>
                <td>
                  <Field name={`weight_${i}`} label={`Weight of set ${i + 1} in kg`} error={e[`weight_${i}`]}>
                    {(p) => <input {...p} type="text" inputMode="decimal" defaultValue={v[`weight_${i}`] ?? ''} />}
                  </Field>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <RowFormActions addValue="addSet" addLabel="Add a set" saveLabel="Save workout" setRows={setRows} />
      </form>
    </section>
  );
}
