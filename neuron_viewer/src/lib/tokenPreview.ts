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

export type TargetSuggestion = { status: "pending" } | { status: "text"; text: string } | { status: "none" };

/** What to type instead of a text of several `tokens`: its first token's text, when typing
 * that text gives that one token back (`retyped`: the text's own tokenization, undefined while
 * on its way). Never a partial character: a token holding only part of one (the first byte of
 * an emoji) shows as "" (the server puts a split character on its last token), and one holding
 * a character's start after whole text (GPT-2's " \xf0\x9f\x98") does not retype to itself. */
export function suggestTarget(tokens: readonly PreviewToken[], retyped: readonly PreviewToken[] | undefined): TargetSuggestion {
  const [first] = tokens;
  if (first === undefined || first.text === "") return { status: "none" };
  if (retyped === undefined) return { status: "pending" };
  const [only] = retyped;
  return retyped.length === 1 && only?.id === first.id ? { status: "text", text: first.text } : { status: "none" };
}

/** The suggestion as a sentence of the multi-token warning. */
export function suggestionText(suggestion: TargetSuggestion): string {
  if (suggestion.status === "pending") return "";
  if (suggestion.status === "text") return `Its first token is "${visibleToken(suggestion.text)}".`;
  return "Its first token is part of a character, which cannot be typed: choose another target.";
}

/** The distinct non-empty strings of several inputs, in order, to tokenize in one request. */
export function distinctTexts(texts: readonly string[]): string[] {
  return [...new Set(texts.filter((t) => t !== ""))];
}

/** Swapping targets and distractors asks the opposite question (B not A). */
export function swapSides<T extends { targets: string[]; distractors: string[] }>(state: T): T {
  return { ...state, targets: state.distractors, distractors: state.targets };
}
