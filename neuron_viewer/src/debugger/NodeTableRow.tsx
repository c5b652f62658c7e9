import { ModelLink } from "../lib/ModelLink";
import { divergingColor } from "../lib/colorScale";
import { formatValue } from "../lib/format";
import { METRICS, METRIC_LABELS, type Metric, type Side } from "../lib/metrics";
import { componentOf, componentPath, parseNodeId, traceKinds } from "../lib/nodes";
import type { DebuggerState, TraceKindChoice } from "../lib/urlState";
import { nodeTooltip, type DebuggerTableNode } from "./request";

export interface NodeActions {
  ablate: (nodeId: string) => void;
  trace: (nodeId: string, kind: TraceKindChoice) => void;
}

interface Props {
  row: DebuggerTableNode;
  sides: Side[];
  scales: Partial<Record<`${Metric}.${Side}`, number>>;
  state: DebuggerState;
  actions: NodeActions;
}

const ONLY_TEXT = {
  left: ["left only", "This token has no pair in the second prompt: the node is in the left run alone"],
  right: ["right only", "A node of the second prompt alone (its positions are that prompt's): it has no pair in the left run"],
} as const;

/** The pin marker of an ablated or traced node, which the table lists whatever its values. */
function PinMarker({ pins }: { pins: DebuggerTableNode["pins"] }) {
  if (pins.length === 0) return null;
  return (
    <span className="muted small" data-testid="pin" title="Pinned: listed first whatever its values">
      {" "}pinned: {pins.join(", ")}
    </span>
  );
}

export function NodeTableRow({ row, sides, scales, state, actions }: Props) {
  const parsed = parseNodeId(row.id);
  const component = parsed === null ? null : componentOf(parsed);
  const ablated = row.pins.includes("ablated") || state.ablations.some((a) => a.nodeId === row.id);
  // A trace is followed in both runs: a node at a token of one prompt alone cannot be traced.
  const kinds = row.only === undefined ? traceKinds(row.row.node.family) : [];
  const classes = [row.pinned ? "pinned" : "", row.only ? "one-sided" : ""].filter((c) => c !== "");
  return (
    <tr className={classes.length > 0 ? classes.join(" ") : undefined} data-node-id={row.id} data-runs={row.only ?? "both"}>
      <td className="name" title={nodeTooltip(row.row)}>
        {component === null ? (
          <span className="mono">{row.name}</span>
        ) : (
          <ModelLink to={componentPath(component)} className="mono" aria-label={`Open the page of ${row.name}`}>
            {row.name}
          </ModelLink>
        )}
        <PinMarker pins={row.pins} />
      </td>
      <td className="mono tokens">
        {row.tokens}
        {row.only && (
          <span className="muted small" title={ONLY_TEXT[row.only][1]}>
            {" "}({ONLY_TEXT[row.only][0]})
          </span>
        )}
      </td>
      {METRICS.flatMap((m) =>
        sides.map((s) => {
          const v = row.values[s]?.[m] ?? null;
          return (
            <td
              key={`${m}.${s}`}
              className="num"
              style={{ background: divergingColor(v, scales[`${m}.${s}`] ?? 0) }}
              title={`${METRIC_LABELS[m]} (${s}): ${v === null ? "undefined for this node" : String(v)}`}
            >
              {formatValue(v)}
            </td>
          );
        }),
      )}
      <td>
        <div className="row" style={{ flexWrap: "nowrap", gap: "0.3rem" }}>
          <button
            type="button"
            className="small"
            disabled={ablated || row.only === "right"}
            onClick={() => actions.ablate(row.id)}
            aria-label={`Ablate ${row.name} at ${row.tokens}`}
            title={
              row.only === "right"
                ? "Ablations apply to the prompt (left run); this node is in the second prompt alone"
                : "Ablate: set this node's activation to zero (a real intervention; left = ablated, right = baseline)"
            }
          >
            ablate
          </button>
          {kinds.length > 0 && (
            <select
              className="small"
              value=""
              aria-label={`Trace ${row.name} upstream`}
              title="Trace upstream: rank nodes by their effect on this node's pre-activation (heads: query, key, query-key or value)"
              onChange={(e) => {
                const kind = kinds.find((k) => k.kind === e.target.value);
                if (kind) actions.trace(row.id, kind.kind);
              }}
            >
              <option value="" disabled>
                trace…
              </option>
              {kinds.map((k) => (
                <option key={k.kind} value={k.kind}>
                  {k.label}
                </option>
              ))}
            </select>
          )}
        </div>
      </td>
    </tr>
  );
}
