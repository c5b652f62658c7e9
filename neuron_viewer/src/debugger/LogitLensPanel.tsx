/** The logit lens at the explained position: per layer, the tokens the residual stream would
 * predict if unembedded there; with targets and distractors, the direct logit attribution of
 * each component (its contribution to the logit difference). Collapsed by default; asked for
 * only while open. */
import { useMemo } from "react";
import type { Schemas } from "../api/client";
import { useLogitLens } from "../api/hooks";
import { divergingColor } from "../lib/colorScale";
import { formatValue, visibleToken } from "../lib/format";
import { QueryStatus } from "../lib/QueryStatus";
import type { DebuggerState } from "../lib/urlState";
import { buildLensRequest } from "./request";

const DLA_SHOWN = 15;

interface Props {
  state: DebuggerState;
  update: (change: Partial<DebuggerState>) => void;
}

function percent(p: number | null): string {
  return p === null ? "–" : `${(p * 100).toFixed(1)}%`;
}

function LensTable({ layers }: { layers: Schemas["LensLayer"][] }) {
  const withDiff = layers.some((l) => l.logitDifference !== null);
  return (
    <table className="data" aria-label="Logit lens" data-testid="logit-lens">
      <thead>
        <tr>
          <th scope="col">layer</th>
          <th scope="col">top tokens (probability)</th>
          {withDiff && <th scope="col" className="num" title="target minus distractor logits, unembedded here">logit diff</th>}
        </tr>
      </thead>
      <tbody>
        {layers.map((l) => (
          <tr key={l.label} data-testid="lens-layer">
            <td className="mono">{l.label}</td>
            <td className="mono small">
              {l.top.map((t) => (
                <span key={t.token} className="token" title={`logit ${formatValue(t.logit)}`} style={{ marginRight: "0.3rem" }}>
                  {visibleToken(t.string)} <span className="muted">{percent(t.probability)}</span>
                </span>
              ))}
            </td>
            {withDiff && <td className="num">{formatValue(l.logitDifference)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AttributionTable({ rows }: { rows: Schemas["ComponentAttribution"][] }) {
  const sorted = [...rows].sort((a, b) => Math.abs(b.contribution ?? 0) - Math.abs(a.contribution ?? 0));
  const shown = sorted.slice(0, DLA_SHOWN);
  const scale = Math.max(0, ...shown.map((r) => Math.abs(r.contribution ?? 0)));
  return (
    <table className="data" aria-label="Direct logit attribution">
      <caption className="muted small" style={{ textAlign: "left" }}>
        Direct logit attribution: each component's direct contribution to the logit difference
        {sorted.length > shown.length ? ` (the ${shown.length} largest of ${sorted.length})` : ""}.
      </caption>
      <thead>
        <tr>
          <th scope="col">component</th>
          <th scope="col" className="num">contribution</th>
        </tr>
      </thead>
      <tbody>
        {shown.map((r) => (
          <tr key={r.label}>
            <td className="mono">{r.label}</td>
            <td className="num" style={{ background: divergingColor(r.contribution, scale) }}>
              {formatValue(r.contribution)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LensBody({ state }: { state: DebuggerState }) {
  const request = useMemo(() => buildLensRequest(state), [state]);
  const query = useLogitLens(request, true);
  const data = query.data;
  return (
    <QueryStatus
      isPending={query.isPending}
      error={query.error}
      what="the logit lens"
      idle={request === null}
      idleText="Enter a prompt first."
    >
      {data && (
        <>
          <p className="muted small" data-testid="lens-position">
            At token {data.position}, <code>{visibleToken(data.tokenStrings[data.position] ?? "")}</code>, of the
            prompt without ablations.
          </p>
          <div className="grid-2">
            <LensTable layers={data.layers} />
            {data.directLogitAttribution && <AttributionTable rows={data.directLogitAttribution} />}
          </div>
        </>
      )}
    </QueryStatus>
  );
}

export function LogitLensPanel({ state, update }: Props) {
  return (
    <details className="panel" open={state.lens} style={{ marginTop: "0.8rem" }}>
      <summary
        onClick={(e) => {
          e.preventDefault();
          update({ lens: !state.lens });
        }}
      >
        <h2 style={{ display: "inline" }}>Logit lens</h2>
      </summary>
      {state.lens && <LensBody state={state} />}
    </details>
  );
}
