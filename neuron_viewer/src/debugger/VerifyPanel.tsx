/** Estimated total effects next to true effects measured by ablating each node for real. */
import { useState } from "react";
import type { Schemas } from "../api/client";
import { formatValue } from "../lib/format";
import { nodeLabel, parseNodeId } from "../lib/nodes";
import { VERIFY_MAX, type DebuggerState } from "../lib/urlState";

const SIZE = 180;
const DEFAULT_COUNT = 10;

function Scatter({ nodes }: { nodes: Schemas["VerifiedNode"][] }) {
  const pts = nodes.filter((n) => n.estimate !== null && n.trueEffect !== null);
  const lim = Math.max(1e-9, ...pts.flatMap((n) => [Math.abs(n.estimate ?? 0), Math.abs(n.trueEffect ?? 0)]));
  const at = (v: number) => SIZE / 2 + (v / lim) * (SIZE / 2 - 8);
  return (
    <svg width={SIZE} height={SIZE} role="img" aria-label="True effect against estimate" style={{ border: "1px solid var(--border)" }}>
      <line x1={0} y1={SIZE} x2={SIZE} y2={0} stroke="#ccc" />
      <line x1={SIZE / 2} y1={0} x2={SIZE / 2} y2={SIZE} stroke="#eee" />
      <line x1={0} y1={SIZE / 2} x2={SIZE} y2={SIZE / 2} stroke="#eee" />
      {pts.map((n) => (
        <circle key={n.node.id} cx={at(n.estimate ?? 0)} cy={SIZE - at(n.trueEffect ?? 0)} r={3.5} fill="#0969da">
          <title>{`${n.node.id}: estimate ${formatValue(n.estimate)}, true ${formatValue(n.trueEffect)}`}</title>
        </circle>
      ))}
    </svg>
  );
}

interface Props {
  state: DebuggerState;
  update: (change: Partial<DebuggerState>) => void;
  verification: Schemas["Verification"] | null | undefined;
  pending: boolean;
}

export function VerifyPanel({ state, update, verification, pending }: Props) {
  const [count, setCount] = useState(state.verify || DEFAULT_COUNT);
  return (
    <section className="panel" aria-labelledby="verify-heading">
      <div className="row">
        <h2 id="verify-heading" style={{ margin: 0 }}>
          Verify
        </h2>
        <span className="spacer" />
        <label htmlFor="verify-n">nodes</label>
        <input
          id="verify-n"
          type="number"
          min={1}
          max={VERIFY_MAX}
          value={count}
          onChange={(e) => {
            const n = Number(e.target.value);
            if (!Number.isInteger(n) || n < 1 || n > VERIFY_MAX) return;
            setCount(n);
            if (state.verify > 0) update({ verify: n });
          }}
        />
        {state.verify === 0 ? (
          <button type="button" onClick={() => update({ verify: count })} title="Ablate the nodes of largest estimated effect for real and compare">
            Verify
          </button>
        ) : (
          <button type="button" onClick={() => update({ verify: 0 })}>
            Hide
          </button>
        )}
      </div>
      <p className="muted small">
        Ablates the listed nodes of largest estimated total effect one at a time, for real, and
        measures the objective's change (true effect = objective − objective with the node ablated).
      </p>
      {state.verify > 0 && pending && !verification && <div className="status loading">Verifying…</div>}
      {state.verify > 0 && verification && (
        <div className="row" style={{ alignItems: "flex-start" }} data-testid="verification">
          <div>
            <p>
              Pearson r = <strong>{formatValue(verification.pearson)}</strong>
              <span className="muted small"> (objective {formatValue(verification.baseline)})</span>
            </p>
            <Scatter nodes={verification.nodes} />
          </div>
          <table className="data" aria-label="True and estimated effects" style={{ width: "auto" }}>
            <thead>
              <tr>
                <th>node</th>
                <th className="num">estimate</th>
                <th className="num">true effect</th>
              </tr>
            </thead>
            <tbody>
              {verification.nodes.map((n) => {
                const parsed = parseNodeId(n.node.id);
                return (
                  <tr key={n.node.id}>
                    <td className="mono" title={n.node.id}>
                      {parsed === null ? n.node.id : nodeLabel(parsed)} @{n.node.token}
                      {n.node.keyToken === null ? "" : `→${n.node.keyToken}`}
                    </td>
                    <td className="num">{formatValue(n.estimate)}</td>
                    <td className="num">{formatValue(n.trueEffect)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
