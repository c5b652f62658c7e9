/** The node families a model has, for the debugger's family toggles: an attention-only model
 * has no neurons, and latents exist only where an autoencoder is spliced. */
import type { ModelInfo } from "../api/hooks";
import type { AttnChoice, DebuggerState, MlpChoice } from "../lib/urlState";

export interface FamilyChoices {
  mlp: MlpChoice[];
  attn: AttnChoice[];
}

/** Which latents the server lists as MLP or attention latents (`mlp_latent`, `attn_latent`),
 * by the site the autoencoder reads, as activations/metrics.py `latent_kind` decides. */
export function autoencoderKind(site: string): "mlp" | "attn" | "resid" {
  if (site.includes(".mlp.") || site.endsWith("hook_mlp_out")) return "mlp";
  return site.endsWith("hook_attn_out") ? "attn" : "resid";
}

/** The choices each toggle offers for this model, in the toggle's order. */
export function familyChoices(info: Pick<ModelInfo, "config" | "autoencoders">): FamilyChoices {
  const kinds = new Set(info.autoencoders.map((a) => autoencoderKind(a.site)));
  const mlp: MlpChoice[] = [];
  if (!info.config.attnOnly && info.config.dMlp > 0) mlp.push("neurons");
  if (kinds.has("mlp")) mlp.push("latents");
  const attn: AttnChoice[] = [];
  if (info.config.nHeads > 0) attn.push("heads");
  if (kinds.has("attn")) attn.push("latents");
  return { mlp, attn };
}

/** The state with a choice the model lacks (a shared URL's `mlp=latents` on a model without
 * MLP autoencoders) replaced by the first it has; unchanged (the same object) otherwise. */
export function fitFamilies(state: DebuggerState, choices: FamilyChoices): DebuggerState {
  const mlp = choices.mlp.includes(state.mlp) ? state.mlp : (choices.mlp[0] ?? state.mlp);
  const attn = choices.attn.includes(state.attn) ? state.attn : (choices.attn[0] ?? state.attn);
  return mlp === state.mlp && attn === state.attn ? state : { ...state, mlp, attn };
}
