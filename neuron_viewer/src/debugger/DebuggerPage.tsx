/** The debugger: why does the model predict the targets and not the distractors? All state
 * that matters lives in the URL (lib/urlState). */
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router-dom";
import { useDebuggerRun } from "../api/hooks";
import type { Side } from "../lib/metrics";
import { QueryStatus } from "../lib/QueryStatus";
import { decodeState, encodeState, type DebuggerState } from "../lib/urlState";
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

export function DebuggerPage() {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => decodeState(params), [params]);
  const update = useCallback(
    (change: Partial<DebuggerState>) => {
      const replace = Object.keys(change).every((k) => VIEW_ONLY.includes(k as keyof DebuggerState));
      setParams(encodeState({ ...state, ...change }), { replace });
    },
    [state, setParams],
  );
  const run = useMemo(() => buildRun(state), [state]);
  const query = useDebuggerRun(run);
  const result = query.data;
  const rows = useMemo(() => (result ? tableRows(result) : []), [result]);
  const sides: Side[] = result?.rightRun ? ["left", "diff", "right"] : ["left"];

  const actions: NodeActions = {
    ablate: (nodeId) => update({ ablations: [...state.ablations, { nodeId, value: "zero" }] }),
    trace: (nodeId, kind) => update({ trace: { nodeId, kind } }),
  };
  const formKey = [state.prompt, state.comparePrompt ?? "\u0001", ...state.targets, "\u0000", ...state.distractors].join("\u0002");

  return (
    <main className="page">
      <h1>Debugger</h1>
      <PromptForm key={formKey} state={state} update={update} running={query.isFetching} />
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
              <SamplingPanel state={state} update={update} rows={rows} />
            </div>
            <LogitLensPanel state={state} update={update} />
          </>
        )}
      </QueryStatus>
    </main>
  );
}
