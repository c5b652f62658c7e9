import { describe, expect, it } from "vitest";
import { modelFromParams, paramsWithModel, switchModelUrl, withModel } from "./modelUrl";
import { decodeState } from "./urlState";

describe("the model in the URL", () => {
  it("reads the model, absent or empty meaning the default", () => {
    expect(modelFromParams(new URLSearchParams("model=toy-attn-only-2l&k=3"))).toBe("toy-attn-only-2l");
    expect(modelFromParams(new URLSearchParams("k=3"))).toBeNull();
    expect(modelFromParams(new URLSearchParams("model="))).toBeNull();
  });

  it("sets it on links, keeping their query and hash", () => {
    expect(withModel("/debugger", "m")).toBe("/debugger?model=m");
    expect(withModel("/?summary=blocks.0.mlp.hook_post#layer-summary", "m")).toBe(
      "/?summary=blocks.0.mlp.hook_post&model=m#layer-summary",
    );
    expect(withModel("/debugger?prompt=a&model=old", "new")).toBe("/debugger?prompt=a&model=new");
    expect(withModel("/debugger?prompt=a&model=old", null)).toBe("/debugger?prompt=a");
    expect(withModel("/component/neuron/1/7", null)).toBe("/component/neuron/1/7");
  });

  it("keeps the other parameters when set on parameters", () => {
    const params = new URLSearchParams("text=hi");
    expect(paramsWithModel(params, "m").toString()).toBe("text=hi&model=m");
    expect(params.toString()).toBe("text=hi"); // not changed in place
  });
});

describe("switching models", () => {
  const debuggerSearch =
    "?prompt=a+b&t=)&d=]&k=20&ablate=neuron:blocks.0.mlp.hook_post:3:17&trace=head_qk~head:x:1:2:3" +
    "&steer=neuron:blocks.0.mlp.hook_post:0:1~2&pos=2&filter=L1&mlp=latents&model=old";

  it("keeps the debugger's question and drops what names nodes of the old model", () => {
    const url = switchModelUrl("/debugger", debuggerSearch, "toy-attn-only-2l", "toy-gelu-2l");
    const [path, query] = url.split("?");
    expect(path).toBe("/debugger");
    const params = new URLSearchParams(query);
    expect(params.get("model")).toBe("toy-attn-only-2l");
    const state = decodeState(params);
    expect(state.prompt).toBe("a b");
    expect(state.targets).toEqual([")"]);
    expect(state.distractors).toEqual(["]"]);
    expect(state.k).toBe(20);
    expect(state.ablations).toEqual([]);
    expect(state.trace).toBeNull();
    expect(state.steer).toEqual([]);
    expect(state.position).toBeNull();
    expect(state.filter).toBe("");
    expect(state.mlp).toBe("neurons");
  });

  it("leaves the default model out of the URL", () => {
    expect(switchModelUrl("/debugger", "?prompt=x&model=other", "toy-gelu-2l", "toy-gelu-2l")).toBe("/debugger?prompt=x");
    expect(switchModelUrl("/architecture", "?model=other", "toy-gelu-2l", "toy-gelu-2l")).toBe("/architecture");
  });

  it("goes home from a component page, whose component is the old model's", () => {
    expect(switchModelUrl("/component/neuron/1/7", "?text=hi", "m", "d")).toBe("/?model=m");
    expect(switchModelUrl("/", "?summary=blocks.0.mlp.hook_post", "m", "d")).toBe("/?model=m");
  });
});
