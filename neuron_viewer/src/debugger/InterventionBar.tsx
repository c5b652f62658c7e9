/** The active ablations and trace, each removable; ablations can switch zero, mean and constant
 * values. */
import { visibleToken } from "../lib/format";
import { nodeLabel, parseNodeId } from "../lib/nodes";
import { ABLATION_VALUES, ablationWithValue, parseConstant, type AblationValueChoice, type DebuggerState } from "../lib/urlState";

const VALUE_LABELS: Record<AblationValueChoice, string> = {
  zero: "to zero",
  mean: "to its mean",
  constant: "to a constant",
};


function describe(nodeId: string, strings: readonly string[] | undefined): string {
  const node = parseNodeId(nodeId);
  if (node === null) return nodeId;
  const tok = (i: number) => `"${visibleToken(strings?.[i] ?? `#${i}`)}"`;
  const at = node.keyToken === null ? tok(node.token) : `${tok(node.token)} → ${tok(node.keyToken)}`;
  return `${nodeLabel(node)} at ${at}`;
}

const TRACE_LABELS: Record<string, string> = {
  neuron_pre: "pre-activation",
  latent_pre: "pre-activation",
  head_query: "query",
  head_key: "key",
  head_qk: "query-key",
  head_value: "value",
};

interface Props {
  state: DebuggerState;
  update: (change: Partial<DebuggerState>) => void;
  strings: readonly string[] | undefined;
}

export function InterventionBar({ state, update, strings }: Props) {
  if (state.ablations.length === 0 && state.trace === null) return null;
  const setValue = (nodeId: string, value: AblationValueChoice) =>
    update({ ablations: state.ablations.map((a) => (a.nodeId === nodeId ? ablationWithValue(a, value) : a)) });
  const setConstant = (nodeId: string, text: string) => {
    const constant = parseConstant(text);
    const current = state.ablations.find((a) => a.nodeId === nodeId);
    if (constant === null || current?.constant === constant) return;
    update({ ablations: state.ablations.map((a) => (a.nodeId === nodeId ? { ...a, constant } : a)) });
  };
  return (
    <div className="panel row" aria-label="Active interventions" data-testid="interventions">
      {state.ablations.length > 0 && <strong>Ablated:</strong>}
      {state.ablations.map((a) => (
        <span key={a.nodeId} className="chip" title={a.nodeId}>
          {describe(a.nodeId, strings)}
          <select
            className="small"
            aria-label={`Ablation value of ${a.nodeId}`}
            value={a.value}
            onChange={(e) => setValue(a.nodeId, e.target.value as AblationValueChoice)}
          >
            {ABLATION_VALUES.map((v) => (
              <option key={v} value={v}>
                {VALUE_LABELS[v]}
              </option>
            ))}
          </select>
          {a.value === "constant" && (
            // applied on Enter or leaving the field, not per keystroke (each change is a run)
            <input
              key={a.constant ?? 0}
              type="number"
              className="small"
              style={{ width: "5rem" }}
              aria-label={`Ablation constant of ${a.nodeId}`}
              defaultValue={a.constant ?? 0}
              onBlur={(e) => setConstant(a.nodeId, e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") setConstant(a.nodeId, e.currentTarget.value);
              }}
            />
          )}
          <button
            type="button"
            aria-label={`Remove ablation of ${a.nodeId}`}
            onClick={() => update({ ablations: state.ablations.filter((b) => b.nodeId !== a.nodeId) })}
          >
            ×
          </button>
        </span>
      ))}
      {state.ablations.length > 1 && (
        <button type="button" className="small" onClick={() => update({ ablations: [] })}>
          clear all
        </button>
      )}
      {state.trace !== null && (
        <>
          <strong>Tracing:</strong>
          <span className="chip trace" title={state.trace.nodeId}>
            {TRACE_LABELS[state.trace.kind]} of {describe(state.trace.nodeId, strings)}
            <button type="button" aria-label="Stop tracing" onClick={() => update({ trace: null })}>
              ×
            </button>
          </span>
        </>
      )}
    </div>
  );
}
