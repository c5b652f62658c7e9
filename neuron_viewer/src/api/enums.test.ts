import { describe, expect, it } from "vitest";
import { FAMILIES } from "../lib/nodes";
import { ABLATION_VALUES, RANK_ON, TRACE_KINDS } from "../lib/urlState";
import type { Covers, Exhaustive, TraceKind } from "./enums";
import { components } from "./generated/openapi.json";

// A list that misses a member of the server's enum does not compile (tsc checks this file):
// @ts-expect-error "head_value" is missing
export type Incomplete = Exhaustive<Covers<TraceKind, ["neuron_pre", "latent_pre", "head_query", "head_key", "head_qk"]>>;

const sorted = (values: readonly string[]) => [...values].sort();

describe("the UI's lists of the server's enums", () => {
  it("name every value the server's schema lists", () => {
    const { TraceSpec, NodeOut, NodeAblation, DebuggerRun } = components.schemas;
    expect(sorted(TRACE_KINDS)).toEqual(sorted(TraceSpec.properties.kind.enum));
    expect(sorted(FAMILIES)).toEqual(sorted(NodeOut.properties.family.enum));
    expect(sorted([...ABLATION_VALUES, "source"])).toEqual(sorted(NodeAblation.properties.value.enum));
    expect(sorted(RANK_ON)).toEqual(sorted(DebuggerRun.properties.rankOn.enum));
  });
});
