import { describe, expect, it } from "vitest";
import { components } from "../api/generated/openapi.json";
import { DEFAULT_STATE, type DebuggerState, ablationWithValue, debuggerUrl, decodeState, encodeState } from "./urlState";

const full: DebuggerState = {
  prompt: 'When Mary and John went to the store, John gave a drink to',
  targets: [" Mary", " her"],
  distractors: [" John"],
  mlp: "latents",
  attn: "latents",
  embeddings: false,
  k: 25,
  ablations: [
    { nodeId: "neuron:blocks.0.mlp.hook_post:3:17", value: "zero" },
    { nodeId: "head:blocks.1.attn.hook_pattern:5:2:3", value: "mean" },
    { nodeId: "latent:blocks.0.mlp.hook_post.hook_sae_acts_post:4:9", value: "constant", constant: -1.5 },
  ],
  trace: { kind: "head_qk", nodeId: "head:blocks.1.attn.hook_pattern:5:2:3" },
  comparePrompt: "When Mary and John went to the store, Mary gave a drink to",
  verify: 10,
  rankOn: "diff",
  sort: { metric: "directEffect", side: "diff", descending: false },
  filter: "L1 -latent",
  position: 7,
  lens: true,
  steer: [
    { nodeId: "neuron:blocks.1.mlp.hook_post:3:17", strength: 4.25 },
    { nodeId: "latent:blocks.0.mlp.hook_post.hook_sae_acts_post:2:9", strength: -1e-3 },
  ],
};

function roundTrip(state: DebuggerState): DebuggerState {
  // through the string form, as a reload does
  return decodeState(new URLSearchParams(encodeState(state).toString()));
}

describe("URL state", () => {
  it("round-trips the default state to an empty query", () => {
    expect(encodeState(DEFAULT_STATE).toString()).toBe("");
    expect(roundTrip(DEFAULT_STATE)).toEqual(DEFAULT_STATE);
  });

  it("round-trips every field", () => {
    expect(roundTrip(full)).toEqual(full);
  });

  it("keeps leading spaces, '+', '&', '~' and non-ASCII text", () => {
    const state = { ...DEFAULT_STATE, prompt: "a + b & c ~ d — é\nnext", targets: [" +"], distractors: ["&"] };
    expect(roundTrip(state)).toEqual(state);
  });

  it("keeps an empty compare prompt distinct from none", () => {
    expect(roundTrip({ ...DEFAULT_STATE, comparePrompt: "" }).comparePrompt).toBe("");
    expect(roundTrip(DEFAULT_STATE).comparePrompt).toBeNull();
  });

  it("falls back to defaults on bad values instead of throwing", () => {
    const params = new URLSearchParams(
      "k=0&verify=x&mlp=weird&sort=nope.left.desc&trace=bad~x&ablate=~mean&ablate=n~bogus&emb=1",
    );
    const state = decodeState(params);
    expect(state.k).toBe(DEFAULT_STATE.k);
    expect(state.verify).toBe(0);
    expect(state.mlp).toBe("neurons");
    expect(state.sort).toEqual(DEFAULT_STATE.sort);
    expect(state.trace).toBeNull();
    expect(state.ablations).toEqual([]);
    expect(state.embeddings).toBe(true);
  });

  it("keeps position 0 distinct from the default (last token)", () => {
    expect(roundTrip({ ...DEFAULT_STATE, position: 0 }).position).toBe(0);
    expect(encodeState({ ...DEFAULT_STATE, position: 0 }).toString()).toBe("pos=0");
    expect(decodeState(new URLSearchParams("pos=-1")).position).toBeNull();
    expect(decodeState(new URLSearchParams("pos=x")).position).toBeNull();
  });

  it("accepts what the server's schema accepts, up to its bounds and no further", () => {
    const { DebuggerRun, NodeAblation, Intervention } = components.schemas;
    const decode = (query: string) => decodeState(new URLSearchParams(query));
    const { k, verify, position } = DebuggerRun.properties;
    expect(decode(`k=${k.maximum}`).k).toBe(k.maximum);
    expect(decode(`k=${k.maximum + 1}`).k).toBe(DEFAULT_STATE.k);
    expect(decode(`verify=${verify.maximum}`).verify).toBe(verify.maximum);
    expect(decode(`verify=${verify.maximum + 1}`).verify).toBe(DEFAULT_STATE.verify);
    expect(decode(`pos=${position.maximum}`).position).toBe(position.maximum);
    expect(decode(`pos=${position.maximum + 1}`).position).toBeNull();
    const constant = NodeAblation.properties.constant;
    expect(decode(`ablate=n:a~constant:${constant.minimum}`).ablations).toHaveLength(1);
    expect(decode(`ablate=n:a~constant:${constant.maximum * 1.5}`).ablations).toHaveLength(0);
    const strength = Intervention.properties.strength;
    expect(decode(`steer=n:a~${strength.maximum}`).steer).toHaveLength(1);
    expect(decode(`steer=n:a~${strength.minimum * 1.5}`).steer).toHaveLength(0);
  });

  it("drops constants and strengths that are not finite numbers within bounds", () => {
    const params = new URLSearchParams();
    params.append("ablate", "n:a~constant:abc");
    params.append("ablate", "n:b~constant:1e9");
    params.append("ablate", "n:c~mean:3");
    params.append("ablate", "n:d~constant");
    params.append("steer", "n:e~Infinity");
    params.append("steer", "n:f~");
    params.append("steer", "~2");
    params.append("steer", "n:g~2");
    params.append("steer", "n:g~3");
    const state = decodeState(params);
    expect(state.ablations).toEqual([]);
    expect(state.steer).toEqual([{ nodeId: "n:g", strength: 2 }]);
  });

  it("switches ablation values, a constant starting at 0", () => {
    const zero = { nodeId: "n:a", value: "zero" as const };
    const constant = ablationWithValue(zero, "constant");
    expect(constant).toEqual({ nodeId: "n:a", value: "constant", constant: 0 });
    expect(ablationWithValue({ ...constant, constant: 2 }, "mean")).toEqual({ nodeId: "n:a", value: "mean" });
    expect(encodeState({ ...DEFAULT_STATE, ablations: [{ ...constant, constant: 2.5 }] }).get("ablate")).toBe("n:a~constant:2.5");
  });

  it("drops duplicate ablations of one node", () => {
    const params = new URLSearchParams();
    params.append("ablate", "neuron:blocks.0.mlp.hook_post:3:17");
    params.append("ablate", "neuron:blocks.0.mlp.hook_post:3:17~mean");
    expect(decodeState(params).ablations).toHaveLength(1);
  });

  it("builds debugger links", () => {
    expect(debuggerUrl({})).toBe("/debugger");
    expect(debuggerUrl({ prompt: "x(", targets: [")"] })).toBe("/debugger?prompt=x%28&t=%29");
  });
});
