import { describe, expect, it } from "vitest";
import { DEFAULT_STATE } from "../lib/urlState";
import { autoencoderKind, familyChoices, fitFamilies } from "./families";

type Info = Parameters<typeof familyChoices>[0];

function info(attnOnly: boolean, sites: string[]): Info {
  return {
    config: {
      nLayers: 2, dModel: 256, nHeads: 4, dHead: 64, dMlp: attnOnly ? 0 : 1024, nCtx: 256, dVocab: 8192,
      actFn: "gelu", lnEps: 1e-5, attnOnly, tiedEmbeddings: true, normalization: "LN",
    },
    autoencoders: sites.map((site) => ({ site, latentSite: `${site}.hook_sae_acts_post`, architecture: "topk", dIn: 256, dSae: 2048, k: 32 })),
  };
}

describe("family toggles", () => {
  it("offers no MLP choice on an attention-only model (toy-attn-only-2l)", () => {
    expect(familyChoices(info(true, []))).toEqual({ mlp: [], attn: ["heads"] });
  });

  it("offers the latents of the autoencoders the model has (toy-gelu-2l)", () => {
    const sites = ["blocks.0.hook_attn_out", "blocks.0.mlp.hook_post", "blocks.1.hook_attn_out", "blocks.1.mlp.hook_post"];
    expect(familyChoices(info(false, sites))).toEqual({ mlp: ["neurons", "latents"], attn: ["heads", "latents"] });
    expect(familyChoices(info(false, ["blocks.1.mlp.hook_post"]))).toEqual({ mlp: ["neurons", "latents"], attn: ["heads"] });
  });

  it("counts residual-stream autoencoders as neither MLP nor attention latents, as the server does", () => {
    expect(autoencoderKind("blocks.1.hook_resid_mid")).toBe("resid");
    expect(autoencoderKind("blocks.1.hook_mlp_out")).toBe("mlp");
    expect(familyChoices(info(true, ["blocks.0.hook_resid_pre"]))).toEqual({ mlp: [], attn: ["heads"] });
  });

  it("replaces a choice the model lacks by one it has", () => {
    const choices = familyChoices(info(false, ["blocks.0.hook_attn_out"]));
    const fitted = fitFamilies({ ...DEFAULT_STATE, mlp: "latents", attn: "latents" }, choices);
    expect([fitted.mlp, fitted.attn]).toEqual(["neurons", "latents"]);
    expect(fitFamilies(DEFAULT_STATE, choices)).toBe(DEFAULT_STATE);
  });
});
