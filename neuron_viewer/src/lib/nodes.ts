/** Node ids (as the server writes them) and component identities, their labels and links. The
 * one place in the UI that reads or writes node ids; its rules are tested against the server's
 * (`nodeIds.fixture.json`, made by the server's `Node`).
 *
 *   embedding:hook_embed:TOKEN:0
 *   neuron:blocks.L.mlp.hook_post:TOKEN:NEURON
 *   head:blocks.L.attn.hook_pattern:QUERY:HEAD:KEY     (KEY <= QUERY)
 *   latent:SITE.hook_sae_acts_post:TOKEN:LATENT      (SITE: where the autoencoder is spliced)
 */
import type { ComponentFamily, Covers, Exhaustive, NodeFamily, TraceKind } from "../api/enums";

export type Family = NodeFamily;
export type { ComponentFamily };

export interface ParsedNode {
  family: Family;
  site: string;
  layer: number | null;
  token: number;
  index: number;
  keyToken: number | null;
}

/** A component: a neuron or head by layer, a latent by its autoencoder's site. */
export interface ComponentId {
  family: ComponentFamily;
  layer: number | null;
  site: string | null;
  index: number;
}

export const LATENT_SUFFIX = ".hook_sae_acts_post";
const LAYER = /^blocks\.(\d+)\./;

export function siteLayer(site: string): number | null {
  const match = LAYER.exec(site);
  return match?.[1] === undefined ? null : Number(match[1]);
}

export const FAMILIES = ["embedding", "neuron", "head", "latent"] as const satisfies readonly Family[];
export type FamiliesCovered = Exhaustive<Covers<Family, typeof FAMILIES>>;

/** The node of an id, or null where the server would refuse the id: an unknown family, a wrong
 * number of parts, a position or index that is not a non-negative integer, or a head whose key
 * token comes after its query token. */
export function parseNodeId(id: string): ParsedNode | null {
  const [familyText, site, ...rest] = id.split(":");
  const family = FAMILIES.find((f) => f === familyText);
  if (site === undefined || family === undefined) return null;
  const numbers = rest.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (numbers.some(Number.isNaN) || numbers.length !== (family === "head" ? 3 : 2)) return null;
  const [token = 0, index = 0, key] = numbers;
  if (key !== undefined && key > token) return null;
  return {
    family,
    site,
    layer: siteLayer(site),
    token,
    index,
    keyToken: key ?? null,
  };
}

/** The id of a node (inverse of `parseNodeId`): `family:site:token:index`, heads `:key` after. */
export function formatNodeId(node: Omit<ParsedNode, "layer">): string {
  const parts = [node.family, node.site, String(node.token), String(node.index)];
  if (node.keyToken !== null) parts.push(String(node.keyToken));
  return parts.join(":");
}

/** The site an autoencoder is spliced at, from its latents' hook site. */
export function autoencoderSite(latentSite: string): string {
  return latentSite.endsWith(LATENT_SUFFIX) ? latentSite.slice(0, -LATENT_SUFFIX.length) : latentSite;
}

/** Whether an autoencoder reads an attention output ("attention latents"); others (MLP and
 * residual stream sites) count as MLP latents in the neuron/latent toggle. */
export function isAttentionSite(site: string): boolean {
  return site.includes(".attn.") || site.includes("hook_attn_out");
}

function autoencoderLabel(site: string): string {
  const layer = siteLayer(site);
  const where = isAttentionSite(site) ? "attn" : site.includes("mlp") ? "MLP" : "resid";
  return layer === null ? site : `L${layer} ${where}`;
}

export function componentOf(node: ParsedNode): ComponentId | null {
  if (node.family === "embedding") return null;
  if (node.family === "latent") {
    return { family: "latent", layer: node.layer, site: autoencoderSite(node.site), index: node.index };
  }
  return { family: node.family, layer: node.layer, site: null, index: node.index };
}

export function componentLabel(c: ComponentId): string {
  if (c.family === "neuron") return `L${c.layer ?? "?"} N${c.index}`;
  if (c.family === "head") return `L${c.layer ?? "?"} H${c.index}`;
  return `${autoencoderLabel(c.site ?? "")} latent ${c.index}`;
}

export function nodeLabel(node: ParsedNode): string {
  const component = componentOf(node);
  return component === null ? "Embedding" : componentLabel(component);
}

/** The route of a component's page: /component/neuron/1/17, /component/latent/SITE/9. */
export function componentPath(c: ComponentId): string {
  const where = c.family === "latent" ? (c.site ?? "") : String(c.layer ?? 0);
  return `/component/${c.family}/${encodeURIComponent(where)}/${c.index}`;
}

export function parseComponentPath(
  family: string | undefined,
  where: string | undefined,
  index: string | undefined,
): ComponentId | null {
  if (family === undefined || where === undefined || index === undefined) return null;
  if (!/^\d+$/.test(index)) return null;
  if (family === "neuron" || family === "head") {
    if (!/^\d+$/.test(where)) return null;
    return { family, layer: Number(where), site: null, index: Number(index) };
  }
  if (family === "latent" && /^[A-Za-z0-9_.]+$/.test(where)) {
    return { family, layer: siteLayer(where), site: where, index: Number(index) };
  }
  return null;
}

/** The quantities a node can be traced by: a head pair's query, key, query-key product or
 * value path; a neuron's or latent's pre-activation. Embeddings have none. */
export function traceKinds(family: Family): { kind: TraceKind; label: string }[] {
  if (family === "head") {
    return [
      { kind: "head_query", label: "query" },
      { kind: "head_key", label: "key" },
      { kind: "head_qk", label: "query-key" },
      { kind: "head_value", label: "value" },
    ];
  }
  if (family === "neuron") return [{ kind: "neuron_pre", label: "pre-activation" }];
  if (family === "latent") return [{ kind: "latent_pre", label: "pre-activation" }];
  return [];
}

/** Parses "layer:index" (e.g. "1:17"), the home page's jump box. */
export function parseLayerIndex(text: string): { layer: number; index: number } | null {
  const match = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(text);
  if (match?.[1] === undefined || match[2] === undefined) return null;
  return { layer: Number(match[1]), index: Number(match[2]) };
}
