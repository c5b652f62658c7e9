import { describe, expect, it } from "vitest";
import { DEFAULT_STATE, type DebuggerState } from "../lib/urlState";
import { buildSamplingRequest, canSteer, samplingComponents } from "./sampling";

const NEURON = "neuron:blocks.1.mlp.hook_post:4:10";
const LATENT = "latent:blocks.0.mlp.hook_post.hook_sae_acts_post:2:9";
const HEAD = "head:blocks.1.attn.hook_pattern:4:3:2";
const base: DebuggerState = { ...DEFAULT_STATE, prompt: "name = str(value" };

describe("sampling requests", () => {
  it("steers neurons and latents only", () => {
    expect(canSteer(NEURON)).toBe(true);
    expect(canSteer(LATENT)).toBe(true);
    expect(canSteer(HEAD)).toBe(false);
    expect(canSteer("embedding:hook_embed:3:0")).toBe(false);
    expect(canSteer("nonsense")).toBe(false);
  });

  it("ablates each ablated component once, at every token", () => {
    const state = {
      ...base,
      ablations: [
        { nodeId: NEURON, value: "zero" as const },
        { nodeId: "neuron:blocks.1.mlp.hook_post:2:10", value: "mean" as const },
        { nodeId: HEAD, value: "zero" as const },
      ],
    };
    expect(samplingComponents(state)).toHaveLength(2);
  });

  it("sends plain samples without interventions, three samples when not greedy", () => {
    expect(buildSamplingRequest(base, 12, 0)).toEqual({
      prompt: base.prompt, interventions: [], maxNewTokens: 12, temperature: 0, nSamples: 1,
    });
    expect(buildSamplingRequest(base, 5, 0.7).nSamples).toBe(3);
  });

  it("sends ablations and steering with strengths, skipping nodes that cannot be steered", () => {
    const request = buildSamplingRequest(
      {
        ...base,
        ablations: [{ nodeId: HEAD, value: "zero" }],
        steer: [
          { nodeId: NEURON, strength: 4 },
          { nodeId: LATENT, strength: -2.5 },
          { nodeId: HEAD, strength: 1 },
        ],
      },
      8,
      0,
    );
    expect(request.interventions).toEqual([
      { kind: "ablate", component: { family: "head", layer: 1, index: 3 } },
      { kind: "steer", component: { family: "neuron", layer: 1, index: 10 }, strength: 4 },
      { kind: "steer", component: { family: "latent", site: "blocks.0.mlp.hook_post", index: 9 }, strength: -2.5 },
    ]);
  });
});
