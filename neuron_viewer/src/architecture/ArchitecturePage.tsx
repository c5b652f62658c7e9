/** The model's architecture diagram, from embedding to unembedding, built from GET /api/model:
 * every head, MLP and spliced autoencoder links to its component page or layer summary. */
import { useMemo } from "react";
import { useModelInfo, type ModelInfo } from "../api/hooks";
import { QueryStatus } from "../lib/QueryStatus";
import { buildArchitecture } from "./layers";
import { AutoencoderView, LayerBlockView } from "./LayerBlockView";

function Diagram({ info }: { info: ModelInfo }) {
  const arch = useMemo(() => buildArchitecture(info), [info]);
  const c = info.config;
  return (
    <>
      <p className="muted">
        {c.nLayers} layers, d_model {c.dModel}, {c.nHeads} heads of d_head {c.dHead}
        {c.attnOnly ? ", attention only" : `, d_mlp ${c.dMlp} (${c.actFn})`}, {c.normalization}.{" "}
        {info.autoencoders.length} autoencoder{info.autoencoders.length === 1 ? "" : "s"} spliced.
        {!info.dataset.available && ` No collated dataset (${info.dataset.message ?? "none"}): no layer summaries.`}
      </p>
      <ol className="arch-stream" aria-label="The model, from embedding to unembedding">
        <li className="arch-io">
          <h2>Embedding</h2>
          <span className="muted small">
            token ({c.dVocab} × {c.dModel}) + position ({c.nCtx} × {c.dModel})
          </span>
        </li>
        {arch.layers.map((block) => (
          <li key={block.layer}>
            <LayerBlockView block={block} />
          </li>
        ))}
        <li className="arch-io">
          <h2>Unembedding</h2>
          <span className="muted small">
            final {c.normalization}, then unembedding ({c.dModel} × {c.dVocab},{" "}
            {c.tiedEmbeddings ? "tied to the embedding" : "untied"})
          </span>
        </li>
      </ol>
      {arch.elsewhere.length > 0 && (
        <section className="panel" aria-labelledby="arch-elsewhere">
          <h2 id="arch-elsewhere">Other autoencoders</h2>
          <p className="muted small">Spliced at sites outside the blocks drawn above.</p>
          {arch.elsewhere.map((b) => (
            <AutoencoderView key={b.site} box={b} />
          ))}
        </section>
      )}
    </>
  );
}

export function ArchitecturePage() {
  const info = useModelInfo();
  return (
    <main className="page arch-page">
      <h1>Architecture{info.data ? `: ${info.data.name}` : ""}</h1>
      <QueryStatus isPending={info.isPending} error={info.error} what="the model">
        {info.data && <Diagram info={info.data} />}
      </QueryStatus>
    </main>
  );
}
