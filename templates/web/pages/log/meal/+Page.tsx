import { useData } from 'vike-react/useData';
import { ApiDown, Field, FormMessage } from '../../../components/Field.js';
import { TzOffset } from '../../../components/LocalTime.js';
import { RowFormActions, useRows } from '../../../components/RowForm.js';
import type { Data } from './+data.js';

const MEALS = ['breakfast', 'lunch', 'dinner', 'snack', 'pre_workout', 'post_workout', 'other'];
const mealLabel = (m: string) => (m.charAt(0).toUpperCase() + m.slice(1)).replace('_', '-');

export default function Page() {
  const { form, foods, q, apiDown } = useData<Data>();
  const v = form.values;
  const e = form.errors;
  const [rows, setRows] = useRows(v.rows);
  const options = [...foods];
  for (let i = 0; i < rows; i++) {
    const id = v[`food_${i}`];
    if (id && !options.some((o) => o.id === id)) options.push({ id, name: `Food ${id}`, kcal: undefined });
  }
  return (
    <section className="card">
      <h1>Log a meal</h1>
      <ApiDown message={apiDown} />
      <form method="get" action="/log/meal" className="search-row" role="search">
        <label htmlFor="q">Find foods</label>
        <input id="q" name="q" type="search" defaultValue={q} placeholder="e.g. oats, banana, cheddar" />
        <button type="submit" className="secondary">
          Search
        </button>
      </form>
      <p className="muted">{foods.length ? `${foods.length} foods to choose from${q ? ` matching “${q}”` : ''}.` : 'No foods found: search for another name.'}</p>
      <FormMessage message={form.message} />
      <form method="post" action={`/log/meal${q ? `?q=${encodeURIComponent(q)}` : ''}`} noValidate>
        <input type="hidden" name="rows" value={rows} />
        <input type="hidden" name="q" value={q} />
        <div className="row2">
          <Field name="meal" label="Meal" error={e.meal}>
            {(p) => (
              <select {...p} defaultValue={v.meal ?? 'lunch'}>
                {MEALS.map((m) => (
                  <option key={m} value={m}>
                    {mealLabel(m)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field name="time" label="When" error={e.time} hint="Leave empty for now.">
            {(p) => <input {...p} type="datetime-local" defaultValue={v.time ?? ''} />}
          </Field>
        </div>
        <TzOffset />
        <table className="sets">
          <caption>Foods</caption>
          <thead>
            <tr>
              <th scope="col">Food</th>
              <th scope="col" className="qty">Amount (g)</th>
            </tr>
          </thead>
          <tbody>
            {Array.from({ length: rows }, (_, i) => (
              <tr key={i}>
                <td className="wide">
                  <Field name={`food_${i}`} label={`Food ${i + 1}`} error={e[`food_${i}`]}>
                    {(p) => (
                      <select {...p} defaultValue={v[`food_${i}`] ?? ''}>
                        <option value="">— choose —</option>
                        {options.map((o) => (
                          <option key={o.id} value={o.id}>
                            {`${o.name}${o.kcal !== undefined ? ` · ${Math.round(o.kcal)} kcal/100 g` : ''}`}
                          </option>
                        ))}
                      </select>
                    )}
                  </Field>
                </td>
                <td>
                  <Field name={`grams_${i}`} label={`Amount of food ${i + 1} in grams`} error={e[`grams_${i}`]}>
                    {(p) => <input {...p} type="text" inputMode="decimal" defaultValue={v[`grams_${i}`] ?? ''} />}
                  </Field>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <RowFormActions addValue="addFood" addLabel="Add a food" saveLabel="Save meal" setRows={setRows} />
      </form>
    </section>
  );
}
