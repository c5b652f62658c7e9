/** The question as the form shows it (a draft until Run), and how it meets the URL's state.
 *
 * The prompt, targets, distractors and second prompt are drafts: typing does not start runs.
 * So the results on the page can answer another question than the one the form shows; they are
 * then marked stale (`isStale`). An action taken meanwhile (ablate, trace, verify, k, a family,
 * sampling) acts on what is shown, as a researcher reading the form expects: it applies the
 * form's question together with the action (`withDraft`) and keeps the interventions shown in
 * the bar. Only Run starts a new question from scratch (`commitChange`). While the form is
 * incomplete (no prompt, target or distractor) it asks nothing, and actions keep the results'
 * question. */
import { useState, type Dispatch, type SetStateAction } from "react";
import type { DebuggerState } from "../lib/urlState";

export interface Draft {
  prompt: string;
  targets: string[];
  distractors: string[];
  comparePrompt: string | null;
}

export function draftOf(state: DebuggerState): Draft {
  const { prompt, targets, distractors, comparePrompt } = state;
  return { prompt, targets, distractors, comparePrompt };
}

/** The draft without the empty target and distractor inputs the form keeps for typing. */
export function cleanDraft(draft: Draft): Draft {
  return {
    ...draft,
    targets: draft.targets.filter((t) => t !== ""),
    distractors: draft.distractors.filter((d) => d !== ""),
  };
}

/** Whether the draft asks a question: a prompt, a target, a distractor, and a second prompt
 * when comparing. */
export function isComplete(draft: Draft): boolean {
  const clean = cleanDraft(draft);
  return clean.prompt !== "" && clean.targets.length > 0 && clean.distractors.length > 0 && clean.comparePrompt !== "";
}

function sameQuestion(a: Draft, b: Draft): boolean {
  const x = cleanDraft(a);
  const y = cleanDraft(b);
  const same = (p: string[], q: string[]) => p.length === q.length && p.every((v, i) => v === q[i]);
  return x.prompt === y.prompt && x.comparePrompt === y.comparePrompt && same(x.targets, y.targets) && same(x.distractors, y.distractors);
}

/** Whether the results of `state` no longer answer the question the form shows. */
export function isStale(state: DebuggerState, draft: Draft): boolean {
  return !sameQuestion(draftOf(state), draft);
}

/** Run: the draft's question; a new prompt invalidates node positions, so ablations, trace,
 * verification and the explained position start over. */
export function commitChange(state: DebuggerState, draft: Draft): Partial<DebuggerState> {
  const clean = cleanDraft(draft);
  if (clean.prompt === state.prompt && clean.comparePrompt === state.comparePrompt) return clean;
  return { ...clean, ablations: [], trace: null, verify: 0, position: null };
}

/** The state an action applies to: the form's question (when complete) with everything else
 * as shown. */
export function withDraft(state: DebuggerState, draft: Draft): DebuggerState {
  return isComplete(draft) && isStale(state, draft) ? { ...state, ...cleanDraft(draft) } : state;
}

/** The draft of the form, started from the URL's question and started again whenever that
 * changes (Run, an action, a link, the back button). */
export function useDraft(state: DebuggerState): [Draft, Dispatch<SetStateAction<Draft>>] {
  const key = JSON.stringify(draftOf(state));
  const [draft, setDraft] = useState(() => draftOf(state));
  const [seen, setSeen] = useState(key);
  if (seen !== key) {
    setSeen(key);
    setDraft(draftOf(state));
  }
  return [draft, setDraft];
}
