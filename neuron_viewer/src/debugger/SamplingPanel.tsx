/** Sample continuations with the current ablations applied (to each ablated node's component,
 * at every token: sampling has no fixed positions), next to plain samples from the same seed. */
import { useState } from "react";
import type { Schemas } from "../api/client";
import { useSampling } from "../api/hooks";
import { componentLabel, componentOf, parseNodeId, type ComponentId } from "../lib/nodes";
import { ErrorBox } from "../lib/QueryStatus";
import type { DebuggerState } from "../lib/urlState";

export function samplingComponents(state: DebuggerState): ComponentId[] {
  const out: ComponentId[] = [];
  for (const a of state.ablations) {
    const node = parseNodeId(a.nodeId);
    const c = node === null ? null : componentOf(node);
    if (c !== null && !out.some((o) => componentLabel(o) === componentLabel(c))) out.push(c);
  }
  return out;
}

function spec(c: ComponentId): Schemas["ComponentSpec"] {
  return c.family === "latent"
    ? { family: "latent", site: c.site, index: c.index }
    : { family: c.family, layer: c.layer, index: c.index };
}

export function SamplingPanel({ state }: { state: DebuggerState }) {
  const sampling = useSampling();
  const [maxNew, setMaxNew] = useState(12);
  const [temperature, setTemperature] = useState(0);
  const components = samplingComponents(state);

  function run() {
    sampling.mutate({
      prompt: state.prompt,
      interventions: components.map((c) => ({ kind: "ablate", component: spec(c) })),
      maxNewTokens: maxNew,
      temperature,
      nSamples: temperature > 0 ? 3 : 1,
    });
  }

  return (
    <section className="panel" aria-labelledby="sampling-heading">
      <h2 id="sampling-heading">Sample</h2>
      <p className="muted small">
        {components.length === 0
          ? "No ablations: samples of the plain model."
          : `Ablating ${components.map(componentLabel).join(", ")} at every token.`}
      </p>
      <div className="row">
        <label htmlFor="sample-n">new tokens</label>
        <input id="sample-n" type="number" min={1} max={64} value={maxNew} onChange={(e) => setMaxNew(Number(e.target.value) || 1)} />
        <label htmlFor="sample-t">temperature</label>
        <input id="sample-t" type="number" min={0} max={10} step={0.1} value={temperature} onChange={(e) => setTemperature(Number(e.target.value) || 0)} />
        <button type="button" onClick={run} disabled={sampling.isPending || state.prompt === ""}>
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
