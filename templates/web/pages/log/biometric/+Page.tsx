import { useState } from 'react';
import { useData } from 'vike-react/useData';
import { Field, FormMessage } from '../../../components/Field.js';
import { TzOffset } from '../../../components/LocalTime.js';
import { METRICS } from '../../../components/metrics.js';
import type { Data } from './+data.js';

export default function Page() {
  const { form } = useData<Data>();
  const e = form.errors;
  // The hint follows the choice once React has hydrated; without JavaScript it names the first one.
  const [metric, setMetric] = useState(form.values.metric && METRICS[form.values.metric] ? form.values.metric : 'weight');
  const chosen = METRICS[metric]!;
  return (
    <section className="card narrow">
      <h1>Log a measurement</h1>
      <FormMessage message={form.message} />
      <form method="post" action="/log/biometric" noValidate>
        <Field name="metric" label="What did you measure?" error={e.metric}>
          {(p) => (
            <select {...p} value={metric} onChange={(ev) => setMetric(ev.target.value)}>
              {Object.entries(METRICS).map(([k, m]) => (
                <option key={k} value={k}>
                  {m.label} ({m.unit})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field name="value" label="Value" error={e.value} hint={`In ${chosen.unit} (the unit of the measurement you chose).`}>
          {(p) => <input {...p} type="text" inputMode="decimal" required defaultValue={form.values.value ?? ''} />}
        </Field>
        <Field name="time" label="When" error={e.time} hint="Leave empty for now.">
          {(p) => <input {...p} type="datetime-local" defaultValue={form.values.time ?? ''} />}
        </Field>
        <TzOffset />
        <button type="submit">Save</button>
      </form>
    </section>
  );
}
