import { describe, expect, it } from "vitest";
import { K_RANGE, POSITION_RANGE, schemaBound, STRENGTH_RANGE, TARGETS_MAX } from "./bounds";
import { components } from "./generated/openapi.json";

const { DebuggerRun, TraceSpec } = components.schemas;

describe("bounds from the server's schema", () => {
  it("reads a field's bounds, and an optional field's from its non-null branch", () => {
    expect(K_RANGE).toEqual({ min: DebuggerRun.properties.k.minimum, max: DebuggerRun.properties.k.maximum });
    expect(TARGETS_MAX).toBe(DebuggerRun.properties.targets.maxItems);
    expect(POSITION_RANGE.max).toBe(DebuggerRun.properties.position.maximum);
    expect(schemaBound("TraceSpec", "layer", "minimum")).toBe(TraceSpec.properties.layer.anyOf[0]?.minimum);
    expect(STRENGTH_RANGE.min).toBeLessThan(0);
  });

  it("throws, naming the field, when the schema has no such bound", () => {
    expect(() => schemaBound("DebuggerRun", "k", "maxItems")).toThrow(/no maxItems for DebuggerRun\.k/);
    expect(() => schemaBound("DebuggerRun", "prompt", "maximum")).toThrow(/generate-api/);
  });
});
