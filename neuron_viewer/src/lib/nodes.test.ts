import { describe, expect, it } from "vitest";
import {
  componentLabel,
  componentOf,
  componentPath,
  parseComponentPath,
  parseLayerIndex,
  parseNodeId,
  traceKinds,
} from "./nodes";

describe("node ids", () => {
  it("parses every family", () => {
    expect(parseNodeId("neuron:blocks.1.mlp.hook_post:4:17")).toEqual({
      family: "neuron", site: "blocks.1.mlp.hook_post", layer: 1, token: 4, index: 17, keyToken: null,
    });
    expect(parseNodeId("head:blocks.0.attn.hook_pattern:5:2:3")).toMatchObject({ layer: 0, token: 5, index: 2, keyToken: 3 });
    expect(parseNodeId("embedding:hook_embed:3:0")).toMatchObject({ family: "embedding", layer: null, token: 3 });
    expect(parseNodeId("latent:blocks.1.hook_attn_out.hook_sae_acts_post:2:9")).toMatchObject({ layer: 1, index: 9 });
  });

  it("rejects malformed ids", () => {
    for (const bad of ["", "neuron", "neuron:blocks.0.mlp.hook_post:1", "head:blocks.0.attn.hook_pattern:1:2", "bogus:x:1:2", "neuron:s:a:1"]) {
      expect(parseNodeId(bad)).toBeNull();
    }
  });
});

describe("components", () => {
  it("labels and links components, round-tripping the route", () => {
    const latent = componentOf(parseNodeId("latent:blocks.0.mlp.hook_post.hook_sae_acts_post:2:9") ?? assertNever());
    expect(latent).toEqual({ family: "latent", layer: 0, site: "blocks.0.mlp.hook_post", index: 9 });
    if (latent === null) return;
    expect(componentLabel(latent)).toBe("L0 MLP latent 9");
    expect(componentPath(latent)).toBe("/component/latent/blocks.0.mlp.hook_post/9");
    expect(parseComponentPath("latent", "blocks.0.mlp.hook_post", "9")).toEqual(latent);
    const head = { family: "head" as const, layer: 1, site: null, index: 6 };
    expect(componentLabel(head)).toBe("L1 H6");
    expect(parseComponentPath("head", "1", "6")).toEqual(head);
    expect(componentOf(parseNodeId("embedding:hook_embed:3:0") ?? assertNever())).toBeNull();
  });

  it("refuses bad routes", () => {
    expect(parseComponentPath("neuron", "x", "1")).toBeNull();
    expect(parseComponentPath("neuron", "1", "-1")).toBeNull();
    expect(parseComponentPath("embedding", "0", "1")).toBeNull();
    expect(parseComponentPath("latent", "a/b", "1")).toBeNull();
  });

  it("offers the trace kinds of each family", () => {
    expect(traceKinds("head").map((k) => k.label)).toEqual(["query", "key", "query-key", "value"]);
    expect(traceKinds("neuron").map((k) => k.kind)).toEqual(["neuron_pre"]);
    expect(traceKinds("embedding")).toEqual([]);
  });

  it("parses layer:index", () => {
    expect(parseLayerIndex(" 1 : 17 ")).toEqual({ layer: 1, index: 17 });
    expect(parseLayerIndex("1,17")).toBeNull();
    expect(parseLayerIndex("1:")).toBeNull();
  });
});

function assertNever(): never {
  throw new Error("unexpected null");
}
