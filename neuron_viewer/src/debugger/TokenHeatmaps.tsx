/** Per family, the estimated total effects of its nodes summed per token (heads: per key
 * token), over the prompt's tokens. One colour scale for all rows, so families compare. With a
 * second prompt, which tokens pair up (TokenPairs); the diff rows lie on the prompt's tokens,
 * empty where a token has no pair. */
import type { Schemas } from "../api/client";
import { divergingColor, maxAbs } from "../lib/colorScale";
import { TokenText } from "../lib/TokenText";
import { TokenPairs } from "./TokenPairs";

const FAMILY_LABELS: Record<string, string> = {
  embedding: "embeddings",
  neuron: "neurons",
  head: "heads (by key)",
  latent: "latents",
  mlp_latent: "MLP latents",
  attn_latent: "attention latents (by query)",
};

export function TokenHeatmaps({ result, tracing }: { result: Schemas["DebuggerResult"]; tracing: boolean }) {
  const entries = Object.entries(result.tokenSums);
  const strings = result.tokenStrings.left;
  const rows = entries.flatMap(([family, sides]) => {
    const out = [{ key: `${family}.left`, label: FAMILY_LABELS[family] ?? family, values: sides.left }];
    if (sides.diff) out.push({ key: `${family}.diff`, label: "  diff", values: sides.diff });
    return out;
  });
  const scale = maxAbs(rows.flatMap((r) => r.values));
  return (
    <section className="panel" aria-labelledby="heatmap-heading">
      <h2 id="heatmap-heading">Effect per token</h2>
      <p className="muted small">
        Estimated total effects summed over each family&apos;s nodes at each token; red raises{" "}
        {tracing ? "the traced quantity" : "the logit difference"}, blue lowers it. Hover a token for its value.
      </p>
      <TokenPairs result={result} />
      {rows.map((r) => (
        <div key={r.key} className="heatmap-row example">
          <span className="label">{r.label}</span>
          <TokenText
            strings={strings}
            values={r.values}
            scale={scale}
            color={divergingColor}
            label={`Effect per token of ${r.label.trim()}`}
          />
        </div>
      ))}
    </section>
  );
}
