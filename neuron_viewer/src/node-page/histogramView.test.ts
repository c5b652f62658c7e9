import { describe, expect, it } from "vitest";
import { histogramView } from "./histogramView";

// Edges as the collation writes them (datasets/config.py, 4 bins per octave, 8-bit mantissas):
// the zero bin is (-2^-20, 2^-20); 4.75 and 5.65625 are 2^2.25 and 2^2.5 rounded.
const ZERO_EDGE = 2 ** -20;

describe("histogram view", () => {
  it("starts a never-negative component's axis at 0, not at the zero bin's edge", () => {
    const view = histogramView([-ZERO_EDGE, ZERO_EDGE, 1.1875 * ZERO_EDGE], [900, 3], null);
    expect(view.low).toBe(0);
    expect(view.bars[0]).toMatchObject({ low: 0, high: 0, count: 900 });
  });

  it("ends the axis at the maximum inside the last bin, narrowing that bar", () => {
    const edges = [-0.171875, -0.14453125, 4, 4.75, 5.65625];
    const view = histogramView(edges, [10, 20, 5, 1], 4.85);
    expect(view.low).toBe(-0.171875);
    expect(view.high).toBe(4.85);
    const last = view.bars[view.bars.length - 1];
    expect(last?.high).toBe(4.85);
    expect(last?.width).toBeLessThan(1);
    expect(view.span).toBeCloseTo(3 + (last?.width ?? 0), 9);
    expect(view.bars.slice(0, -1).every((b) => b.width === 1)).toBe(true);
    // the bar's width is the maximum's place in the bin, on the bins' log scale
    const wide = histogramView([4.75, 5.65625], [1], 5.3).bars[0];
    expect(wide?.width).toBeCloseTo(Math.log(5.3 / 4.75) / Math.log(5.65625 / 4.75), 6);
  });

  it("keeps a bar visible when the maximum sits at the start of its bin", () => {
    const view = histogramView([4.75, 5.65625], [1], 4.75);
    expect(view.bars[0]?.width).toBeGreaterThan(0.1);
    expect(view.high).toBe(4.75);
  });

  it("ends at the maximum beyond the last edge (the outermost bin is open)", () => {
    expect(histogramView([2048, 4096], [2], 5000).high).toBe(5000);
  });

  it("keeps the last edge without a maximum, or when the maximum contradicts the bins", () => {
    expect(histogramView([1, 2, 4], [1, 1], null).high).toBe(4);
    expect(histogramView([1, 2, 4], [1, 1], 1.5).high).toBe(4);
  });

  it("draws an all-zero component as 0 to 0", () => {
    const view = histogramView([-ZERO_EDGE, ZERO_EDGE], [50], 0);
    expect([view.low, view.high]).toEqual([0, 0]);
  });

  it("has no bars without counts", () => {
    expect(histogramView([], [], null).bars).toEqual([]);
  });
});
