/** One transformer block of the architecture diagram: its attention heads, its MLP, and the
 * autoencoders spliced at its sites, hanging off the residual stream. */
import { ModelLink } from "../lib/ModelLink";
import { componentLabel, componentPath, type ComponentId } from "../lib/nodes";
import { summaryPath, type AutoencoderBox, type LayerBlock } from "./layers";

export function AutoencoderView({ box }: { box: AutoencoderBox }) {
  const first: ComponentId = { family: "latent", layer: null, site: box.site, index: 0 };
  return (
    <div className="arch-sae" data-testid="arch-autoencoder">
      <span className="arch-tag">autoencoder</span> <code>{box.site}</code>{" "}
      <span className="muted small">
        {box.architecture}, d_sae {box.dSae}
        {box.k === null ? "" : `, k ${box.k}`}
      </span>{" "}
      <ModelLink to={componentPath(first)} aria-label={`Open the page of ${componentLabel(first)} (${box.site})`}>
        latent 0
      </ModelLink>
      {box.summarySite !== null && (
        <>
          {" · "}
          <ModelLink to={summaryPath(box.summarySite)} aria-label={`Layer summary of the latents at ${box.site}`}>
            layer summary
          </ModelLink>
        </>
      )}
    </div>
  );
}

/** A point of the residual stream, with the autoencoders that read it. */
function StreamPoint({ label, boxes }: { label: string; boxes: AutoencoderBox[] }) {
  return (
    <div className="arch-point">
      <span className="muted small">{label}</span>
      {boxes.map((b) => (
        <AutoencoderView key={b.site} box={b} />
      ))}
    </div>
  );
}

function Heads({ block }: { block: LayerBlock }) {
  const heads = Array.from({ length: block.nHeads }, (_, index): ComponentId => ({
    family: "head",
    layer: block.layer,
    site: null,
    index,
  }));
  return (
    <ul className="arch-heads" aria-label={`Attention heads of layer ${block.layer}`}>
      {heads.map((h) => (
        <li key={h.index}>
          <ModelLink to={componentPath(h)} aria-label={`Open the page of ${componentLabel(h)}`} data-testid="arch-head">
            H{h.index}
          </ModelLink>
        </li>
      ))}
    </ul>
  );
}

export function LayerBlockView({ block }: { block: LayerBlock }) {
  const { layer, mlp, autoencoders } = block;
  const firstNeuron: ComponentId = { family: "neuron", layer, site: null, index: 0 };
  return (
    <section className="arch-layer" aria-labelledby={`arch-layer-${layer}`} data-testid="arch-layer">
      <h2 id={`arch-layer-${layer}`}>Layer {layer}</h2>
      <StreamPoint label={`blocks.${layer}.hook_resid_pre`} boxes={autoencoders.resid_pre} />
      <div className="arch-block arch-attn" role="group" aria-labelledby={`arch-attn-${layer}`}>
        <h3 id={`arch-attn-${layer}`}>
          Attention <span className="muted small">{block.nHeads} heads</span>
        </h3>
        <Heads block={block} />
        {block.headSummarySite !== null && (
          <ModelLink to={summaryPath(block.headSummarySite)} className="small">
            Layer summary of the heads of layer {layer}
          </ModelLink>
        )}
        {autoencoders.attn.map((b) => (
          <AutoencoderView key={b.site} box={b} />
        ))}
      </div>
      {mlp !== null && (
        <>
          <StreamPoint label={`blocks.${layer}.hook_resid_mid`} boxes={autoencoders.resid_mid} />
          <div className="arch-block arch-mlp" role="group" aria-labelledby={`arch-mlp-${layer}`}>
            <h3 id={`arch-mlp-${layer}`}>
              MLP <span className="muted small">{mlp.dMlp} neurons</span>
            </h3>
            <p className="row small">
              <ModelLink to={componentPath(firstNeuron)} aria-label={`Open the page of ${componentLabel(firstNeuron)}`}>
                first neuron ({componentLabel(firstNeuron)})
              </ModelLink>
              {mlp.summarySite !== null && (
                <ModelLink to={summaryPath(mlp.summarySite)}>Layer summary of the neurons of layer {layer}</ModelLink>
              )}
            </p>
            {autoencoders.mlp.map((b) => (
              <AutoencoderView key={b.site} box={b} />
            ))}
          </div>
        </>
      )}
      {/* an attention-only block has no resid_mid of its own: its autoencoders sit after attention */}
      {mlp === null && autoencoders.resid_mid.length > 0 && (
        <StreamPoint label={`blocks.${layer}.hook_resid_mid`} boxes={autoencoders.resid_mid} />
      )}
      <StreamPoint label={`blocks.${layer}.hook_resid_post`} boxes={autoencoders.resid_post} />
    </section>
  );
}
