/** The live tokenization preview of the prompt and of each target and distractor string. */
import { visibleToken } from "./format";

export interface PreviewToken {
  id: number;
  text: string;
}

export type TokenCheck =
  | { status: "empty" }
  | { status: "pending" }
  | { status: "ok"; token: PreviewToken }
  | { status: "multi"; tokens: PreviewToken[]; message: string }
  | { status: "none"; message: string };

/** Whether `text`, tokenized as `tokens` (undefined while the tokenization is on its way),
 * is the single token that targets and distractors must be. */
export function checkSingleToken(text: string, tokens: PreviewToken[] | undefined): TokenCheck {
  if (text === "") return { status: "empty" };
  if (tokens === undefined) return { status: "pending" };
  const [first] = tokens;
  if (first === undefined) return { status: "none", message: "No tokens: enter some text." };
  if (tokens.length === 1) return { status: "ok", token: first };
  const shown = tokens.map((t) => `"${visibleToken(t.text)}"`).join(" + ");
  return {
    status: "multi",
    tokens,
    message: `"${visibleToken(text)}" is ${tokens.length} tokens (${shown}), not one. ` +
      "A leading space is often part of the token.",
  };
}

/** The distinct non-empty strings of several inputs, in order, to tokenize in one request. */
export function distinctTexts(texts: readonly string[]): string[] {
  return [...new Set(texts.filter((t) => t !== ""))];
}

/** Swapping targets and distractors asks the opposite question (B not A). */
export function swapSides<T extends { targets: string[]; distractors: string[] }>(state: T): T {
  return { ...state, targets: state.distractors, distractors: state.targets };
}
