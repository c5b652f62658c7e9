import type { ModelInfo } from "../api/hooks";
import { KeyValueTable } from "../lib/KeyValueTable";

export function ModelInfoPanel({ info }: { info: ModelInfo }) {
  const c = info.config;
  const rows: [string, string | number][] = [
    ["layers", c.nLayers],
    ["d_model", c.dModel],
    ["heads × d_head", `${c.nHeads} × ${c.dHead}`],
    ["d_mlp", c.attnOnly ? "none (attention only)" : c.dMlp],
    ["context", c.nCtx],
    ["vocabulary", c.dVocab],
    ["activation", c.actFn],
    ["embeddings", c.tiedEmbeddings ? "tied" : "untied"],
  ];
  return (
    <section className="panel" aria-labelledby="model-heading">
      <h2 id="model-heading">Model: {info.name}</h2>
      <p>{info.description}</p>
      <p className="muted small">source: {info.source}</p>
      <KeyValueTable label="Model configuration" rows={rows} />
      <h3>Autoencoders</h3>
      {info.autoencoders.length === 0 ? (
        <p className="muted">None spliced.</p>
      ) : (
        <ul>
          {info.autoencoders.map((a) => (
            <li key={a.site}>
              <code>{a.site}</code>: {a.architecture}
              {a.k === null ? "" : ` (k ${a.k})`}, {a.dSae} latents on {a.dIn} inputs
            </li>
          ))}
        </ul>
      )}
      <h3>Collated dataset</h3>
      {info.dataset.available ? (
        <p>
          <code>{info.dataset.store}</code>: {info.dataset.nTokens?.toLocaleString() ?? "?"} tokens,{" "}
          {info.dataset.groups?.length ?? 0} groups.
        </p>
      ) : (
        <p className="warn-text" role="note">
          {info.dataset.collating ? "Being collated" : "Not available"}: {info.dataset.message ?? "no store"}
        </p>
      )}
    </section>
  );
}
