import { useData } from 'vike-react/useData';
import { ApiDown } from '../../../components/Field.js';
import { cap, EQUIPMENT } from '../../../components/library.js';
import type { Data } from './+data.js';

export default function Page() {
  const d = useData<Data>();
  if (d.apiDown !== undefined) {
    return (
      <section>
        <h1>Exercise</h1>
        <ApiDown message={d.apiDown} />
      </section>
    );
  }
  const ex = d.exercise;
  return (
    <article className="exercise">
      <p>
        <a href="/library">← Exercise library</a>
      </p>
      <h1>{ex.name}</h1>
      <p className="tags">
        {[ex.level, ex.category, ex.mechanic, ex.force].filter(Boolean).map((t) => (
          <span key={t} className="tag">
            {t}
          </span>
        ))}
      </p>
      <div className="grid2">
        <section className="card" aria-labelledby="muscles-h">
          <h2 id="muscles-h">Muscles</h2>
          <h3>Primary</h3>
          <ul className="muscles" data-role="primary">
            {ex.primary.map((m) => (
              <li key={m.name}>
                {cap(m.name)}
                {m.region ? <span className="muted"> · {m.region}</span> : null}
              </li>
            ))}
          </ul>
          {ex.secondary.length ? (
            <>
              <h3>Secondary</h3>
              <ul className="muscles" data-role="secondary">
                {ex.secondary.map((m) => (
                  <li key={m.name}>
                    {cap(m.name)}
                    {m.region ? <span className="muted"> · {m.region}</span> : null}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          <h3>Equipment</h3>
          <p>{ex.equipment.length ? ex.equipment.map(cap).join(', ') : 'None needed'}</p>
        </section>
        <section className="card" aria-labelledby="alt-h">
          <h2 id="alt-h">Alternatives</h2>
          <form method="get" action={`/library/${encodeURIComponent(ex.id)}`} className="have">
            <fieldset>
              <legend>Equipment you have</legend>
              {EQUIPMENT.filter((e) => e !== 'body only' && e !== 'other').map((e) => (
                <label key={e} className="check">
                  <input type="checkbox" name="have" value={e} defaultChecked={d.have.includes(e)} /> {cap(e)}
                </label>
              ))}
            </fieldset>
            <button type="submit" className="secondary">
              Show alternatives
            </button>
          </form>
          {d.alternatives.length ? (
            <ol className="alternatives">
              {d.alternatives.map((a) => (
                <li key={a.id}>
                  <a href={`/library/${encodeURIComponent(a.id)}`}>{a.name}</a>
                  <span className="muted">
                    {' '}
                    · {a.equipment.length ? a.equipment.join(', ') : 'no equipment'}
                    {a.shared.length ? ` · shares ${a.shared.join(', ')}` : ''}
                  </span>
                </li>
              ))}
            </ol>
          ) : (
            <p className="muted">No alternative with {d.have.length ? 'that equipment' : 'no equipment'}: tick what you have.</p>
          )}
        </section>
      </div>
      {ex.instructions.length ? (
        <section className="card">
          <h2>How to</h2>
          <ol>
            {ex.instructions.map((s, i) => (
              <li key={i}>{s}</li>
            ))}
          </ol>
        </section>
      ) : null}
    </article>
  );
}
