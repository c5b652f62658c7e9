/** The question: prompt, targets and distractors (with swap), an optional second prompt. The
 * text fields are drafts until Run; toggles and k apply at once. */
import { useState, type SubmitEvent } from "react";
import { swapSides } from "../lib/tokenPreview";
import { K_MAX, K_MIN, type DebuggerState } from "../lib/urlState";
import { PromptPreview, useTokenCount } from "./PromptPreview";
import { FamilyToggles } from "./FamilyToggles";
import { TokenListInput } from "./TokenInput";

const MAX_TOKENS_PER_SIDE = 16;

interface Props {
  state: DebuggerState;
  update: (change: Partial<DebuggerState>) => void;
  running: boolean;
}

interface Draft {
  prompt: string;
  targets: string[];
  distractors: string[];
  comparePrompt: string | null;
}

function draftOf(state: DebuggerState): Draft {
  const { prompt, targets, distractors, comparePrompt } = state;
  return { prompt, targets, distractors, comparePrompt };
}

/** A new prompt invalidates node positions: ablations, trace, verification and the explained
 * position start over. */
function commitChange(state: DebuggerState, draft: Draft): Partial<DebuggerState> {
  const clean = {
    ...draft,
    targets: draft.targets.filter((t) => t !== ""),
    distractors: draft.distractors.filter((d) => d !== ""),
  };
  if (clean.prompt === state.prompt && clean.comparePrompt === state.comparePrompt) return clean;
  return { ...clean, ablations: [], trace: null, verify: 0, position: null };
}

export function PromptForm({ state, update, running }: Props) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(state));
  const promptTokens = useTokenCount(draft.prompt);
  const compareTokens = useTokenCount(draft.comparePrompt ?? "");
  // Two runs need the same token count; the server would refuse, so say it before asking.
  const lengthsDiffer =
    draft.comparePrompt !== null && promptTokens !== undefined && compareTokens !== undefined && promptTokens !== compareTokens;
  const set = (change: Partial<Draft>) => setDraft((d) => ({ ...d, ...change }));
  const complete =
    draft.prompt !== "" &&
    draft.targets.some((t) => t !== "") &&
    draft.distractors.some((d) => d !== "") &&
    draft.comparePrompt !== "";

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
          max={MAX_TOKENS_PER_SIDE}
        />
        <button type="button" onClick={swap} aria-label="Swap targets and distractors" title="Swap targets and distractors">
          ⇄ swap
        </button>
        <TokenListInput
          label="Distractors"
          idPrefix="distractor"
          values={draft.distractors}
          onChange={(distractors) => set({ distractors })}
          max={MAX_TOKENS_PER_SIDE}
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
          <PromptPreview text={draft.comparePrompt} mustMatch={promptTokens} />
        </>
      )}
      <div className="row">
        <FamilyToggles state={state} update={update} />
        <label htmlFor="k">top/bottom k</label>
        <input
          id="k"
          type="number"
          min={K_MIN}
          max={K_MAX}
          value={state.k}
          onChange={(e) => {
            const k = Number(e.target.value);
            if (Number.isInteger(k) && k >= K_MIN && k <= K_MAX) update({ k });
          }}
        />
        <span className="spacer" />
        <button type="submit" className="primary" disabled={!complete || lengthsDiffer || running}>
          {running ? "Running…" : "Run"}
        </button>
      </div>
    </form>
  );
}
