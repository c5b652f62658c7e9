import { describe, expect, it } from "vitest";
import { DEFAULT_STATE, type DebuggerState } from "../lib/urlState";
import {
  buildLensRequest,
  buildRun,
  nodeRuns,
  nodeTokens,
  nodeTooltip,
  requestedFamilies,
  tableRows,
  traceSpec,
  type DebuggerResult,
  type NodeRow,
} from "./request";

const base: DebuggerState = { ...DEFAULT_STATE, prompt: "name = str(value", targets: [")"], distractors: ["]"] };

function row(id: string, family: NodeRow["node"]["family"], site: string, token: number, keyToken: number | null = null): NodeRow {
  const values = { activation: 1, writeMagnitude: 2, directEffect: null, totalEffect: 0.5 };
  return {
    node: { id, family, site, layer: null, token, index: 0, keyToken },
    values: { left: values },
    rankedBy: ["total_effect:top"],
    pins: [],
    tokens: { outputTop: null, outputBottom: null, inputTop: null },
  };
}

describe("debugger requests", () => {
  it("needs a prompt, a target and a distractor", () => {
    expect(buildRun(DEFAULT_STATE)).toBeNull();
    expect(buildRun({ ...base, targets: [""] })).toBeNull();
    expect(buildRun(base)).toMatchObject({ prompt: "name = str(value", targets: [")"], distractors: ["]"], k: 10, verify: 0, rankOn: "left" });
  });

  it("explains the last token unless a position is chosen", () => {
    expect(buildRun(base)).not.toHaveProperty("position");
    expect(buildRun({ ...base, position: 0 })?.position).toBe(0);
    expect(buildRun({ ...base, position: 3 })?.position).toBe(3);
  });

  it("sends a constant with constant ablations only", () => {
    const run = buildRun({
      ...base,
      ablations: [
        { nodeId: "n:a", value: "constant", constant: -2 },
        { nodeId: "n:b", value: "mean" },
      ],
    });
    expect(run?.ablations).toEqual([
      { nodeId: "n:a", value: "constant", constant: -2 },
      { nodeId: "n:b", value: "mean" },
    ]);
  });

  it("asks the logit lens at the explained position, with attribution when both sides are set", () => {
    expect(buildLensRequest(DEFAULT_STATE)).toBeNull();
    expect(buildLensRequest({ ...base, distractors: [""] })).toEqual({ prompt: base.prompt, topN: 5 });
    expect(buildLensRequest({ ...base, position: 2 })).toEqual({
      prompt: base.prompt, topN: 5, position: 2, targets: [")"], distractors: ["]"],
    });
  });

  it("asks for MLP or attention latents in place of neurons or heads", () => {
    expect(requestedFamilies(base)).toEqual(["embedding", "neuron", "head"]);
    expect(requestedFamilies({ ...base, mlp: "latents", embeddings: false })).toEqual(["mlp_latent", "head"]);
    expect(requestedFamilies({ ...base, attn: "latents" })).toEqual(["embedding", "neuron", "attn_latent"]);
  });

  it("sends ablations, a second prompt, ranking and traces", () => {
    const run = buildRun({
      ...base,
      ablations: [{ nodeId: "neuron:blocks.1.mlp.hook_post:4:10", value: "mean" }],
      comparePrompt: "name = list(value",
      rankOn: "diff",
      trace: { kind: "head_qk", nodeId: "head:blocks.1.attn.hook_pattern:4:3:2" },
    });
    expect(run).toMatchObject({
      ablations: [{ nodeId: "neuron:blocks.1.mlp.hook_post:4:10", value: "mean" }],
      comparePrompt: "name = list(value",
      rankOn: "diff",
      trace: { kind: "head_qk", layer: 1, token: 4, index: 3, keyToken: 2 },
    });
    // ranking on another run needs two runs
    expect(buildRun({ ...base, rankOn: "diff" })?.rankOn).toBe("left");
  });

  it("traces latents by their autoencoder's site, and refuses mismatched kinds", () => {
    expect(traceSpec({ kind: "latent_pre", nodeId: "latent:blocks.0.mlp.hook_post.hook_sae_acts_post:2:9" })).toEqual({
      kind: "latent_pre", token: 2, index: 9, site: "blocks.0.mlp.hook_post",
    });
    expect(traceSpec({ kind: "neuron_pre", nodeId: "head:blocks.1.attn.hook_pattern:4:3:2" })).toBeNull();
  });

  it("shows a head pair's query and key tokens", () => {
    const strings = ["name", " =", " str", "(", "value"];
    expect(nodeTokens(row("h", "head", "blocks.1.attn.hook_pattern", 4, 3), strings)).toBe('"value" 4 → "(" 3');
    expect(nodeTokens(row("n", "neuron", "blocks.1.mlp.hook_post", 1), strings)).toBe('"␣=" 1');
  });

  it("turns result rows into table rows", () => {
    const result = {
      rightRun: null,
      tokenStrings: { left: ["a", "b"] },
      nodes: [row("neuron:blocks.1.mlp.hook_post:1:7", "neuron", "blocks.1.mlp.hook_post", 1)],
    } as unknown as DebuggerResult;
    const [first] = tableRows(result);
    expect(first).toMatchObject({ name: "L1 N7", tokens: '"b" 1', values: { left: { directEffect: null, totalEffect: 0.5 } } });
    expect(first?.pinned).toBeUndefined();
    expect(first?.only).toBeUndefined();
  });

  it("marks pinned rows, and one-sided rows of prompts of different lengths", () => {
    const values = { activation: 1, writeMagnitude: 2, directEffect: 0, totalEffect: 0.5 };
    const ablated: NodeRow = { ...row("neuron:blocks.0.mlp.hook_post:2:3", "neuron", "blocks.0.mlp.hook_post", 2), pins: ["ablated"], rankedBy: [] };
    ablated.values = { left: values, right: values, diff: values };
    // the prompt's token 0 has no pair in the shorter second prompt
    const leftOnly = row("neuron:blocks.0.mlp.hook_post:0:5", "neuron", "blocks.0.mlp.hook_post", 0);
    // a node of the second prompt alone, at its token 0, with the same id as a node of the prompt
    const rightOnly: NodeRow = { ...row("neuron:blocks.0.mlp.hook_post:0:5", "neuron", "blocks.0.mlp.hook_post", 0), values: { left: null, right: values } };
    const result = {
      rightRun: "prompt",
      tokenStrings: { left: ["a", "b", "c"], right: ["x", "y"] },
      nodes: [ablated, leftOnly, rightOnly],
    } as unknown as DebuggerResult;
    const [pinned, left, right] = tableRows(result);
    expect(pinned).toMatchObject({ pinned: true, pins: ["ablated"] });
    expect(pinned?.only).toBeUndefined();
    expect(left).toMatchObject({ only: "left", tokens: '"a" 0', values: { left: { totalEffect: 0.5 } } });
    expect(right).toMatchObject({ only: "right", tokens: '"x" 0', values: { right: { totalEffect: 0.5 } } });
    expect(right?.values.left).toBeUndefined();
    expect(new Set([pinned?.key, left?.key, right?.key]).size).toBe(3);
    expect(nodeTooltip(ablated)).toContain("pinned: ablated in the left run");
    expect(nodeRuns(leftOnly, false)).toBe("both"); // a single run: no side is missing
  });
});
