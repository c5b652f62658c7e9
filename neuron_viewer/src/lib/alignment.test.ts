import { describe, expect, it } from "vitest";
import { alignedColumns, alignmentSummary, pairedRight, type TokenAlignment } from "./alignment";

// The server's answer for a prompt of 5 tokens and a second prompt of 3.
const shorter: TokenAlignment = { offset: -2, leftToRight: [null, null, 0, 1, 2], rightToLeft: [2, 3, 4] };
const longer: TokenAlignment = { offset: 2, leftToRight: [2, 3], rightToLeft: [null, null, 0, 1] };

describe("right-aligned prompts", () => {
  it("lays the shorter prompt under the end of the longer", () => {
    expect(alignedColumns(shorter)).toEqual([
      { left: 0, right: null },
      { left: 1, right: null },
      { left: 2, right: 0 },
      { left: 3, right: 1 },
      { left: 4, right: 2 },
    ]);
    expect(alignedColumns(longer)).toEqual([
      { left: null, right: 0 },
      { left: null, right: 1 },
      { left: 0, right: 2 },
      { left: 1, right: 3 },
    ]);
  });

  it("pairs every token of prompts of one length", () => {
    const same: TokenAlignment = { offset: 0, leftToRight: [0, 1], rightToLeft: [0, 1] };
    expect(alignedColumns(same)).toEqual([
      { left: 0, right: 0 },
      { left: 1, right: 1 },
    ]);
    expect(alignmentSummary(same)).toBe("All 2 tokens pair up.");
  });

  it("finds a left token's pair, and says which tokens have none", () => {
    expect(pairedRight(shorter, 4)).toBe(2);
    expect(pairedRight(shorter, 1)).toBeNull();
    expect(alignmentSummary(shorter)).toBe(
      "The prompts are right-aligned: the last 3 tokens of each pair up; the first 2 tokens of the prompt have no pair.",
    );
    expect(alignmentSummary({ offset: 1, leftToRight: [1], rightToLeft: [null, 0] })).toContain(
      "the first 1 token of the second prompt has no pair",
    );
  });
});
