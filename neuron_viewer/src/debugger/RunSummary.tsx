import type { Schemas } from "../api/client";
import { formatValue, visibleToken } from "../lib/format";

/** The objective of each run: the logit difference, or the traced quantity when tracing. */
export function RunSummary({ result, tracing }: { result: Schemas["DebuggerResult"]; tracing: boolean }) {
  const ld = result.logitDiff;
  const two = result.rightRun !== null;
  const rightName = result.rightRun === "baseline" ? "baseline" : "second prompt";
  return (
    <section className="panel" aria-label="Run summary">
      <div className="row" style={{ gap: "1.5rem" }}>
        <span>
          Logit difference{two ? " (left)" : ""}:{" "}
          <strong data-testid="logit-diff-left">{formatValue(ld.left)}</strong>
        </span>
        {two && (
          <>
            <span>
              right ({rightName}): <strong data-testid="logit-diff-right">{formatValue(ld.right)}</strong>
            </span>
            <span>
              diff: <strong data-testid="logit-diff-diff">{formatValue(ld.diff)}</strong>
            </span>
          </>
        )}
        {tracing && (
          <span>
            traced quantity: <strong>{formatValue(result.objectiveValue.left)}</strong>
            {two && <> / {formatValue(result.objectiveValue.right)}</>}
          </span>
        )}
      </div>
      <div className="small muted" style={{ marginTop: "0.3rem" }}>
        Explains the next token after token {result.position},{" "}
        <code>{visibleToken(result.tokenStrings.left[result.position] ?? "")}</code>, of{" "}
        {result.tokenStrings.left.length}.
      </div>
    </section>
  );
}
