import { describe, expect, it } from "vitest";
import type { ModelInfo } from "../api/hooks";
import { buildArchitecture, slotOf, summaryPath } from "./layers";

function info(overrides: {
  attnOnly?: boolean;
  nLayers?: number;
  sites?: string[];
  groups?: NonNullable<ModelInfo["dataset"]["groups"]>;
  available?: boolean;
}): ModelInfo {
  const result: ModelInfo = {
    name: "toy",
    description: "",
    source: "bundled",
    hasTokenizer: true,
    limits: { maxPromptTokens: 64 },
    config: {
      actFn: "gelu_new", attnOnly: overrides.attnOnly ?? false, dHead: 32, dMlp: 1024, dModel: 256,
      dVocab: 8192, lnEps: 1e-5, nCtx: 256, nHeads: 8, nLayers: overrides.nLayers ?? 2,
      normalization: "LN", tiedEmbeddings: false,
    },
    autoencoders: (overrides.sites ?? []).map((site) => ({
      site, latentSite: `${site}.hook_sae_acts_post`, architecture: "topk", dIn: 256, dSae: 2048, k: 32,
    })),
    dataset: { store: "toy", available: overrides.available ?? true, groups: overrides.groups ?? [] },
  };
  return result;
}

describe("slotOf", () => {
  it("places hook sites along a block", () => {
    expect(slotOf("blocks.0.hook_resid_pre")).toBe("resid_pre");
    expect(slotOf("blocks.3.hook_attn_out")).toBe("attn");
    expect(slotOf("blocks.3.attn.hook_z")).toBe("attn");
    expect(slotOf("blocks.1.hook_resid_mid")).toBe("resid_mid");
    expect(slotOf("blocks.1.mlp.hook_post")).toBe("mlp");
    expect(slotOf("blocks.1.hook_mlp_out")).toBe("mlp");
    expect(slotOf("blocks.12.hook_resid_post")).toBe("resid_post");
    expect(slotOf("ln_final.hook_normalized")).toBeNull();
    expect(slotOf("blocks.0.hook_unknown")).toBeNull();
  });
});

describe("buildArchitecture", () => {
  it("gives one block per layer with heads and an MLP", () => {
    const arch = buildArchitecture(info({ nLayers: 3 }));
    expect(arch.layers.map((l) => l.layer)).toEqual([0, 1, 2]);
    expect(arch.layers.every((l) => l.nHeads === 8 && l.mlp?.dMlp === 1024)).toBe(true);
    expect(arch.elsewhere).toEqual([]);
  });

  it("has no MLP block in attention-only models", () => {
    const arch = buildArchitecture(info({ attnOnly: true, sites: ["blocks.0.hook_mlp_out"] }));
    expect(arch.layers.every((l) => l.mlp === null)).toBe(true);
    // an MLP site on a model without MLPs is not hidden: it is listed elsewhere
    expect(arch.elsewhere.map((a) => a.site)).toEqual(["blocks.0.hook_mlp_out"]);
  });

  it("places autoencoders at their sites and links collated groups", () => {
    const arch = buildArchitecture(
      info({
        sites: ["blocks.0.hook_attn_out", "blocks.1.mlp.hook_post", "blocks.1.hook_resid_post", "blocks.7.hook_resid_pre"],
        groups: [
          { family: "head", site: "blocks.0.attn.hook_pattern", layer: 0, nComponents: 8 },
          { family: "neuron", site: "blocks.1.mlp.hook_post", layer: 1, nComponents: 1024 },
          { family: "latent", site: "blocks.0.hook_attn_out.hook_sae_acts_post", layer: 0, nComponents: 2048 },
        ],
      }),
    );
    const [l0, l1] = arch.layers;
    expect(l0?.autoencoders.attn.map((a) => a.site)).toEqual(["blocks.0.hook_attn_out"]);
    expect(l0?.autoencoders.attn[0]).toMatchObject({ dSae: 2048, k: 32, summarySite: "blocks.0.hook_attn_out.hook_sae_acts_post" });
    expect(l1?.autoencoders.mlp.map((a) => a.site)).toEqual(["blocks.1.mlp.hook_post"]);
    expect(l1?.autoencoders.mlp[0]?.summarySite).toBeNull();
    expect(l1?.autoencoders.resid_post.map((a) => a.site)).toEqual(["blocks.1.hook_resid_post"]);
    expect(l0?.headSummarySite).toBe("blocks.0.attn.hook_pattern");
    expect(l0?.mlp?.summarySite).toBeNull();
    expect(l1?.mlp?.summarySite).toBe("blocks.1.mlp.hook_post");
    expect(arch.elsewhere.map((a) => a.site)).toEqual(["blocks.7.hook_resid_pre"]);
  });

  it("links no summaries without a collated dataset", () => {
    const arch = buildArchitecture(
      info({ available: false, groups: [{ family: "head", site: "blocks.0.attn.hook_pattern", layer: 0, nComponents: 8 }] }),
    );
    expect(arch.layers[0]?.headSummarySite).toBeNull();
  });

  it("writes the layer summary route", () => {
    expect(summaryPath("blocks.0.mlp.hook_post")).toBe("/?summary=blocks.0.mlp.hook_post#layer-summary");
  });
});
