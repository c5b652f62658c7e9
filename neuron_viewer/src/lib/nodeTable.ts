/** Sorting and filtering of the node table, independent of React. Pinned rows (the nodes the
 * request ablates or traces) stay at the top whatever the sort, and no filter hides them. */
import type { Metric, Side } from "./metrics";
import type { SortChoice } from "./urlState";

export type MetricValues = Record<Metric, number | null>;

export interface TableNode {
  id: string;
  family: string;
  /** e.g. "L1 N17" or "L1 H6", with its token(s) in `tokens` */
  name: string;
  /** the node's token, or "query ← key" for head pairs, as shown */
  tokens: string;
  values: Partial<Record<Side, MetricValues>>;
  /** ablated or traced: listed first, never filtered out */
  pinned?: boolean;
  /** a node of one run alone (prompts of different lengths): its other side and diff are empty */
  only?: "left" | "right";
}

/** The value a row is sorted by: none for the side a one-run row lacks; the left run's when a
 * row of a single run is sorted by another side. */
export function sortValue(row: TableNode, metric: Metric, side: Side): number | null {
  if (row.only !== undefined && side !== row.only) return null;
  const values = row.values[side] ?? row.values.left;
  const v = values?.[metric];
  return v === undefined || v === null || Number.isNaN(v) ? null : v;
}

/** Pinned rows first, then the rest, each by one metric of one side; missing values
 * (undefined metrics) always last. Stable. */
export function sortNodes<T extends TableNode>(rows: readonly T[], sort: SortChoice): T[] {
  const sign = sort.descending ? -1 : 1;
  return rows
    .map((row, i) => ({ row, i, v: sortValue(row, sort.metric, sort.side), pin: row.pinned === true ? 0 : 1 }))
    .sort((a, b) => {
      if (a.pin !== b.pin) return a.pin - b.pin;
      if (a.v === null || b.v === null) {
        return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1;
      }
      return a.v === b.v ? a.i - b.i : sign * (a.v - b.v);
    })
    .map(({ row }) => row);
}

/** Filter terms, separated by spaces, must all match (case-insensitive) the node's family,
 * name, tokens or id; a term starting with "-" must not match. "L1" keeps layer 1, "head"
 * keeps heads, "-latent" drops latents. Pinned rows are always kept. */
export function filterNodes<T extends TableNode>(rows: readonly T[], filter: string): T[] {
  const terms = filter.toLowerCase().split(/\s+/).filter((t) => t !== "" && t !== "-");
  if (terms.length === 0) return [...rows];
  return rows.filter((row) => {
    if (row.pinned === true) return true;
    const haystack = [row.family, row.name, row.tokens, row.id].join("\u0000").toLowerCase();
    return terms.every((term) =>
      term.startsWith("-") ? !haystack.includes(term.slice(1)) : haystack.includes(term),
    );
  });
}

/** The colour scale of a column: the largest |value| among the shown rows. */
export function columnScale(rows: readonly TableNode[], metric: Metric, side: Side): number {
  let best = 0;
  for (const row of rows) {
    const v = sortValue(row, metric, side);
    if (v !== null && Number.isFinite(v)) best = Math.max(best, Math.abs(v));
  }
  return best;
}
