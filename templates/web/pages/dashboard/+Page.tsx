import { useData } from 'vike-react/useData';
import { Chart } from '../../components/Chart.js';
import { ApiDown } from '../../components/Field.js';
import { dayLabel, formatInteger, formatValue, metricInfo, METRICS } from '../../components/metrics.js';
import type { Data } from './+data.js';

const SAVED: Record<string, string> = { biometric: 'Measurement saved.', workout: 'Workout saved.', meal: 'Meal saved.' };

export default function Page() {
  const d = useData<Data>();
  if (d.apiDown !== undefined) {
    return (
      <section>
        <h1>Dashboard</h1>
        <ApiDown message={d.apiDown} />
      </section>
    );
  }
  const kcal = d.totals?.energyKcal ?? 0;
  return (
    <section className="dashboard">
      <div className="page-head">
        <h1>Hello, {d.user.displayName}</h1>
        <p className="muted">Today, {dayLabel(Date.parse(d.day))} ({d.timezone})</p>
      </div>
      {d.saved && SAVED[d.saved] ? (
        <p className="banner ok" role="status">
          {SAVED[d.saved]}
        </p>
      ) : null}
      <h2 className="sr-only">Today's numbers</h2>
      <ul className="tiles" aria-label="Today's numbers">
        {d.today.map((t) => {
          const info = metricInfo(t.metric);
          return (
            <li key={t.metric} className="tile" data-metric={t.metric}>
              <span className="tile-label" title={info.label}>
                {info.short ?? info.label}
              </span>
              {t.value === undefined ? (
                <span className="tile-value none">—</span>
              ) : (
                <span className="tile-value">
                  {formatValue(t.metric, t.value)} <small>{info.unit === 'count' ? '' : info.unit}</small>
                </span>
              )}
              <span className="tile-note">{t.value === undefined ? 'not logged yet' : t.isToday ? 'today' : `last on ${dayLabel(t.day!)}`}</span>
            </li>
          );
        })}
        <li className="tile" data-metric="energy">
          <span className="tile-label">Eaten today</span>
          <span className="tile-value">
            {formatInteger(Math.round(kcal))} <small>kcal</small>
          </span>
          <span className="tile-note">
            P {Math.round(d.totals?.proteinG ?? 0)} g · F {Math.round(d.totals?.fatG ?? 0)} g · C {Math.round(d.totals?.carbsG ?? 0)} g
          </span>
        </li>
        <li className="tile" data-metric="workouts">
          <span className="tile-label">Workouts</span>
          <span className="tile-value">{d.workouts.length}</span>
          <span className="tile-note">{d.workouts.length ? d.workouts.map((w) => `${w.name ?? 'Workout'} (${w.sets} set${w.sets === 1 ? '' : 's'})`).join(', ') : 'none yet today'}</span>
        </li>
      </ul>

      <div className="card">
        <form method="get" action="/dashboard" className="chart-picker">
          <label htmlFor="metric">Chart</label>
          <select id="metric" name="metric" defaultValue={d.metric} onChange={(ev) => ev.currentTarget.form?.requestSubmit()}>
            {Object.entries(METRICS).map(([k, m]) => (
              <option key={k} value={k}>
                {m.label}
              </option>
            ))}
          </select>
          <button type="submit" className="secondary">
            Show
          </button>
        </form>
        <Chart metric={d.metric} points={d.points} from={d.from} to={d.to} />
      </div>
      <p className="actions">
        <a className="button" href={`/log/biometric?metric=${d.metric}`}>
          Log a measurement
        </a>
        <a className="button secondary" href="/log/workout">
          Log a workout
        </a>
        <a className="button secondary" href="/log/meal">
          Log a meal
        </a>
      </p>
    </section>
  );
}
