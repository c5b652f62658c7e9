import type { Schemas } from "../api/client";
import { formatValue, visibleToken } from "../lib/format";
import { TokenStrip } from "../lib/TokenText";

interface Props {
  result: Schemas["DebuggerResult"];
  tracing: boolean;
  /** the chosen position (null: the last token) */
  position: number | null;
  onPosition: (position: number | null) => void;
}

/** The objective of each run: the logit difference, or the traced quantity when tracing; the
 * prompt's tokens, one of which (the last by default) is the explained position. */
export function RunSummary({ result, tracing, position, onPosition }: Props) {
  const n = result.tokenStrings.left.length;
  const choose = (p: number) => onPosition(p === n - 1 ? null : p);
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
        Explains the next token after token <span data-testid="explained-position">{result.position}</span>,{" "}
        <code>{visibleToken(result.tokenStrings.left[result.position] ?? "")}</code>, of{" "}
        {n}.
      </div>
      <div className="row small" style={{ marginTop: "0.3rem" }}>
        <TokenStrip
          strings={result.tokenStrings.left}
          highlight={result.position}
          onSelect={choose}
          label="Prompt tokens: choose the explained position"
        />
        <label htmlFor="position">position</label>
        <input
          id="position"
          type="number"
          min={0}
          max={n - 1}
          value={position ?? n - 1}
          style={{ width: "4.5rem" }}
          onChange={(e) => {
            const p = Number(e.target.value);
            if (e.target.value !== "" && Number.isInteger(p) && p >= 0 && p < n) choose(p);
          }}
        />
      </div>
    </section>
  );
}
