import { useData } from 'vike-react/useData';
import { ApiDown } from '../../components/Field.js';
import { cap, CATEGORIES, EQUIPMENT, LEVELS, MUSCLES, REGIONS } from '../../components/library.js';
import type { Data } from './+data.js';

function Select({ name, label, value, options }: { name: string; label: string; value: string; options: string[] }) {
  return (
    <div className="field">
      <label htmlFor={`lib-${name}`}>{label}</label>
      <select id={`lib-${name}`} name={name} defaultValue={value}>
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {cap(o)}
          </option>
        ))}
      </select>
    </div>
  );
}

export default function Page() {
  const { filters: f, results, apiDown } = useData<Data>();
  const searched = Object.values(f).some(Boolean);
  return (
    <section>
      <h1>Exercise library</h1>
      <ApiDown message={apiDown} />
      <form method="get" action="/library" className="card filters" role="search">
        <div className="field grow">
          <label htmlFor="lib-q">Search by name</label>
          <input id="lib-q" name="q" type="search" defaultValue={f.q} placeholder="e.g. squat" />
        </div>
        <Select name="region" label="Body region" value={f.region} options={Object.keys(REGIONS)} />
        <Select name="muscle" label="Muscle" value={f.muscle} options={MUSCLES} />
        <Select name="equipment" label="Equipment" value={f.equipment} options={EQUIPMENT} />
        <Select name="category" label="Category" value={f.category} options={CATEGORIES} />
        <Select name="level" label="Level" value={f.level} options={LEVELS} />
        <button type="submit">Search</button>
      </form>
      {apiDown ? null : (
        <>
          <p className="muted" role="status">
            {results.length
              ? `${results.length}${results.length >= 60 ? '+' : ''} exercise${results.length === 1 ? '' : 's'}${searched ? ' found' : ''}.`
              : 'No exercise matches: try fewer filters or another name.'}
          </p>
          <ul className="results">
            {results.map((e) => (
              <li key={e.id}>
                <a href={`/library/${encodeURIComponent(e.id)}`}>{e.name}</a>
                <span className="tags">
                  {e.level ? <span className="tag">{e.level}</span> : null}
                  {e.category ? <span className="tag">{e.category}</span> : null}
                  {e.primaryMuscles.map((m) => (
                    <span key={m} className="tag muscle">
                      {m}
                    </span>
                  ))}
                  {e.equipment.map((m) => (
                    <span key={m} className="tag gear">
                      {m}
                    </span>
                  ))}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
