import { describe, expect, it } from "vitest";
import { checkSingleToken, distinctTexts, swapSides } from "./tokenPreview";

describe("token preview", () => {
  it("accepts a single token", () => {
    expect(checkSingleToken(" Mary", [{ id: 5335, text: " Mary" }])).toEqual({
      status: "ok",
      token: { id: 5335, text: " Mary" },
    });
  });

  it("warns when a string is several tokens, showing them with visible spaces", () => {
    const check = checkSingleToken(" Maryland", [
      { id: 1, text: " Mary" },
      { id: 2, text: "land" },
    ]);
    expect(check.status).toBe("multi");
    if (check.status === "multi") {
      expect(check.message).toContain("2 tokens");
      expect(check.message).toContain('"␣Mary" + "land"');
    }
  });

  it("distinguishes empty, pending and tokenless input", () => {
    expect(checkSingleToken("", undefined).status).toBe("empty");
    expect(checkSingleToken("x", undefined).status).toBe("pending");
    expect(checkSingleToken("x", []).status).toBe("none");
  });

  it("tokenizes each distinct non-empty string once", () => {
    expect(distinctTexts([")", "", "]", ")"])).toEqual([")", "]"]);
  });

  it("swaps targets and distractors", () => {
    const state = { prompt: "p", targets: ["a", "b"], distractors: ["c"] };
    expect(swapSides(state)).toEqual({ prompt: "p", targets: ["c"], distractors: ["a", "b"] });
    expect(swapSides(swapSides(state))).toEqual(state);
  });
});
