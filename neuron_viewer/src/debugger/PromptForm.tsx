/** The question: prompt, targets and distractors (with swap), an optional second prompt. The
 * text fields are a draft (debugger/draft.ts) until Run; toggles and k apply at once. */
import type { Dispatch, SetStateAction, SubmitEvent } from "react";
import { DISTRACTORS_MAX, TARGETS_MAX } from "../api/bounds";
import { swapSides } from "../lib/tokenPreview";
import type { DebuggerState } from "../lib/urlState";
import { commitChange, isComplete, type Draft } from "./draft";
import { FamilyToggles } from "./FamilyToggles";
import { KInput } from "./KInput";
import { PromptPreview, useTokenCount } from "./PromptPreview";
import { TokenListInput } from "./TokenInput";

interface Props {
  state: DebuggerState;
  update: (change: Partial<DebuggerState>) => void;
  running: boolean;
  draft: Draft;
  setDraft: Dispatch<SetStateAction<Draft>>;
}

export function PromptForm({ state, update, running, draft, setDraft }: Props) {
  const promptTokens = useTokenCount(draft.prompt);
  const set = (change: Partial<Draft>) => setDraft((d) => ({ ...d, ...change }));
  const complete = isComplete(draft);

  function submit(e: SubmitEvent) {
    e.preventDefault();
    if (complete) update(commitChange(state, draft));
  }

  function swap() {
    const swapped = swapSides(draft);
    setDraft(swapped);
    if (complete) update(commitChange(state, swapped));
  }

  return (
    <form className="panel stack" onSubmit={submit} aria-label="Question">
      <label htmlFor="prompt">Prompt</label>
      <textarea id="prompt" rows={2} value={draft.prompt} onChange={(e) => set({ prompt: e.target.value })} />
      <PromptPreview text={draft.prompt} />
      <div className="row" style={{ alignItems: "flex-start", gap: "1.5rem" }}>
        <TokenListInput
          label="Targets"
          idPrefix="target"
          values={draft.targets}
          onChange={(targets) => set({ targets })}
          max={TARGETS_MAX}
        />
        <button type="button" onClick={swap} aria-label="Swap targets and distractors" title="Swap targets and distractors">
          ⇄ swap
        </button>
        <TokenListInput
          label="Distractors"
          idPrefix="distractor"
          values={draft.distractors}
          onChange={(distractors) => set({ distractors })}
          max={DISTRACTORS_MAX}
        />
      </div>
      <div className="row">
        <input
          id="compare-toggle"
          type="checkbox"
          checked={draft.comparePrompt !== null}
          onChange={(e) => set({ comparePrompt: e.target.checked ? draft.prompt : null })}
        />
        <label htmlFor="compare-toggle">Compare with a second prompt (right run)</label>
      </div>
      {draft.comparePrompt !== null && (
        <>
          <label htmlFor="compare-prompt">Second prompt</label>
          <textarea
            id="compare-prompt"
            rows={2}
            value={draft.comparePrompt}
            onChange={(e) => set({ comparePrompt: e.target.value })}
          />
          <PromptPreview text={draft.comparePrompt} pairWith={promptTokens} />
        </>
      )}
      <div className="row">
        <FamilyToggles state={state} update={update} />
        <KInput k={state.k} onChange={(k) => update({ k })} />
        <span className="spacer" />
        <button type="submit" className="primary" disabled={!complete || running}>
          {running ? "Running…" : "Run"}
        </button>
      </div>
    </form>
  );
}
