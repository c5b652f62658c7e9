import { describe, expect, it } from "vitest";
import { divergingColor, sequentialColor } from "./colorScale";
import { formatValue, visibleToken, ZERO_TOLERANCE } from "./format";

describe("noise is shown as zero", () => {
  it("prints values below the tolerance as 0", () => {
    // the diff of a node upstream of an ablation, and a histogram's zero-bin edge
    expect(formatValue(-2.38e-7)).toBe("0");
    expect(formatValue(-9.54e-7)).toBe("0");
    expect(formatValue(-0)).toBe("0");
    expect(formatValue(ZERO_TOLERANCE)).toBe("1.00e-6");
    expect(formatValue(-3.2e-5)).toBe("-3.20e-5");
    expect(formatValue(0.5)).toBe("0.500");
    expect(formatValue(null)).toBe("–");
  });

  it("leaves noise uncoloured, even in a column of noise alone", () => {
    expect(divergingColor(-2.38e-7, 2.38e-7)).toBe("transparent");
    expect(divergingColor(-2.38e-7, 1)).toBe("transparent");
    expect(sequentialColor(5e-7, 5e-7)).toBe("transparent");
    expect(divergingColor(-0.5, 1)).toBe("rgba(37, 99, 235, 0.425)");
    expect(sequentialColor(1, 1)).toBe("rgba(22, 163, 74, 0.850)");
  });
});

describe("visible tokens", () => {
  it("shows whitespace, and a token that only starts a character as a placeholder", () => {
    expect(visibleToken(" a\n\t")).toBe("␣a↵⇥");
    expect(visibleToken("")).toBe("◌");
    expect(visibleToken("é")).toBe("é");
  });
});
