/**
 * A line chart of one biometric over a time range, rendered as SVG on the server (no JavaScript
 * needed to see it): the daily average as a line with a dot per day that has data, the daily
 * min–max as a band behind it, labelled axes with the unit, and the latest value called out.
 */
import { dayLabel, formatValue, metricInfo } from './metrics.js';

export interface ChartPoint {
  /** Start of the bucket, ms since the epoch. */
  t: number;
  avg: number;
  min: number;
  max: number;
  count: number;
}

interface Props {
  metric: string;
  points: ChartPoint[];
  from: number;
  to: number;
}

const W = 760;
const H = 300;
const M = { top: 34, right: 64, bottom: 40, left: 64 };
const DAY = 86_400_000;

/** 3–6 "nice" ticks (1, 2, 2.5, 5 × 10^n steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.05 || 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  for (let v = start; v <= hi + step * 0.5 && ticks.length < 12; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < hi) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}


export function Chart({ metric, points, from, to }: Props) {
  const info = metricInfo(metric);
  const unit = info.unit === 'count' ? '' : info.unit;
  const title = `${info.label}${unit ? ` (${unit})` : ''}, last ${Math.round((to - from) / DAY)} days`;
  if (!points.length) {
    return (
      <figure className="chart empty" aria-label={`${title}: no data`}>
        <figcaption>{title}</figcaption>
        <p>
          Nothing logged yet. <a href={`/log/biometric?metric=${metric}`}>Log your {info.label.toLowerCase()}</a> and it shows up here.
        </p>
      </figure>
    );
  }
  const pts = [...points].sort((a, b) => a.t - b.t);
  const lo = Math.min(...pts.map((p) => p.min));
  const hi = Math.max(...pts.map((p) => p.max));
  const ticks = niceTicks(lo, hi);
  const y0 = ticks[0]!;
  const y1 = ticks[ticks.length - 1]!;
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  // Buckets are days: a point sits in the middle of its day.
  const x = (t: number) => M.left + ((t + DAY / 2 - from) / (to - from)) * iw;
  const y = (v: number) => M.top + ih - ((v - y0) / (y1 - y0 || 1)) * ih;
  const line = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.avg).toFixed(1)}`).join(' ');
  const band =
    pts.some((p) => p.max > p.min) && pts.length > 1
      ? `M${pts.map((p) => `${x(p.t).toFixed(1)},${y(p.max).toFixed(1)}`).join(' L')} L${[...pts]
          .reverse()
          .map((p) => `${x(p.t).toFixed(1)},${y(p.min).toFixed(1)}`)
          .join(' L')} Z`
      : undefined;
  // X ticks: every 7 days, counted back from the last day, so the newest day is always labelled.
  const xTicks: number[] = [];
  const lastDay = Math.floor((to - 1) / DAY) * DAY;
  for (let t = lastDay; t >= from; t -= 7 * DAY) xTicks.unshift(t);
  const last = pts[pts.length - 1]!;
  const first = pts[0]!;
  const delta = last.avg - first.avg;
  const summary = `${title}: ${pts.length} days with data, latest ${formatValue(metric, last.avg)}${unit ? ` ${unit}` : ''} on ${dayLabel(last.t)}, range ${formatValue(metric, lo)}–${formatValue(metric, hi)}`;
  return (
    <figure className="chart">
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="chart-latest">
          latest <strong data-testid="chart-latest">{formatValue(metric, last.avg)}</strong> {unit} · {dayLabel(last.t)}
          {pts.length > 1 ? (
            <span className={delta === 0 ? 'delta' : delta > 0 ? 'delta up' : 'delta down'}>
              {' '}
              ({delta >= 0 ? '+' : '−'}
              {formatValue(metric, Math.abs(delta))} since {dayLabel(first.t)})
            </span>
          ) : null}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} data-metric={metric} data-points={pts.length} preserveAspectRatio="xMidYMid meet">
        <title>{summary}</title>
        <defs>
          <linearGradient id="chart-fill" x1="0" x2="0" y1="0" y2="1">
            <stop offset="0%" stopColor="#0f766e" stopOpacity="0.18" />
            <stop offset="100%" stopColor="#0f766e" stopOpacity="0" />
          </linearGradient>
        </defs>
        {ticks.map((v) => (
          <g key={`y${v}`} className="grid">
            <line x1={M.left} x2={W - M.right} y1={y(v)} y2={y(v)} />
            <text x={M.left - 8} y={y(v)} dy="0.32em" textAnchor="end">
              {formatValue(metric, v)}
            </text>
          </g>
        ))}
        <text className="axis-unit" x={M.left - 8} y={M.top - 18} textAnchor="end">
          {unit || 'count'}
        </text>
        {xTicks.map((t) => (
          <g key={`x${t}`} className="xtick">
            <line x1={x(t)} x2={x(t)} y1={M.top + ih} y2={M.top + ih + 5} />
            <text x={x(t)} y={M.top + ih + 20} textAnchor="middle">
              {dayLabel(t)}
            </text>
          </g>
        ))}
        <line className="axis" x1={M.left} x2={W - M.right} y1={M.top + ih} y2={M.top + ih} />
        {pts.length > 1 ? <path className="area" d={`${line} L${x(last.t).toFixed(1)},${M.top + ih} L${x(first.t).toFixed(1)},${M.top + ih} Z`} fill="url(#chart-fill)" /> : null}
        {band ? <path className="band" d={band} /> : null}
        <path className="line" d={line} />
        {pts.map((p) => (
          <circle key={p.t} className="dot" cx={x(p.t)} cy={y(p.avg)} r={3.5}>
            <title>{`${dayLabel(p.t)}: ${formatValue(metric, p.avg)}${unit ? ` ${unit}` : ''}${p.count > 1 ? ` (avg of ${p.count}, ${formatValue(metric, p.min)}–${formatValue(metric, p.max)})` : ''}`}</title>
          </circle>
        ))}
        <circle className="dot last" cx={x(last.t)} cy={y(last.avg)} r={5.5} />
        <text className="last-label" x={x(last.t) + 9} y={y(last.avg)} dy="0.32em">
          {formatValue(metric, last.avg)}
        </text>
      </svg>
      <details className="chart-table">
        <summary>Show the numbers</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Average{unit ? ` (${unit})` : ''}</th>
              <th scope="col">Min</th>
              <th scope="col">Max</th>
              <th scope="col">Samples</th>
            </tr>
          </thead>
          <tbody>
            {[...pts].reverse().map((p) => (
              <tr key={p.t}>
                <td>{dayLabel(p.t)}</td>
                <td>{formatValue(metric, p.avg)}</td>
                <td>{formatValue(metric, p.min)}</td>
                <td>{formatValue(metric, p.max)}</td>
                <td>{p.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
