/** Sample continuations with the current ablations applied (to each ablated node's component,
 * at every token: sampling has no fixed positions) and any steering (a neuron's or latent's
 * output direction times a strength), next to plain samples from the same seed. */
import { useState } from "react";
import { MAX_NEW_TOKENS_RANGE, TEMPERATURE_RANGE } from "../api/bounds";
import { useSampling } from "../api/hooks";
import { componentLabel } from "../lib/nodes";
import { ErrorBox } from "../lib/QueryStatus";
import { parseStrength, type DebuggerState } from "../lib/urlState";
import type { DebuggerTableNode } from "./request";
import { buildSamplingRequest, canSteer, nodeComponent, samplingComponents, steerings } from "./sampling";

interface Props {
  state: DebuggerState;
  update: (change: Partial<DebuggerState>) => void;
  /** the node table's rows: the neurons and latents among them can be steered */
  rows: DebuggerTableNode[];
}

/** One node per component, neurons and latents only, not already steered. */
function steerCandidates(rows: DebuggerTableNode[], state: DebuggerState): { nodeId: string; label: string }[] {
  const out: { nodeId: string; label: string }[] = [];
  const taken = new Set(steerings(state).map((s) => componentLabel(s.component)));
  for (const row of rows) {
    const c = canSteer(row.id) ? nodeComponent(row.id) : null;
    if (c === null || taken.has(componentLabel(c))) continue;
    taken.add(componentLabel(c));
    out.push({ nodeId: row.id, label: componentLabel(c) });
  }
  return out;
}

function SteerControl({ state, update, rows }: Props) {
  const candidates = steerCandidates(rows, state);
  const [picked, setPicked] = useState("");
  const [strengthText, setStrengthText] = useState("5");
  const strength = parseStrength(strengthText);
  const nodeId = candidates.some((c) => c.nodeId === picked) ? picked : (candidates[0]?.nodeId ?? "");
  const active = steerings(state);
  return (
    <div className="stack" style={{ marginBottom: "0.5rem" }}>
      <div className="row">
        <label htmlFor="steer-node">Steer with</label>
        <select id="steer-node" value={nodeId} onChange={(e) => setPicked(e.target.value)} disabled={candidates.length === 0}>
          {candidates.length === 0 && <option value="">no neuron or latent in the table</option>}
          {candidates.map((c) => (
            <option key={c.nodeId} value={c.nodeId}>
              {c.label}
            </option>
          ))}
        </select>
        <label htmlFor="steer-strength">strength</label>
        <input
          id="steer-strength"
          type="number"
          step={0.5}
          value={strengthText}
          onChange={(e) => setStrengthText(e.target.value)}
          aria-invalid={strength === null}
          style={{ width: "6rem" }}
        />
        <button
          type="button"
          disabled={nodeId === "" || strength === null}
          onClick={() => strength !== null && update({ steer: [...state.steer, { nodeId, strength }] })}
          title="Add this component's output direction times the strength at every token"
        >
          Add steering
        </button>
      </div>
      {active.length > 0 && (
        <div className="row" aria-label="Steering" data-testid="steering">
          {active.map((s) => {
            const id = s.nodeId;
            return (
              <span key={id} className="chip" title={id}>
                {componentLabel(s.component)} × {s.strength}
                <button
                  type="button"
                  aria-label={`Remove steering with ${componentLabel(s.component)}`}
                  onClick={() => update({ steer: state.steer.filter((t) => t.nodeId !== id) })}
                >
                  ×
                </button>
              </span>
            );
          })}
        </div>
      )}
    </div>
  );
}

function describeInterventions(state: DebuggerState): string {
  const ablated = samplingComponents(state).map(componentLabel);
  const steered = steerings(state).map((s) => `${componentLabel(s.component)} × ${s.strength}`);
  const parts: string[] = [];
  if (ablated.length > 0) parts.push(`ablating ${ablated.join(", ")}`);
  if (steered.length > 0) parts.push(`steering with ${steered.join(", ")}`);
  if (parts.length === 0) return "No ablations or steering: samples of the plain model.";
  const text = `${parts.join("; ")} at every token.`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function SamplingPanel(props: Props) {
  const { state } = props;
  const sampling = useSampling();
  const [maxNew, setMaxNew] = useState(12);
  const [temperature, setTemperature] = useState(0);

  return (
    <section className="panel" aria-labelledby="sampling-heading">
      <h2 id="sampling-heading">Sample</h2>
      <SteerControl {...props} />
      <p className="muted small">{describeInterventions(state)}</p>
      <div className="row">
        <label htmlFor="sample-n">new tokens</label>
        <input id="sample-n" type="number" min={MAX_NEW_TOKENS_RANGE.min} max={MAX_NEW_TOKENS_RANGE.max} value={maxNew} onChange={(e) => setMaxNew(Number(e.target.value) || 1)} />
        <label htmlFor="sample-t">temperature</label>
        <input id="sample-t" type="number" min={TEMPERATURE_RANGE.min} max={TEMPERATURE_RANGE.max} step={0.1} value={temperature} onChange={(e) => setTemperature(Number(e.target.value) || 0)} />
        <button
          type="button"
          onClick={() => sampling.mutate(buildSamplingRequest(state, maxNew, temperature))}
          disabled={sampling.isPending || state.prompt === ""}
        >
          {sampling.isPending ? "Sampling…" : "Sample"}
        </button>
      </div>
      {sampling.error && <ErrorBox error={sampling.error} what="samples" />}
      {sampling.data && (
        <table className="data" aria-label="Samples">
          <thead>
            <tr>
              <th>with interventions</th>
              <th>without</th>
            </tr>
          </thead>
          <tbody>
            {sampling.data.samples.map((s, i) => (
              <tr key={i}>
                <td className="mono" style={{ whiteSpace: "pre-wrap" }}>{s.intervened.text}</td>
                <td className="mono" style={{ whiteSpace: "pre-wrap" }}>{s.plain.text}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
