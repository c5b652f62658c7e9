import { describe, expect, it } from "vitest";
import { DEFAULT_STATE, type DebuggerState, debuggerUrl, decodeState, encodeState } from "./urlState";

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
  ],
  trace: { kind: "head_qk", nodeId: "head:blocks.1.attn.hook_pattern:5:2:3" },
  comparePrompt: "When Mary and John went to the store, Mary gave a drink to",
  verify: 10,
  rankOn: "diff",
  sort: { metric: "directEffect", side: "diff", descending: false },
  filter: "L1 -latent",
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
