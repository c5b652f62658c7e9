import { describe, expect, it } from "vitest";
import { checkSingleToken, distinctTexts, suggestTarget, suggestionText, swapSides } from "./tokenPreview";

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

  it("suggests the first token of a multi-token target when typing it gives that token", () => {
    const cafe = [
      { id: 270, text: " c" },
      { id: 1571, text: "af" },
      { id: 128, text: "" },
      { id: 103, text: "é" },
    ];
    expect(suggestTarget(cafe, undefined)).toEqual({ status: "pending" });
    const suggestion = suggestTarget(cafe, [{ id: 270, text: " c" }]);
    expect(suggestion).toEqual({ status: "text", text: " c" });
    expect(suggestionText(suggestion)).toBe('Its first token is "␣c".');
  });

  it("never suggests part of a character", () => {
    // The toy tokenizer's '😀': four one-byte tokens, shown as the server joins them.
    const emoji = [
      { id: 173, text: "" },
      { id: 254, text: "" },
      { id: 247, text: "" },
      { id: 223, text: "😀" },
    ];
    const check = checkSingleToken("😀", emoji);
    expect(check.status).toBe("multi");
    const none = suggestTarget(emoji, undefined);
    expect(none).toEqual({ status: "none" });
    expect(suggestionText(none)).not.toMatch(/\\x|"◌"|""/);
    // GPT-2's ' 😀': a space and the emoji's first bytes in one token that shows " "; typing " "
    // gives another token, so it is no suggestion.
    const gpt2 = [
      { id: 30325, text: " " },
      { id: 222, text: "😀" },
    ];
    expect(suggestTarget(gpt2, [{ id: 220, text: " " }])).toEqual({ status: "none" });
  });
});
