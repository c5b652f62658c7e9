import { describe, expect, it } from "vitest";
import { DEFAULT_STATE, type DebuggerState } from "../lib/urlState";
import { commitChange, draftOf, isStale, withDraft } from "./draft";
import { buildRun } from "./request";

const shown: DebuggerState = {
  ...DEFAULT_STATE,
  prompt: "When Mary and John went to the store, John gave a drink to",
  targets: [" Mary"],
  distractors: [" John"],
  ablations: [{ nodeId: "head:blocks.1.attn.hook_pattern:5:2:3", value: "zero" }],
  k: 20,
};

describe("the form's draft", () => {
  it("marks results stale once the form's question differs, not for empty inputs", () => {
    expect(isStale(shown, draftOf(shown))).toBe(false);
    expect(isStale(shown, { ...draftOf(shown), targets: [" Mary", ""] })).toBe(false);
    expect(isStale(shown, { ...draftOf(shown), prompt: "When Anna and John went" })).toBe(true);
    expect(isStale(shown, { ...draftOf(shown), distractors: [" John", " he"] })).toBe(true);
    expect(isStale(shown, { ...draftOf(shown), comparePrompt: shown.prompt })).toBe(true);
  });

  it("sends an action with the prompt the form shows, keeping the interventions shown", () => {
    const edited = { ...draftOf(shown), prompt: "When Anna and John went to the store, John gave a drink to" };
    const acting = withDraft(shown, edited);
    const ablated = { ...acting, ablations: [...acting.ablations, { nodeId: "neuron:blocks.0.mlp.hook_post:3:17", value: "zero" as const }] };
    const run = buildRun(ablated);
    expect(run?.prompt).toBe(edited.prompt);
    expect(run?.ablations).toHaveLength(2);
    expect(run?.k).toBe(20);
  });

  it("leaves actions on the results' question while the form is incomplete", () => {
    expect(withDraft(shown, { ...draftOf(shown), prompt: "" })).toBe(shown);
    expect(withDraft(shown, { ...draftOf(shown), targets: [""] })).toBe(shown);
    expect(withDraft(shown, draftOf(shown))).toBe(shown);
  });

  it("starts over on Run with a new prompt, but not for new targets", () => {
    const newPrompt = commitChange(shown, { ...draftOf(shown), prompt: "x" });
    expect(newPrompt).toMatchObject({ prompt: "x", ablations: [], trace: null, verify: 0, position: null });
    const newTargets = commitChange(shown, { ...draftOf(shown), targets: [" she", ""] });
    expect(newTargets).toEqual({ ...draftOf(shown), targets: [" she"] });
  });
});
