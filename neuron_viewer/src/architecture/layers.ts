/** The architecture diagram's content, built from the model info alone: one block per layer
 * (attention heads, the MLP unless the model is attention-only) and each spliced autoencoder
 * placed at its site along the residual stream. */
import type { ModelInfo } from "../api/hooks";
import { siteLayer } from "../lib/nodes";

/** Where along a layer an autoencoder reads: the residual stream before the block, the
 * attention sublayer, the stream between the sublayers, the MLP sublayer, the stream after. */
export type Slot = "resid_pre" | "attn" | "resid_mid" | "mlp" | "resid_post";
export const SLOTS: readonly Slot[] = ["resid_pre", "attn", "resid_mid", "mlp", "resid_post"];

export interface AutoencoderBox {
  /** the hook site it is spliced at, e.g. blocks.1.hook_attn_out */
  site: string;
  architecture: string;
  dSae: number;
  k: number | null;
  /** the latents' collated group, for the layer summary link; null without a collated dataset */
  summarySite: string | null;
}

export interface LayerBlock {
  layer: number;
  nHeads: number;
  headSummarySite: string | null;
  /** null for attention-only models */
  mlp: { dMlp: number; summarySite: string | null } | null;
  autoencoders: Record<Slot, AutoencoderBox[]>;
}

export interface Architecture {
  layers: LayerBlock[];
  /** autoencoders whose site is outside any block (or names a sublayer the model lacks) */
  elsewhere: AutoencoderBox[];
}

type Group = NonNullable<ModelInfo["dataset"]["groups"]>[number];

/** The slot of a hook site inside its block, or null when it names none (e.g. ln_final). */
export function slotOf(site: string): Slot | null {
  const rest = site.replace(/^blocks\.\d+\./, "");
  if (rest === site) return null;
  if (rest === "hook_resid_pre") return "resid_pre";
  if (rest === "hook_resid_mid") return "resid_mid";
  if (rest === "hook_resid_post") return "resid_post";
  if (rest.startsWith("attn.") || rest.startsWith("ln1.") || rest === "hook_attn_out") return "attn";
  if (rest.startsWith("mlp.") || rest.startsWith("ln2.") || rest === "hook_mlp_out") return "mlp";
  return null;
}

/** The route of the home page's layer summary, opened on one collated group. */
export function summaryPath(site: string): string {
  return `/?summary=${encodeURIComponent(site)}#layer-summary`;
}

function emptySlots(): Record<Slot, AutoencoderBox[]> {
  return { resid_pre: [], attn: [], resid_mid: [], mlp: [], resid_post: [] };
}

export function buildArchitecture(info: ModelInfo): Architecture {
  const { config } = info;
  const groups: Group[] = info.dataset.available ? (info.dataset.groups ?? []) : [];
  const groupSite = (family: string, layer: number) =>
    groups.find((g) => g.family === family && g.layer === layer)?.site ?? null;

  const layers: LayerBlock[] = Array.from({ length: config.nLayers }, (_, layer) => ({
    layer,
    nHeads: config.nHeads,
    headSummarySite: groupSite("head", layer),
    mlp: config.attnOnly ? null : { dMlp: config.dMlp, summarySite: groupSite("neuron", layer) },
    autoencoders: emptySlots(),
  }));

  const elsewhere: AutoencoderBox[] = [];
  for (const ae of info.autoencoders) {
    const box: AutoencoderBox = {
      site: ae.site,
      architecture: ae.architecture,
      dSae: ae.dSae,
      k: ae.k,
      summarySite: groups.some((g) => g.site === ae.latentSite) ? ae.latentSite : null,
    };
    const layer = siteLayer(ae.site);
    const block = layer === null ? undefined : layers[layer];
    const slot = slotOf(ae.site);
    if (block === undefined || slot === null || (slot === "mlp" && block.mlp === null)) {
      elsewhere.push(box);
    } else {
      block.autoencoders[slot].push(box);
    }
  }
  return { layers, elsewhere };
}
