/** The node table: the top and bottom k nodes per metric, sortable, filterable, with colour-
 * scaled cells; in two-run mode each metric shows left, diff (left - right) and right. Pinned
 * nodes (ablated, traced) come first; with prompts of different lengths a node at a token of
 * one prompt alone has one side. */
import { useMemo } from "react";
import { METRICS, METRIC_HELP, METRIC_LABELS, type Metric, type Side } from "../lib/metrics";
import { columnScale, filterNodes, sortNodes } from "../lib/nodeTable";
import { RANK_ON, type DebuggerState, type SortChoice } from "../lib/urlState";
import { NodeTableRow, type NodeActions } from "./NodeTableRow";
import type { DebuggerTableNode } from "./request";

const SIDE_LABELS: Record<Side, string> = { left: "left", diff: "diff", right: "right" };

interface Props {
  rows: DebuggerTableNode[];
  sides: Side[];
  state: DebuggerState;
  update: (change: Partial<DebuggerState>) => void;
  actions: NodeActions;
}

function SortHeader(props: { metric: Metric; side: Side; sort: SortChoice; onSort: (s: SortChoice) => void; label: string }) {
  const { metric, side, sort } = props;
  const active = sort.metric === metric && sort.side === side;
  const next: SortChoice = { metric, side, descending: active ? !sort.descending : true };
  return (
    <th
      className="num"
      scope="col"
      aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}
      title={METRIC_HELP[metric]}
    >
      <button type="button" className="sort" onClick={() => props.onSort(next)}>
        {props.label}
        {active ? (sort.descending ? " ▼" : " ▲") : ""}
      </button>
    </th>
  );
}

export function NodeTable({ rows, sides, state, update, actions }: Props) {
  const shown = useMemo(() => sortNodes(filterNodes(rows, state.filter), state.sort), [rows, state.filter, state.sort]);
  const scales = useMemo(() => {
    const out: Partial<Record<`${Metric}.${Side}`, number>> = {};
    for (const m of METRICS) for (const s of sides) out[`${m}.${s}`] = columnScale(shown, m, s);
    return out;
  }, [shown, sides]);
  const two = sides.length > 1;
  const onSort = (sort: SortChoice) => update({ sort });

  return (
    <section aria-labelledby="nodes-heading">
      <div className="row">
        <h2 id="nodes-heading" style={{ margin: 0 }}>
          Nodes
        </h2>
        <span className="muted small">
          {shown.length} of {rows.length} shown
        </span>
        <span className="spacer" />
        {two && (
          <>
            <label htmlFor="rank-on">Rank by</label>
            <select
              id="rank-on"
              value={state.rankOn}
              title="Which run's values pick the top and bottom k nodes"
              onChange={(e) => update({ rankOn: sides.find((s) => s === e.target.value) ?? "left" })}
            >
              {RANK_ON.map((s) => (
                <option key={s} value={s}>
                  {s === "diff" ? "diff (left − right)" : `${s} run`}
                </option>
              ))}
            </select>
          </>
        )}
        <label htmlFor="node-filter">Filter</label>
        <input
          id="node-filter"
          type="search"
          placeholder='e.g. "L1 head" or "-latent"'
          value={state.filter}
          onChange={(e) => update({ filter: e.target.value })}
          title="Space-separated terms, all must match name, tokens, family or id; a leading '-' excludes"
        />
      </div>
      <div className="table-scroll" style={{ marginTop: "0.4rem" }}>
        <table className="data nodes" aria-label="Node table" data-testid="node-table">
          <thead>
            <tr>
              <th scope="col" rowSpan={two ? 2 : 1}>Node</th>
              <th scope="col" rowSpan={two ? 2 : 1} title="The node's token; for a head pair, attended from (query) → to (key)">
                Tokens
              </th>
              {two
                ? METRICS.map((m) => (
                    <th key={m} colSpan={sides.length} scope="colgroup" title={METRIC_HELP[m]} style={{ textAlign: "center" }}>
                      {METRIC_LABELS[m]}
                    </th>
                  ))
                : METRICS.map((m) => <SortHeader key={m} metric={m} side="left" sort={state.sort} onSort={onSort} label={METRIC_LABELS[m]} />)}
              <th scope="col" rowSpan={two ? 2 : 1}>Actions</th>
            </tr>
            {two && (
              <tr>
                {METRICS.flatMap((m) =>
                  sides.map((s) => (
                    <SortHeader key={`${m}.${s}`} metric={m} side={s} sort={state.sort} onSort={onSort} label={SIDE_LABELS[s]} />
                  )),
                )}
              </tr>
            )}
          </thead>
          <tbody>
            {shown.map((row) => (
              <NodeTableRow key={row.key} row={row} sides={sides} scales={scales} state={state} actions={actions} />
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={3 + METRICS.length * sides.length} className="muted">
                  No node matches the filter.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
