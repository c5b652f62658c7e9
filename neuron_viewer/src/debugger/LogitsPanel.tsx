/** Next-token logits of each run, the targets and distractors pinned at the top. */
import type { Schemas } from "../api/client";
import { formatValue, visibleToken } from "../lib/format";

type TokenLogit = Schemas["TokenLogit"];

function pinnedFirst(logits: TokenLogit[]): TokenLogit[] {
  const pinned = logits.filter((l) => l.role !== null);
  return [...pinned, ...logits.filter((l) => !pinned.includes(l))];
}

function LogitTable({ logits, caption }: { logits: TokenLogit[]; caption: string }) {
  return (
    <table className="data" aria-label={caption}>
      <caption className="muted small" style={{ textAlign: "left" }}>
        {caption}
      </caption>
      <thead>
        <tr>
          <th className="num" title="rank among all tokens">#</th>
          <th>token</th>
          <th className="num">logit</th>
          <th className="num" title="probability">p</th>
        </tr>
      </thead>
      <tbody>
        {pinnedFirst(logits).map((l) => (
          <tr key={`${l.role ?? "top"}-${l.token}`} className={l.role ? "pinned" : undefined}>
            <td className="num">{l.rank + 1}</td>
            <td className="mono">
              {visibleToken(l.string)}{" "}
              {l.role && (
                <span className="muted small" title={l.role}>
                  {l.role === "target" ? "(T)" : "(D)"}
                </span>
              )}
            </td>
            <td className="num">{formatValue(l.logit)}</td>
            <td className="num">{l.probability === null ? "–" : `${(l.probability * 100).toFixed(1)}%`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function LogitsPanel({ result }: { result: Schemas["DebuggerResult"] }) {
  const right = result.topLogits.right;
  const rightName = result.rightRun === "baseline" ? "right: baseline" : "right: second prompt";
  return (
    <section className="panel" aria-labelledby="logits-heading">
      <h2 id="logits-heading">Next-token logits</h2>
      <p className="muted small">Targets (T) and distractors (D) pinned first, with their rank.</p>
      <div className="logit-tables">
        <LogitTable logits={result.topLogits.left} caption={right ? "left run" : "the prompt"} />
        {right && <LogitTable logits={right} caption={rightName} />}
      </div>
    </section>
  );
}
