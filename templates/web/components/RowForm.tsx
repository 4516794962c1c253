import { useState } from 'react';

/** The most rows a growing form table (a meal's foods, a workout's sets) shows. */
const MAX_ROWS = 30;

/** How many rows the table shows: what the server rendered (`rows`), else 3. */
export function useRows(rendered: unknown) {
  return useState(Math.max(1, Number(rendered) || 3));
}

/**
 * The "add a row" and save buttons under such a table. Without JavaScript, "add" submits the form
 * (`action=<addValue>`) and the server renders one more row; with it, the row is added in place.
 */
export function RowFormActions(p: { addValue: string; addLabel: string; saveLabel: string; setRows: (f: (n: number) => number) => void }) {
  return (
    <p className="actions">
      <button
        type="submit"
        name="action"
        value={p.addValue}
        className="secondary"
        onClick={(ev) => {
          ev.preventDefault();
          p.setRows((n) => Math.min(MAX_ROWS, n + 1));
        }}
      >
        {p.addLabel}
      </button>
      <button type="submit" name="action" value="save">
        {p.saveLabel}
      </button>
    </p>
  );
}
