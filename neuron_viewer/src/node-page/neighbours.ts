/** Previous and next components and layers of a component page, within the model's sizes. */
import type { ModelInfo } from "../api/hooks";
import { isAttentionSite, siteLayer, type ComponentId } from "../lib/nodes";

export interface Neighbours {
  prevIndex: ComponentId | null;
  nextIndex: ComponentId | null;
  prevLayer: ComponentId | null;
  nextLayer: ComponentId | null;
  size: number | null;
}

/** Autoencoder sites of the same kind (MLP or attention) by layer, for latent layer steps. */
function sameKindSites(info: ModelInfo, site: string): string[] {
  const attention = isAttentionSite(site);
  return info.autoencoders
    .map((a) => a.site)
    .filter((s) => isAttentionSite(s) === attention && s.replace(/^blocks\.\d+\./, "") === site.replace(/^blocks\.\d+\./, ""))
    .sort((a, b) => (siteLayer(a) ?? 0) - (siteLayer(b) ?? 0));
}

export function componentSize(info: ModelInfo, c: ComponentId): number | null {
  if (c.family === "neuron") return info.config.attnOnly ? 0 : info.config.dMlp;
  if (c.family === "head") return info.config.nHeads;
  return info.autoencoders.find((a) => a.site === c.site)?.dSae ?? null;
}

export function neighbours(info: ModelInfo, c: ComponentId): Neighbours {
  const size = componentSize(info, c);
  const withIndex = (index: number): ComponentId | null =>
    index >= 0 && (size === null || index < size) ? { ...c, index } : null;
  let prevLayer: ComponentId | null = null;
  let nextLayer: ComponentId | null = null;
  if (c.family === "latent" && c.site !== null) {
    const sites = sameKindSites(info, c.site);
    const at = sites.indexOf(c.site);
    const step = (s: string | undefined): ComponentId | null =>
      s === undefined ? null : { family: "latent", site: s, layer: siteLayer(s), index: c.index };
    prevLayer = at > 0 ? step(sites[at - 1]) : null;
    nextLayer = at >= 0 ? step(sites[at + 1]) : null;
  } else if (c.layer !== null) {
    prevLayer = c.layer > 0 ? { ...c, layer: c.layer - 1 } : null;
    nextLayer = c.layer + 1 < info.config.nLayers ? { ...c, layer: c.layer + 1 } : null;
  }
  return { prevIndex: withIndex(c.index - 1), nextIndex: withIndex(c.index + 1), prevLayer, nextLayer, size };
}
