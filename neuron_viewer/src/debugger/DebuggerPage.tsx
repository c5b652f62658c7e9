/** The debugger: why does the model predict the targets and not the distractors? All state
 * that matters lives in the URL (lib/urlState); the form's text is a draft until Run, and
 * actions act on the form as shown (debugger/draft.ts). */
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router-dom";
import { useDebuggerRun, useModelInfo } from "../api/hooks";
import { useModelName } from "../api/modelName";
import type { Side } from "../lib/metrics";
import { paramsWithModel } from "../lib/modelUrl";
import { QueryStatus } from "../lib/QueryStatus";
import { decodeState, encodeState, type DebuggerState } from "../lib/urlState";
import { isComplete, isStale, useDraft, withDraft } from "./draft";
import { familyChoices, fitFamilies } from "./families";
import { InterventionBar } from "./InterventionBar";
import { LogitLensPanel } from "./LogitLensPanel";
import { LogitsPanel } from "./LogitsPanel";
import { NodeTable } from "./NodeTable";
import type { NodeActions } from "./NodeTableRow";
import { PromptForm } from "./PromptForm";
import { buildRun, tableRows } from "./request";
import { RunSummary } from "./RunSummary";
import { SamplingPanel } from "./SamplingPanel";
import { TokenHeatmaps } from "./TokenHeatmaps";
import { VerifyPanel } from "./VerifyPanel";

/** Changes that only refine the view replace the history entry instead of adding one. */
const VIEW_ONLY: (keyof DebuggerState)[] = ["filter", "sort", "lens"];

function StaleMarker({ complete }: { complete: boolean }) {
  return (
    <div className="status stale" role="status" data-testid="stale">
      <strong>Stale: press Run.</strong>{" "}
      {complete
        ? "These results answer the question before your edits. Actions (ablate, trace, verify, k, families, sampling) apply the question as the form shows it."
        : "These results answer the last question; the form is incomplete, so actions still apply to that question."}
    </div>
  );
}

export function DebuggerPage() {
  const [params, setParams] = useSearchParams();
  const info = useModelInfo().data;
  const model = useModelName();
  const state = useMemo(() => {
    const decoded = decodeState(params);
    return info === undefined ? decoded : fitFamilies(decoded, familyChoices(info));
  }, [params, info]);
  const [draft, setDraft] = useDraft(state);
  // What actions apply to: the form's question as shown, with everything else as it is.
  const acting = useMemo(() => withDraft(state, draft), [state, draft]);
  const update = useCallback(
    (change: Partial<DebuggerState>) => {
      const replace = Object.keys(change).every((k) => VIEW_ONLY.includes(k as keyof DebuggerState));
      setParams(paramsWithModel(encodeState({ ...(replace ? state : acting), ...change }), model), { replace });
    },
    [state, acting, setParams, model],
  );
  const run = useMemo(() => buildRun(state), [state]);
  const query = useDebuggerRun(run);
  const result = query.data;
  const rows = useMemo(() => (result ? tableRows(result) : []), [result]);
  const sides: Side[] = result?.rightRun ? ["left", "diff", "right"] : ["left"];
  const stale = isStale(state, draft);

  const actions: NodeActions = {
    ablate: (nodeId) => update({ ablations: [...acting.ablations, { nodeId, value: "zero" }] }),
    trace: (nodeId, kind) => update({ trace: { nodeId, kind } }),
  };

  return (
    <main className="page">
      <h1>Debugger</h1>
      <PromptForm state={state} update={update} running={query.isFetching} draft={draft} setDraft={setDraft} />
      <InterventionBar state={state} update={update} strings={result?.tokenStrings.left} />
      <QueryStatus
        isPending={query.isPending}
        error={query.error}
        what="the node table"
        idle={run === null}
        idleText="Enter a prompt, at least one target and one distractor, then Run, or start from an investigation on the home page."
      >
        {result && (
          <>
            {stale && <StaleMarker complete={isComplete(draft)} />}
            <div className={stale ? "stale-results" : undefined}>
              {query.isPlaceholderData && query.isFetching && (
                <div className="status loading" role="status">
                  Updating…
                </div>
              )}
              <div className="summary-layout">
                <div>
                  <RunSummary
                    result={result}
                    tracing={state.trace !== null}
                    position={state.position}
                    onPosition={(position) => update({ position })}
                  />
                  <TokenHeatmaps result={result} tracing={state.trace !== null} />
                </div>
                <LogitsPanel result={result} />
              </div>
              <NodeTable rows={rows} sides={sides} state={state} update={update} actions={actions} />
              <div className="grid-2" style={{ marginTop: "0.8rem" }}>
                <VerifyPanel state={state} update={update} verification={result.verification} pending={query.isFetching} />
                <SamplingPanel state={acting} update={update} rows={rows} />
              </div>
              <LogitLensPanel state={state} update={update} />
            </div>
          </>
        )}
      </QueryStatus>
    </main>
  );
}
